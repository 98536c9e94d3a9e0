"""``manage.py check_consent_ledger``: prove that every consent and preference equals the
replay of the ledger. Exit status 1 (and each difference listed) when one does not."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consents.models import ConsentEvent
from consents.services.ledger import current_states, ledger_check


class Command(BaseCommand):
    help = "Check that the current consents and preferences equal the replay of the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--party", type=int, action="append", help="Only these parties.")

    def handle(self, *args, **options) -> None:
        parties = options["party"]
        problems = ledger_check(parties)
        for problem in problems[:100]:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} consent state(s) differ from the ledger's replay.")
        self.stdout.write(
            f"OK: {len(current_states(parties)):,} consent and preference states equal the "
            f"replay of {ConsentEvent.objects.count():,} ledger entries."
        )
