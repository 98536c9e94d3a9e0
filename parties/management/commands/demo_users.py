"""``manage.py demo_users``: one demo login per role. Demo only: refused when DEBUG is off."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from parties.services.users import DEMO_USERS, demo_users_ensure


class Command(BaseCommand):
    help = "Create (or reset) the demo users, one per role, and print their credentials."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Create them even with DEBUG off (never on a real system)."
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Demo users have public passwords: refused with DEBUG off. "
                "Use --force only on a throw-away demo system."
            )
        demo_users_ensure()
        self.stdout.write("Demo logins (demo only, the passwords are public):")
        for spec in DEMO_USERS:
            self.stdout.write(f"  {spec.role:<13} user {spec.username:<10} password {spec.password}")
