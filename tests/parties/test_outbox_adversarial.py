"""An adversarial pass on the change-event outbox and the pull feed: readers racing writers
whose ids commit out of order, hostile feed parameters."""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import connection, transaction
from django.urls import reverse

from parties.models import ChangeEvent
from parties.selectors_events import change_events_after
from parties.services import outbox
from tests.factories import PartyFactory


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_a_feed_reader_racing_slow_writers_misses_no_event():
    # Given writers whose transactions take their ids, then wait a little before committing
    # (so ids commit out of order), and a reader polling with after=last_id meanwhile
    party_ids = [PartyFactory().pk for _ in range(4)]
    stop = threading.Event()
    errors: list[Exception] = []

    def write(party_id: int) -> None:
        try:
            for i in range(40):
                with transaction.atomic():
                    outbox.party_updated_event(party_id=party_id, fields=[f"f{i}"], actor=None)
                    time.sleep(random.uniform(0, 0.02))  # noqa: S311
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.append(exc)
        finally:
            connection.close()

    seen: list[int] = []

    def read() -> None:
        try:
            last = 0
            while True:
                done = stop.is_set()
                page = change_events_after(after=last, limit=7)
                seen.extend(e["id"] for e in page.events)
                last = page.last_id
                if done and not page.has_more:
                    return
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    writers = [threading.Thread(target=write, args=(pk,)) for pk in party_ids]
    reader = threading.Thread(target=read)
    reader.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join(timeout=60)

    # Then the reader saw every event exactly once, in increasing order
    assert errors == []
    everything = list(ChangeEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert len(everything) == 160
    assert seen == everything


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field",
    [
        ("after=%D9%A3", "after"),  # an Arabic-Indic three
        ("after=99999999999999999999999999", "after"),
        ("after=1&after=x", "after"),
        ("limit=%C2%B2", "limit"),
        ("party=0", "party"),
        ("type=party.created&type=nope", "type"),
        ("after=%00", "after"),
    ],
)
def test_hostile_feed_parameters_are_a_400_naming_them(role_client, query, field):
    response = role_client("steward").get(reverse("api:events") + "?" + query)

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


@pytest.mark.django_db
def test_a_type_repeated_many_times_is_answered_not_a_500(role_client):
    client = role_client("steward")
    many = client.get(reverse("api:events") + "?" + "&".join(["type=party.created"] * 900))
    too_many = client.get(reverse("api:events") + "?" + "&".join(["type=party.created"] * 2000))

    assert many.status_code == 200
    assert too_many.status_code == 400  # Django's limit on the number of parameters
