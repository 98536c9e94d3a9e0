"""``manage.py erase_party ID --reference PRIV-1234 [--yes]``: erase a customer (right to be
forgotten) from the command line, as the erase page does. Without ``--yes`` it only says what
would be erased."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consents.services.erasure import ErasureRefused, erasure_summary, party_erase
from parties.models import Party, SourceRecord
from parties.selectors import party_and_merged_ids, party_resolve


class Command(BaseCommand):
    help = "Erase a customer's personal data (right to be forgotten). Cannot be undone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("party", type=int, help="The party's id (a merged id means its survivor).")
        parser.add_argument(
            "--reference",
            required=True,
            help="The request's reference, e.g. a ticket number (kept in the audit trail).",
        )
        parser.add_argument("--yes", action="store_true", help="Really erase; without it, only show what.")

    def handle(self, *args, **options) -> None:
        try:
            party = party_resolve(pk=options["party"])  # a merged id stands for its survivor
        except Party.DoesNotExist:
            raise CommandError(f"There is no party {options['party']}.") from None
        if not options["reference"].strip():
            raise CommandError("--reference must name the request (e.g. a ticket number).")
        ids = party_and_merged_ids(party.pk)
        if not options["yes"]:
            records = SourceRecord.objects.filter(party_id__in=ids).count()
            self.stdout.write(
                f"Would erase party {party.pk} ({len(ids) - 1} merged into it, {records} "
                "source records). Run again with --yes to erase; this cannot be undone."
            )
            return
        try:
            result = party_erase(party_id=party.pk, reason=options["reference"])
        except ErasureRefused as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(erasure_summary(result))
