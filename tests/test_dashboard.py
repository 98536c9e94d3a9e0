"""The data-quality dashboard: its figures equal direct queries on known data, the beat task
refreshes them, and each role sees what it may."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from c360.dashboard import selectors
from c360.dashboard.models import AttributeFigure, ConsentFigure, DashboardSnapshot, QualityIssueFigure
from c360.dashboard.services import REFRESH_SOON_KEY, dashboard_refresh, reason_kind
from consents.models import ConsentStatus, ContactPointTypeConsent, DataUsePurpose
from matching.models import MatchRun, MatchSuggestion, SuggestionStatus
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    DataQualityIssue,
    EventKind,
    PartyEvent,
    PartyKind,
    Validity,
)
from tests.factories import EmailFactory, PartyFactory, SourceRecordFactory, SourceSystemFactory, UserFactory

pytestmark = pytest.mark.django_db


def _record(source, *, birth_date="", kind="individual", **party):
    record = SourceRecordFactory(
        source_system=source,
        party=PartyFactory(**party),
        standardized={"kind": kind, "attributes": {"birth_date": birth_date}},
    )
    return record


def _email(record, normalized, validity=Validity.VALID):
    return EmailFactory(
        party=record.party,
        normalized=normalized,
        raw_value=normalized,
        validity=validity,
        source_record=record,
    )


def _figure(snapshot, attribute, source=None):
    return AttributeFigure.objects.get(snapshot=snapshot, attribute=attribute, source_system=source)


def test_it_computes_completeness_and_validity_per_attribute_overall_and_per_source():
    # Given source A with 3 records (two valid emails, one invalid) and source B with 2 records,
    # one of which reported the same email as an A record (a later reporter of that address)
    crm, shop = SourceSystemFactory(name="CRM"), SourceSystemFactory(name="Shop")
    a1, a2, a3 = (
        _record(crm, birth_date="1980-01-02"),
        _record(crm, birth_date=""),
        _record(crm, birth_date="1975-05-05"),
    )
    _email(a1, "a1@example.com")
    shared = _email(a2, "a2@example.com")
    _email(a3, "not-an-email", Validity.INVALID)
    b1 = SourceRecordFactory(
        source_system=shop, party=a2.party, standardized={"kind": "individual", "attributes": {}}
    )
    shared.other_source_records.add(b1)
    b2 = _record(shop, kind="organization", given_name="", family_name="", organization_name="Acme")
    b2.party.kind = PartyKind.ORGANIZATION
    b2.party.save()
    # phones: one in E.164, one valid-looking but not international, one invalid
    ContactPointPhone.objects.create(
        party=a1.party,
        raw_value="030 1234567",
        normalized="+49301234567",
        validity=Validity.VALID,
        source_record=a1,
    )
    ContactPointPhone.objects.create(
        party=a3.party, raw_value="1234567", normalized="1234567", validity=Validity.VALID, source_record=a3
    )
    ContactPointPhone.objects.create(
        party=b2.party, raw_value="999", normalized="999", validity=Validity.INVALID, source_record=b2
    )
    # addresses: one full, one without a postal code
    ContactPointAddress.objects.create(
        party=a1.party,
        raw_value="x",
        line1="Main St 1",
        postal_code="10115",
        city="Berlin",
        country="DE",
        normalized="full",
        source_record=a1,
    )
    ContactPointAddress.objects.create(
        party=b2.party,
        raw_value="y",
        line1="Side St 2",
        city="Paris",
        country="FR",
        normalized="partial",
        source_record=b2,
    )
    a1.party.birth_date = timezone.localdate() - timedelta(days=365 * 40)
    a1.party.save()

    # When the figures are refreshed
    snapshot = dashboard_refresh()

    # Then overall (4 active parties) they equal direct counts
    assert snapshot.parties_active == 4
    valid_email_parties = (
        ContactPointEmail.objects.filter(is_active=True, validity=Validity.VALID)
        .values("party")
        .distinct()
        .count()
    )
    email = _figure(snapshot, "email")
    assert (email.population, email.complete, email.valid) == (4, 3, valid_email_parties) == (4, 3, 2)
    phone = _figure(snapshot, "phone")
    assert (phone.complete, phone.valid) == (3, 1)  # only +49… is an E.164 phone
    address = _figure(snapshot, "address")
    assert (address.complete, address.valid) == (2, 1)
    birth = _figure(snapshot, "birth_date")
    assert (birth.population, birth.valid) == (3, 1)  # individuals only; the golden birth date
    # and per source, what each source's records delivered
    crm_email, shop_email = _figure(snapshot, "email", crm), _figure(snapshot, "email", shop)
    assert (crm_email.population, crm_email.complete, crm_email.valid) == (3, 3, 2)
    # b1 reported the shared address as a later reporter
    assert (shop_email.population, shop_email.complete, shop_email.valid) == (2, 1, 1)
    assert _figure(snapshot, "birth_date", crm).valid == 2  # from the records' standardized values
    assert _figure(snapshot, "birth_date", shop).population == 1  # the organization is left out
    assert (_figure(snapshot, "phone", shop).complete, _figure(snapshot, "phone", shop).valid) == (1, 0)
    per_source = {f.source_system_id: (f.records, f.parties) for f in snapshot.sources.all()}
    assert per_source == {crm.pk: (3, 3), shop.pk: (2, 2)}
    # and the attention counts agree with the live ones
    assert snapshot.invalid_emails == 1 and snapshot.invalid_phones == 1
    assert snapshot.unreachable_parties == 0


def test_the_percentages_shown_come_from_the_figures(role_client):
    crm = SourceSystemFactory(name="CRM")
    for i in range(4):
        _email(_record(crm), f"p{i}@example.com", Validity.VALID if i else Validity.INVALID)
    dashboard_refresh()

    rows = selectors.attribute_rows(selectors.snapshot_latest(), [crm])
    email = next(r for r in rows if r.attribute == "email")
    assert email.overall.valid_pct == 75 and email.per_source[0].valid_pct == 75
    assert email.per_source[0].url == f"{reverse('parties:list')}?contact=invalid_email&source={crm.pk}"
    page = role_client("steward").get(reverse("home")).content.decode()
    assert "75.0%" in page


def test_it_counts_unreachable_parties_like_the_party_list_filter(role_client):
    PartyFactory(display_name="Nobody")
    reachable = PartyFactory()
    EmailFactory(party=reachable)
    snapshot = dashboard_refresh()
    listed = role_client("steward").get(reverse("parties:list"), {"reachability": "none"})
    assert snapshot.unreachable_parties == len(listed.context["object_list"]) == 1
    # and the home page's attention items now read the snapshot
    items = {i.title: i.count for i in role_client("steward").get(reverse("home")).context["summary"].items}
    assert items["Parties nobody can contact"] == 1


def test_data_quality_issues_are_grouped_by_kind_of_reason_and_link_to_a_list(role_client):
    crm = SourceSystemFactory(name="CRM")
    first, second, third = _record(crm), _record(crm), _record(crm)
    DataQualityIssue.objects.create(
        source_record=first, field="country", value="Xy", reason="unknown country 'Xy'"
    )
    DataQualityIssue.objects.create(
        source_record=second, field="country", value="Zz", reason="unknown country 'Zz'"
    )
    DataQualityIssue.objects.create(
        source_record=third,
        field="email",
        value="a@",
        reason="invalid email: There must be something after the @-sign.",
    )
    snapshot = dashboard_refresh()

    figures = {(f.field, f.reason): f.count for f in QualityIssueFigure.objects.filter(snapshot=snapshot)}
    assert figures == {("country", "unknown country"): 2, ("email", "invalid email"): 1}
    assert snapshot.quality_issues == DataQualityIssue.objects.count() == 3
    row = next(r for r in selectors.issue_rows(snapshot) if r.field == "country")
    listed = role_client("steward").get(row.url)
    assert listed.status_code == 200
    assert {i.source_record_id for i in listed.context["page"]} == {first.pk, second.pk}
    assert reverse("parties:detail", args=[first.party_id]) in listed.content.decode()


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("not a valid phone number for its country", "not a valid phone number for its country"),
        ("unknown gender 'x'", "unknown gender"),
        ("unreadable phone number: (0) Missing or invalid default region.", "unreadable phone number"),
        ("", "unspecified"),
    ],
)
def test_reason_kind_drops_the_value_and_the_detail(reason, kind):
    assert reason_kind(reason) == kind
    assert not reason or reason.startswith(kind)


def test_consent_coverage_counts_each_status_in_effect_over_active_parties():
    marketing = DataUsePurpose.objects.get(code="marketing")
    parties = [PartyFactory() for _ in range(5)]
    now = timezone.now()

    def consent(party, status, **extra):
        ContactPointTypeConsent.objects.create(
            party=party,
            channel="email",
            purpose=marketing,
            status=status,
            captured_at=now,
            capture_source="test",
            **extra,
        )

    consent(parties[0], ConsentStatus.OPT_IN)
    consent(parties[1], ConsentStatus.OPT_IN)
    consent(parties[2], ConsentStatus.OPT_OUT)
    consent(parties[3], ConsentStatus.OPT_IN, effective_to=now - timedelta(days=1))  # lapsed: not seen
    erased = PartyFactory(erased_at=now)  # neither counted nor in the population
    consent(erased, ConsentStatus.OPT_IN)

    snapshot = dashboard_refresh()

    email = ConsentFigure.objects.get(snapshot=snapshot, channel="email", purpose=marketing)
    assert (email.parties, email.opt_in, email.opt_out, email.seen, email.not_seen) == (5, 2, 1, 0, 2)
    sms = ConsentFigure.objects.get(snapshot=snapshot, channel="sms", purpose=marketing)
    assert (sms.opt_in, sms.not_seen) == (0, 5)
    # the chart's cell shows the same rates
    _, rows = selectors.consent_rows(snapshot, user=UserFactory(is_superuser=True))
    cell = next(r for r in rows if r.purpose == marketing).cells[0]
    assert (cell.pct(cell.opt_in), cell.pct(cell.opt_out)) == (40, 20)
    assert "channel=email" in cell.url and "purpose=marketing" in cell.url


def _suggestion(run, *, status, by=None, at=None):
    suggestion = MatchSuggestion.objects.create(run=run, score=0.9, status=status)
    if at:
        MatchSuggestion.objects.filter(pk=suggestion.pk).update(decided_at=at, decided_by=by)
    return suggestion


def test_throughput_counts_decisions_per_day_per_steward():
    # Given two stewards deciding suggestions yesterday and today, and an automatic merge
    sam, kim = UserFactory(username="sam"), UserFactory(username="kim", first_name="Kim", last_name="K")
    run = MatchRun.objects.create()
    today = timezone.now()
    yesterday = today - timedelta(days=1)
    for when, by, status in [
        (today, sam, SuggestionStatus.MERGED),
        (today, sam, SuggestionStatus.REJECTED),
        (yesterday, sam, SuggestionStatus.MERGED),
        (today, kim, SuggestionStatus.MERGED),
        (today, None, SuggestionStatus.MERGED),
    ]:
        _suggestion(run, status=status, by=by, at=when)
    _suggestion(run, status=SuggestionStatus.PENDING)

    result = selectors.throughput()

    rows = {row.name: row.values for row in result.stewards}
    assert set(rows) == {"sam", "Kim K"}
    assert rows["sam"][-2:] == [1, 2] and rows["Kim K"][-2:] == [0, 1]
    assert result.stewards[0].name == "sam" and result.stewards[0].total == 3


def test_activity_counts_suggestions_merges_and_rejections_per_day(steward):
    run = MatchRun.objects.create()
    _suggestion(run, status=SuggestionStatus.PENDING)
    _suggestion(run, status=SuggestionStatus.REJECTED, by=steward, at=timezone.now())
    survivor = PartyFactory()
    for kind in (EventKind.MERGE, EventKind.MERGE, EventKind.AUTO_MERGE, EventKind.UNMERGE):
        PartyEvent.objects.create(kind=kind, party=survivor, actor_label="test")
    old = PartyEvent.objects.create(kind=EventKind.MERGE, party=survivor, actor_label="test")
    PartyEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=60))

    result = selectors.activity()

    today = (result.created[-1], result.merged[-1], result.auto_merged[-1], result.rejected[-1])
    assert today == (2, 2, 1, 1)
    assert sum(result.merged) == 2  # the one 60 days ago is outside the chart
    assert result.pending == 1 and len(result.days) == 30


def test_the_beat_task_replaces_the_figures():
    from c360.celery import app
    from c360.dashboard.tasks import dashboard_refresh_task

    old = dashboard_refresh()
    PartyFactory()

    dashboard_refresh_task.apply().get()

    snapshot = DashboardSnapshot.objects.get()  # only the latest is kept
    assert snapshot.pk != old.pk and snapshot.parties_active == 1
    schedule = app.conf.beat_schedule["dashboard-refresh"]
    assert schedule["task"] == dashboard_refresh_task.name


def test_an_import_batch_enqueues_one_refresh_soon():
    from parties.extensions import parties_changed_notify

    cache.delete(REFRESH_SOON_KEY)
    with mock.patch("c360.dashboard.tasks.dashboard_refresh_task.apply_async") as enqueue:
        parties_changed_notify([1], reason="import")
        parties_changed_notify([2], reason="import")  # a second batch: already queued
        parties_changed_notify([3], reason="merge")
    assert enqueue.call_count == 1
    cache.delete(REFRESH_SOON_KEY)


CHARTS = [
    "chart-sources",
    "chart-activity",
    "chart-completeness",
    "chart-issues",
    "chart-consent-coverage",
    "chart-throughput",
]


@pytest.fixture
def known_data(steward):
    crm = SourceSystemFactory(name="CRM")
    record = _record(crm)
    _email(record, "x@example.com", Validity.INVALID)
    DataQualityIssue.objects.create(source_record=record, field="email", value="x", reason="invalid email: x")
    ContactPointTypeConsent.objects.create(
        party=record.party,
        channel="email",
        purpose=DataUsePurpose.objects.get(code="newsletter"),
        status=ConsentStatus.OPT_IN,
        captured_at=timezone.now(),
        capture_source="test",
    )
    _suggestion(MatchRun.objects.create(), status=SuggestionStatus.MERGED, by=steward, at=timezone.now())
    return dashboard_refresh()


@pytest.mark.parametrize("role", ["steward", "administrator"])
def test_stewards_and_administrators_get_the_dashboard_with_its_charts(role_client, known_data, role):
    response = role_client(role).get(reverse("home"))

    page = response.content.decode()
    assert response.status_code == 200
    for chart in CHARTS:
        assert f'data-testid="{chart}"' in page, chart
    assert page.count("<svg") >= len(CHARTS) and "<title" in page
    assert 'data-testid="figures-as-of"' in page
    assert ('data-testid="refresh-now"' in page) is (role == "administrator")
    # the "needs attention" items are still there
    assert {i.title for i in response.context["summary"].items} >= {
        "Invalid email addresses",
        "Parties nobody can contact",
    }


def test_marketing_gets_attention_and_consent_coverage_but_not_the_dashboard(role_client, known_data):
    client = role_client("marketing")

    page = client.get(reverse("home")).content.decode()

    assert 'data-testid="chart-consent-coverage"' in page
    assert 'data-testid="chart-completeness"' not in page and 'data-testid="chart-throughput"' not in page
    assert 'data-testid="attention"' in page
    assert client.get(reverse("dashboard:issues")).status_code == 403
    assert client.post(reverse("dashboard:refresh")).status_code == 403


def test_a_steward_may_not_refresh_but_an_administrator_may(role_client, known_data):
    assert role_client("steward").post(reverse("dashboard:refresh")).status_code == 403
    with mock.patch("c360.dashboard.tasks.dashboard_refresh_task.delay") as enqueue:
        response = role_client("administrator").post(reverse("dashboard:refresh"))
    assert response.status_code == 302 and enqueue.call_count == 1
    assert role_client("administrator").get(reverse("dashboard:refresh")).status_code == 405


@pytest.mark.parametrize("name", ["home", "dashboard:issues", "dashboard:refresh"])
def test_anonymous_users_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_before_the_first_refresh_the_dashboard_says_so_and_counts_live(role_client):
    PartyFactory()
    response = role_client("administrator").get(reverse("home"))
    assert response.status_code == 200
    assert "have not been computed yet" in response.content.decode()
    assert response.context["summary"].parties_active == 1


def test_clicking_refresh_many_times_queues_one_refresh_until_a_worker_starts_it(role_client):
    # each click queued a full recomputation: 250 clicks kept a worker busy for an hour
    from c360.dashboard.services import REFRESH_NOW_KEY
    from c360.dashboard.tasks import dashboard_refresh_task

    cache.delete(REFRESH_NOW_KEY)
    client = role_client("administrator")
    try:
        pages = [client.post(reverse("dashboard:refresh"), follow=True) for _ in range(3)]
        said = [[str(m) for m in page.context["messages"]] for page in pages]
        assert said[0] == ["The figures are being refreshed; reload the page in a minute."]
        assert (
            said[1]
            == said[2]
            == ["A refresh of the figures is already on its way; reload the page in a minute."]
        )
        dashboard_refresh_task.apply()  # a worker starts it: the next click queues another
        again = client.post(reverse("dashboard:refresh"), follow=True)
        assert [str(m) for m in again.context["messages"]] == said[0]
    finally:
        cache.delete(REFRESH_NOW_KEY)


def test_the_role_groups_keep_the_dashboard_permissions_after_it_became_its_own_app():
    """c360.0004 granted them to the c360 app's models; dashboard.0001 moves the content types, so
    the grants hold under the dashboard's label (they were lost when only the state moved)."""
    from django.contrib.auth.models import Group

    def codenames(group: str) -> set[str]:
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=group).permissions.filter(codename__contains="dashboardsnapshot")
        }

    assert codenames("Data steward") == {"dashboard.view_dashboardsnapshot"}
    assert codenames("Administrator") == {
        "dashboard.view_dashboardsnapshot",
        "dashboard.refresh_dashboardsnapshot",
    }
