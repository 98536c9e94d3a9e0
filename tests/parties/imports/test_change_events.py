"""An import writes its change events (the outbox) in each batch's transaction."""

from __future__ import annotations

import pytest

from parties import models as m
from parties.models import ChangeEvent, ChangeEventType

pytestmark = pytest.mark.django_db

T = ChangeEventType


def test_an_import_writes_one_created_event_per_new_customer_and_an_updated_one_per_changed_row(run_import):
    header = "customer_id,first_name,last_name,email\n"
    first = run_import(header + "A1,Ann,Lee,ann@example.org\nA2,Bo,Berg,bo@example.org\n")
    second = run_import(header + "A1,Ann,Leigh,ann@example.org\nA2,Bo,Berg,bo@example.org\nA3,Cy,Doe,\n")

    created = ChangeEvent.objects.filter(type=T.PARTY_CREATED)
    assert created.count() == 3
    assert set(created.values_list("actor", flat=True)) == {f"import #{first.pk}", f"import #{second.pk}"}
    updated = ChangeEvent.objects.get(type=T.PARTY_UPDATED)
    ann = m.SourceRecord.objects.get(source_key="A1").party_id
    assert (updated.party_id, updated.actor, "family_name" in updated.data["fields"]) == (
        ann,
        f"import #{second.pk}",
        True,
    )
    assert updated.data["source_system_id"] == second.source_system_id
