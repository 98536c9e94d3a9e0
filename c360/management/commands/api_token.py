"""``manage.py api_token create --name NAME --role GROUP`` prints a new API token once;
``manage.py api_token revoke --name NAME`` revokes it; ``manage.py api_token list`` lists them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from c360.api_tokens import api_token_create, api_token_revoke
from c360.kernel.roles import ROLE_NAMES
from c360.models import ApiToken

COMMAND = "manage.py api_token"  # who, in the authentication audit


class Command(BaseCommand):
    help = "Create, revoke or list API tokens of other systems."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "revoke", "list"])
        parser.add_argument("--name", help="The client system, e.g. crm-sync.")
        parser.add_argument("--role", help=f"The role group it acts with: {', '.join(ROLE_NAMES)}.")

    def handle(self, *args, **options) -> None:
        action, name = options["action"], options["name"]
        if action == "list":
            for token in ApiToken.objects.all():
                state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
                used = (
                    f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
                )
                self.stdout.write(f"{token.name}\t{token.role}\t{token.key_prefix}…\t{state}\t{used}")
            return
        if not name:
            raise CommandError(f"api_token {action} needs --name.")
        try:
            if action == "create":
                if not options["role"]:
                    raise CommandError(f"api_token create needs --role (one of: {', '.join(ROLE_NAMES)}).")
                token, key = api_token_create(name=name, role=options["role"], actor_label=COMMAND)
                self.stdout.write(key)
                self.stderr.write(
                    f"Token for {token.name} ({token.role}). It is shown only now: store it in the "
                    "client's secrets. Send it as: Authorization: Token <token>"
                )
            else:
                api_token_revoke(name=name, actor_label=COMMAND)
                self.stdout.write(f"Revoked the token of {name}; its requests are refused from now on.")
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
