"""``manage.py erasure_files``: change the stored import files that erasures left pending (the
process died after an erasure committed, or the storage failed), as beat does every minute.
Says how many were done and how many are still pending."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from consents.services.erasure.files import files_pending_apply


class Command(BaseCommand):
    help = "Change the stored import files that erasures left pending (retried every minute by beat)."

    def handle(self, *args, **options) -> None:
        done, pending = files_pending_apply()
        self.stdout.write(f"{done} pending file erasures done, {pending} still pending.")
        if pending:
            raise CommandError(
                f"{pending} stored import files still hold rows of erased customers; "
                "see Pending file erasures in the admin and the log."
            )
