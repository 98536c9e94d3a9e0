from __future__ import annotations

import pytest
from django.core.management import call_command

from consents.models import ConsentEvent, ContactPointTypeConsent
from consents.services.ledger import ledger_check
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db


def test_demo_consents_go_through_the_ledger_once():
    for _ in range(30):
        PartyFactory()
    call_command("demo_consents", "--if-empty")
    written = ContactPointTypeConsent.objects.count()
    assert written > 10 and ConsentEvent.objects.count() >= written
    statuses = set(ContactPointTypeConsent.objects.values_list("status", flat=True))
    assert statuses <= {"opt_in", "opt_out", "seen"}
    assert ledger_check() == []
    call_command("demo_consents", "--if-empty")
    assert ContactPointTypeConsent.objects.count() == written
