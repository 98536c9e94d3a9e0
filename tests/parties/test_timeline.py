"""The party page's one timeline: touch points, consent and preference changes from the ledger,
contact-detail edits and steward actions from the audit trail, newest first, with type chips,
pages across the sources, the absorbed parties' entries, and nothing of an erased person."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
from django.utils import timezone

from consents.models import ConsentEvent, DataUsePurpose
from consents.services.erasure import party_erase
from consents.services.ledger import Actor, consent_set, preferences_set
from parties.models import Engagement, PartyEvent
from parties.selectors_timeline import party_timeline
from parties.services.contact_points import contact_point_correct
from parties.services.merge import party_merge
from parties.services.overrides import golden_override_set
from tests.factories import EmailFactory, PartyFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def _ago(hours: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours)


def _purpose() -> DataUsePurpose:
    return DataUsePurpose.objects.filter(is_active=True).order_by("pk").first()


def _consent(party, status: str, hours: float, user, source: str = "preference centre") -> ConsentEvent:
    consent_set(
        party_id=party.pk,
        channel="email",
        purpose=_purpose().code,
        status=status,
        capture_source=source,
        actor=Actor.of_user(user),
        captured_at=_ago(hours),
    )
    event = ConsentEvent.objects.filter(party_id=party.pk).latest("id")
    ConsentEvent.objects.filter(pk=event.pk).update(occurred_at=_ago(hours))  # when it was recorded
    return event


def _dated(event: PartyEvent, hours: float) -> PartyEvent:
    PartyEvent.objects.filter(pk=event.pk).update(created_at=_ago(hours))
    return event


def _touch(party, kind: str, hours: float, **extra) -> Engagement:
    return Engagement.objects.create(party=party, engagement_type=kind, occurred_at=_ago(hours), **extra)


def _timeline(response) -> str:
    body = response.content.decode()
    start = body.index('data-testid="timeline"')
    return body[start : body.index("</section>", start)]


def _rows(section: str) -> list[str]:
    return re.findall(r'data-testid="(?:engagement|timeline-entry)" data-type="(\w+)"', section)


def _text(section: str) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section)))


@pytest.fixture
def ada(steward, marketer):
    """A customer with all four kinds: an order (4 days ago), an opt-out (3), an email
    corrected (2), a merge (1), a web visit (an hour ago)."""
    ada = PartyFactory(given_name="Ada", family_name="Lovelace", display_name="Ada Lovelace")
    email = EmailFactory(party=ada, raw_value="ada@exmaple.com", normalized="ada@exmaple.com")
    twin = PartyFactory(given_name="Ada", family_name="Lovelace", display_name="Ada Lovelace")
    _touch(ada, "order", 96, external_id="ORD-1")
    _consent(ada, "opt_in", 80, marketer)
    _consent(ada, "opt_out", 72, marketer)
    contact_point_correct(kind="email", point_id=email.pk, value="ada@example.com", actor=marketer)
    _dated(PartyEvent.objects.filter(kind="contact_point").latest("id"), 48)
    _dated(party_merge(party_ids=[ada.pk, twin.pk], survivor_id=ada.pk, actor=steward, score=0.93), 24)
    ConsentEvent.objects.filter(occurred_at__gt=_ago(30)).update(occurred_at=_ago(24))  # the merge's own
    _touch(ada, "web_visit", 1, external_id="VIS-1")
    ada.twin = twin
    return ada


def test_the_four_kinds_are_interleaved_newest_first_with_who_and_a_link(role_client, ada, marketer):
    section = _timeline(role_client("steward").get(ada.get_absolute_url()))

    assert _rows(section) == ["web_visit", "steward", "contact", "consent", "consent", "order"]
    text = _text(section)
    assert f"Merged with #{ada.twin.pk} (score 0.93) · by t-steward" in text
    assert "Email corrected · by t-marketing" in text
    purpose = _purpose().name
    assert f"Consent: Email · {purpose}: Opted in → Opted out (via preference centre) · by t-marketing" in (
        text
    )
    assert f"Consent: Email · {purpose}: Not seen → Opted in" in text
    assert f'href="/parties/{ada.pk}/history/"' in section
    assert f'href="/consents/parties/{ada.pk}/"' in section
    # the correction's values live on the history page, not here
    assert "exmaple" not in section


def test_the_chips_filter_by_kind_and_count_them(role_client, ada):
    client = role_client("steward")

    section = _timeline(client.get(ada.get_absolute_url()))
    chips = dict(re.findall(r'data-type="(\w+)" href[^>]*>[^<]*<span class="count">(\d+)</span>', section))
    consents = ConsentEvent.objects.filter(party_id__in=[ada.pk, ada.twin.pk]).count()
    assert chips == {"order": "1", "web_visit": "1", "consent": str(consents), "contact": "1", "steward": "1"}

    assert set(_rows(_timeline(client.get(ada.get_absolute_url(), {"type": "consent"})))) == {"consent"}
    assert _rows(_timeline(client.get(ada.get_absolute_url(), {"type": "steward"}))) == ["steward"]
    by_label = _timeline(client.get(ada.get_absolute_url(), {"type": "Contact details,order"}))
    assert _rows(by_label) == ["contact", "order"]
    unknown = _timeline(client.get(ada.get_absolute_url(), {"type": ["pizza", "contact"]}))
    assert "Unknown engagement type: pizza" in unknown and _rows(unknown) == ["contact"]
    # htmx asks for the section alone
    partial = client.get(
        ada.get_absolute_url(), {"type": "steward"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="timeline"
    )
    assert partial.content.decode().lstrip().startswith("<section") and _rows(partial.content.decode()) == [
        "steward"
    ]


def test_pages_run_across_the_sources_in_time_order_without_gaps_or_repeats(steward, marketer):
    party = PartyFactory()
    Engagement.objects.bulk_create(
        [Engagement(party=party, engagement_type="order", occurred_at=_ago(3 * i)) for i in range(70)]
    )
    statuses = ("opt_in", "opt_out")
    consents = [_consent(party, statuses[i % 2], 3 * i + 1, marketer) for i in reversed(range(25))]
    events = []
    for i in range(12):
        golden_override_set(party_id=party.pk, attribute="given_name", value=f"N{i}", actor=steward)
        events.append(_dated(PartyEvent.objects.latest("id"), 3 * i + 2))
    expected = sorted(
        [(e.occurred_at, "order") for e in Engagement.objects.filter(party=party)]
        + [(_ago(3 * i + 1), "consent") for i in range(len(consents))]
        + [(_ago(3 * i + 2), "steward") for i in range(len(events))],
        reverse=True,
    )

    seen = []
    for page in range(1, 6):
        result = party_timeline(user=steward, party=party, type_values=[], page=page, per_page=23)
        seen += [(entry.at, entry.type) for entry in result.page.object_list]
    assert result.page.paginator.num_pages == 5 and result.total == 107
    assert seen == [(at, "order" if kind == "order" else kind) for at, kind in expected]

    # One source alone pages by offset in the database, with the same result.
    only = party_timeline(user=steward, party=party, type_values=["consent"], page=2, per_page=10)
    assert [entry.at for entry in only.page.object_list] == [_ago(3 * i + 1) for i in range(10, 20)]
    # An out-of-range page shows the last one.
    last = party_timeline(user=steward, party=party, type_values=[], page=99, per_page=23)
    assert last.page.number == 5 and [(e.at, e.type) for e in last.page.object_list] == seen[92:]


def test_a_merged_customer_shows_what_happened_to_the_absorbed_party_before(role_client, steward, marketer):
    ada, twin = PartyFactory(), PartyFactory()
    email = EmailFactory(party=twin, raw_value="twin@example.com", normalized="twin@example.com")
    _touch(twin, "case", 50, external_id="CASE-7")
    _consent(twin, "opt_in", 40, marketer, source="web form")
    contact_point_correct(kind="email", point_id=email.pk, value="twin@example.org", actor=marketer)
    party_merge(party_ids=[ada.pk, twin.pk], survivor_id=ada.pk, actor=steward)

    section = _timeline(role_client("steward").get(ada.get_absolute_url()))

    rows = _rows(section)
    assert {"case", "consent", "contact", "steward"} <= set(rows)
    assert "CASE-7" in section  # the touch point moved with the merge
    assert f'href="/consents/parties/{twin.pk}/"' in section  # the twin's own ledger entry
    assert f'href="/parties/{twin.pk}/history/"' in section  # the twin's own contact edit
    # The twin's page, after an unmerge, would show "Merged into #ada": seen from the twin now.
    twin_view = party_timeline(user=steward, party=twin, type_values=["steward"])
    assert [e.text for e in twin_view.page.object_list] == [f"Merged into #{ada.pk}"]


def test_an_erased_customer_s_timeline_shows_no_value_of_theirs(
    role_client, steward, marketer, administrator
):
    ada = PartyFactory(given_name="Augusta", family_name="Byron", display_name="Augusta Byron")
    email = EmailFactory(party=ada, raw_value="augusta@example.com", normalized="augusta@example.com")
    _consent(ada, "opt_in", 5, marketer, source="call with Augusta's husband William")
    preferences_set(
        party_id=ada.pk,
        changes={"preferred_language": "de-AT", "interests": ["poetry"]},
        actor=Actor.of_user(marketer),
        capture_source="Augusta on the phone",
    )
    contact_point_correct(kind="email", point_id=email.pk, value="augusta.byron@example.com", actor=marketer)
    golden_override_set(party_id=ada.pk, attribute="given_name", value="Ada", actor=steward, reason="Augusta")
    before = _text(_timeline(role_client("steward").get(ada.get_absolute_url())))
    assert "call with Augusta's husband William" in before and "de-AT" in before  # shown while kept

    party_erase(party_id=ada.pk, actor=administrator, reason="PRIV-9")

    section = _timeline(role_client("steward").get(ada.get_absolute_url()))
    text = _text(section)
    for value in ("Augusta", "Byron", "augusta", "William", "de-AT", "poetry", "Ada", "PRIV-9"):
        assert value not in text, value
    assert "Erased on request" in text and "Email corrected" in text and "Override: given name pinned" in text
    assert "Preferences changed: Preferred language, Interests" in text  # names, no values
    assert "Preferences changed: Do not process, Do not profile" in text  # the erasure's own


def test_roles_see_only_the_entries_they_may(client, role_client, ada):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_party"))
    client.force_login(viewer)
    assert _rows(_timeline(client.get(ada.get_absolute_url()))) == ["web_visit", "order"]
    marketing = _rows(_timeline(role_client("marketing").get(ada.get_absolute_url())))
    assert {"consent", "contact", "steward"} <= set(marketing)


def test_the_page_costs_a_fixed_number_of_queries(role_client, ada, django_assert_max_num_queries):
    client = role_client("steward")
    client.get(ada.get_absolute_url())  # sessions, permissions cached
    Engagement.objects.bulk_create(
        [
            Engagement(party=ada, engagement_type="web_visit", occurred_at=_ago(2 + i / 10))
            for i in range(2000)
        ]
    )
    with django_assert_max_num_queries(40):
        page = client.get(ada.get_absolute_url(), {"page": "30"})
    assert "Page 30 of 41" in page.content.decode()
    with django_assert_max_num_queries(40):
        client.get(ada.get_absolute_url(), {"type": "web_visit,steward", "page": "3"})
