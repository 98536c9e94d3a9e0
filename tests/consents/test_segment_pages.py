"""The segment pages: list with live counts, the form with its preview, the member list, the
export download, and who may use them (marketing and administrators; not data stewards)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from consents.models import DataUsePurpose, Segment
from consents.services.ledger import Actor, consent_set
from consents.services.segments import segment_create
from parties.models import ContactPointAddress, ContactPointEmail, Engagement
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db
CAPTURED = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
A = Actor(label="test")


def _customer(name: str, *, country: str = "DE", consent: str | None = "opt_in", spent: str | None = None):
    party = PartyFactory(given_name=name, display_name=name)
    ContactPointAddress.objects.create(party=party, raw_value=name, normalized=name, country=country)
    ContactPointEmail.objects.create(
        party=party, raw_value=f"{name}@x.org", normalized=f"{name}@x.org", validity="valid", is_primary=True
    )
    if consent:
        consent_set(
            party_id=party.pk,
            channel="email",
            purpose="newsletter",
            status=consent,
            captured_at=CAPTURED,
            capture_source="web form",
            actor=A,
        )
    if spent:
        Engagement.objects.create(
            party=party,
            engagement_type="order",
            occurred_at=CAPTURED,
            amount=Decimal(spent),
            status="delivered",
        )
    return party


@pytest.fixture
def germany():
    return segment_create(
        name="Germany", description="Customers with an address in DE", filters={"country": "DE"}, user=None
    )


def _csv(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


@pytest.mark.parametrize("name", ["segment_list", "segment_create", "segment_preview"])
def test_stewards_are_refused_the_segment_pages_and_anonymous_users_must_sign_in(role_client, client, name):
    url = reverse(f"consents:{name}")
    assert client.get(url).status_code == 302 and "/accounts/login/" in client.get(url)["Location"]
    response = role_client("steward").get(url)
    assert response.status_code == 403


def test_a_data_steward_may_neither_open_nor_export_nor_change_a_segment(role_client, germany):
    client = role_client("steward")
    for name in ("segment_detail", "segment_edit", "segment_delete", "segment_count"):
        assert client.get(reverse(f"consents:{name}", args=[germany.pk])).status_code == 403, name
    export = reverse("consents:segment_export", args=[germany.pk])
    query = {"channel": "email", "purpose": "newsletter", "on": "2026-06-01"}
    assert client.get(export, query).status_code == 403
    assert client.post(reverse("consents:segment_delete", args=[germany.pk])).status_code == 403
    assert Segment.objects.filter(pk=germany.pk).exists()
    assert b">Segments<" not in client.get(reverse("home")).content


@pytest.mark.parametrize("role", ["marketing", "administrator"])
def test_marketing_and_administrators_see_segments_with_live_counts(role_client, germany, role):
    _customer("anna"), _customer("bert"), _customer("chloe", country="FR")
    client = role_client(role)

    page = client.get(reverse("consents:segment_list")).content.decode()
    count = client.get(reverse("consents:segment_count", args=[germany.pk])).content.decode()

    assert ">Segments<" in page and "Germany" in page and "address in DE" in page
    assert reverse("consents:segment_count", args=[germany.pk]) in page  # loaded after the page
    assert 'data-testid="segment-count">2<' in count


def test_marketing_creates_a_segment_from_the_form(role_client, marketer):
    purpose = DataUsePurpose.objects.get(code="newsletter")
    response = role_client("marketing").post(
        reverse("consents:segment_create"),
        {
            "name": "Newsletter DE",
            "description": "",
            "country": "de",
            "consent_channel": "email",
            "consent_purpose": purpose.pk,
            "ltv_min": "100",
            "valid_email": "yes",
        },
    )

    segment = Segment.objects.get(name="Newsletter DE")
    assert response.status_code == 302 and response["Location"] == segment.get_absolute_url()
    assert (segment.country, segment.consent_channel, segment.consent_purpose, segment.ltv_min) == (
        "DE",
        "email",
        purpose,
        Decimal("100"),
    )
    assert segment.created_by == marketer


def test_a_wrong_form_names_the_field_and_saves_nothing(role_client):
    response = role_client("marketing").post(
        reverse("consents:segment_create"),
        {
            "name": "Broken",
            "country": "XX",
            "ltv_min": "a lot",
            "last_engagement_after": "2026-05-01",
            "last_engagement_before": "2026-01-01",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200 and not Segment.objects.exists()
    assert 'data-field="country">“XX” is not a country code' in page
    assert 'data-field="ltv_min">Enter a number.' in page
    assert (
        'data-field="last_engagement_after">Must be earlier than “last engagement before” (2026-01-01)'
        in page
    )
    assert "Not saved" in page


def test_the_preview_counts_the_filters_being_edited_without_saving(role_client):
    _customer("anna", spent="300"), _customer("bert", spent="20")
    _customer("chloe", country="FR", spent="900")
    client = role_client("marketing")

    preview = client.get(reverse("consents:segment_preview"), {"country": "DE", "ltv_min": "100"})
    wrong = client.get(reverse("consents:segment_preview"), {"country": "DE", "ltv_min": "many"})
    fallback = client.post(
        reverse("consents:segment_create"), {"name": "x", "orders_min": "1", "preview": "1"}
    )

    assert 'data-testid="preview-count">1<' in preview.content.decode()
    assert "Correct the filters" in wrong.content.decode()
    assert 'data-testid="preview-count">3<' in fallback.content.decode()  # the no-JavaScript "Preview count"
    assert not Segment.objects.exists()


def test_the_segment_page_lists_members_with_their_figures_page_by_page(role_client, germany, monkeypatch):
    from consents import views

    monkeypatch.setattr(views, "SEGMENT_PAGE_SIZE", 2)
    anna = _customer("anna", spent="120.50")
    Engagement.objects.create(
        party=anna,
        engagement_type="return",
        amount=Decimal("20.50"),
        occurred_at=CAPTURED + dt.timedelta(days=3),
    )
    _customer("bert"), _customer("carl"), _customer("chloe", country="FR")
    client = role_client("marketing")

    first = client.get(reverse("consents:segment_detail", args=[germany.pk])).content.decode()
    second = client.get(reverse("consents:segment_detail", args=[germany.pk]), {"page": 2}).content.decode()

    assert 'data-testid="member-count">3<' in first and "Page 1 of 2" in first
    assert "anna@x.org" in first and "100.00" in first and "2026-01-13" in first and "bert" in first
    assert "carl" in second and "carl" not in first and "chloe" not in first + second


def test_the_export_downloads_the_eligible_members_only(role_client, germany):
    anna = _customer("anna")
    _customer("otto", consent="opt_out"), _customer("nina", consent=None), _customer("chloe", country="FR")
    evil = _customer("=SUM(A1)")
    client = role_client("marketing")
    query = {"channel": "email", "purpose": "newsletter", "on": "2026-06-01"}

    page = client.get(reverse("consents:segment_detail", args=[germany.pk]), query).content.decode()
    response = client.get(reverse("consents:segment_export", args=[germany.pk]), query)

    assert 'data-testid="eligible-count">2<' in page
    assert response["Content-Disposition"] == (
        'attachment; filename="segment-germany-email-newsletter-2026-06-01.csv"'
    )
    lines = _csv(response).splitlines()
    assert lines[0] == "party_id,name,channel,contact_point,consent"
    assert sorted(lines[1:]) == sorted(
        [f"{anna.pk},anna,email,anna@x.org,opt_in", f"{evil.pk},'=SUM(A1),email,'=SUM(A1)@x.org,opt_in"]
    )
    bad = client.get(reverse("consents:segment_export", args=[germany.pk]), {"channel": "pigeon"})
    assert bad.status_code == 400 and b"channel" in bad.content


def test_editing_and_deleting_a_segment(role_client, germany):
    client = role_client("administrator")
    edit = client.get(reverse("consents:segment_edit", args=[germany.pk])).content.decode()
    assert 'value="DE"' in edit and "Save changes" in edit

    client.post(reverse("consents:segment_edit", args=[germany.pk]), {"name": "France", "country": "FR"})
    germany.refresh_from_db()
    assert (germany.name, germany.country) == ("France", "FR")

    client.post(reverse("consents:segment_delete", args=[germany.pk]))
    assert not Segment.objects.exists()
