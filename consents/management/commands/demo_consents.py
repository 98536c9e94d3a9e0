"""``manage.py demo_consents``: consents and preferences for the demo's customers (demo only),
written through the ledger like any change, so the preference pages, eligibility lists and
the merge queue's consent conflicts have something to show."""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from consents.models import ActorKind, ContactPointTypeConsent
from consents.services.ledger import Actor, consent_set, preferences_set
from parties.models import Party

SOURCES = [
    "web shop checkout",
    "newsletter sign-up form",
    "call centre",
    "store tablet",
    "email platform unsubscribe",
]


class Command(BaseCommand):
    help = "Give the demo's customers consents and preferences (once; demo only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when consents exist.")

    def handle(self, *args, **options) -> None:
        if options["if_empty"] and ContactPointTypeConsent.objects.exists():
            self.stdout.write("Consents exist already; nothing to do.")
            return
        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not secrets
        actor = Actor(kind=ActorKind.SYSTEM, label="demo data")
        now = timezone.now()
        count = 0
        for party_id in Party.objects.active().order_by("pk").values_list("pk", flat=True):
            for channel, purpose, chance in (
                ("email", "newsletter", 0.6),
                ("email", "marketing", 0.4),
                ("sms", "marketing", 0.2),
                ("email", "profiling", 0.2),
            ):
                if rng.random() > chance:
                    continue
                status = rng.choices(["opt_in", "opt_out", "seen"], weights=(6, 3, 1))[0]
                consent_set(
                    party_id=party_id,
                    channel=channel,
                    purpose=purpose,
                    status=status,
                    captured_at=now - timedelta(days=rng.randint(1, 900)),
                    capture_source=rng.choice(SOURCES),
                    actor=actor,
                )
                count += 1
            if rng.random() < 0.08:
                preferences_set(
                    party_id=party_id,
                    actor=actor,
                    changes={
                        "do_not_solicit": rng.random() < 0.5,
                        "contact_frequency": rng.choice(["", "monthly"]),
                    },
                )
        self.stdout.write(f"Demo consents: {count:,} consent decisions written through the ledger.")
