"""Each role group can do its job and is refused (HTTP 403, not a crash) what it may not."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from parties.models import SourceSystem
from tests.factories import EmailFactory, PartyFactory, SourceRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def party():
    party = PartyFactory(given_name="Ada", family_name="Lovelace", display_name="Ada Lovelace")
    EmailFactory(party=party, raw_value="ada@example.com", normalized="ada@example.com")
    SourceRecordFactory(party=party, raw_payload={"source_key": "A1", "secret_col": "RAW-ONLY"})
    return party


# (role, url name, args, expected status)
PAGE_MATRIX = [
    ("steward", "parties:list", [], 200),
    ("marketing", "parties:list", [], 200),
    ("administrator", "parties:list", [], 200),
    ("steward", "parties:sources", [], 200),
    ("marketing", "parties:sources", [], 403),
    ("administrator", "parties:sources", [], 200),
    ("steward", "parties:source_create", [], 403),
    ("marketing", "parties:source_create", [], 403),
    ("administrator", "parties:source_create", [], 200),
]


@pytest.mark.parametrize(("role", "name", "args", "status"), PAGE_MATRIX)
def test_it_gives_each_role_its_pages_and_refuses_the_rest(role_client, role, name, args, status):
    response = role_client(role).get(reverse(name, args=args))
    assert response.status_code == status
    if status == 403:
        assert b"You don't have access to this page" in response.content


@pytest.mark.parametrize("role", ["steward", "marketing", "administrator"])
def test_it_shows_every_role_the_party_page(role_client, party, role):
    response = role_client(role).get(reverse("parties:detail", args=[party.pk]))
    assert response.status_code == 200
    assert b"Ada Lovelace" in response.content
    assert b"ada@example.com" in response.content


def test_it_shows_raw_payloads_to_stewards_but_not_to_marketing(role_client, party):
    url = reverse("parties:detail", args=[party.pk])
    assert b"RAW-ONLY" in role_client("steward").get(url).content
    assert b"RAW-ONLY" not in role_client("marketing").get(url).content


def test_it_lets_an_administrator_register_a_source_system(role_client):
    response = role_client("administrator").post(
        reverse("parties:source_create"),
        {
            "name": "Shopify",
            "kind": "ecommerce",
            "data_category": "1p",
            "trust_rank": 20,
            "default_region": "de",
            "date_order": "DMY",
            "description": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    source = SourceSystem.objects.get(name="Shopify")
    assert (source.default_region, source.trust_rank) == ("DE", 20)


def test_it_refuses_a_steward_registering_a_source_system_and_writes_nothing(role_client):
    response = role_client("steward").post(
        reverse("parties:source_create"),
        {
            "name": "Sneaky",
            "kind": "crm",
            "data_category": "1p",
            "trust_rank": 1,
            "default_region": "US",
            "date_order": "YMD",
        },
    )
    assert response.status_code == 403
    assert not SourceSystem.objects.filter(name="Sneaky").exists()


def test_it_names_the_field_when_a_source_system_form_is_wrong(role_client):
    response = role_client("administrator").post(
        reverse("parties:source_create"),
        {
            "name": "Bad",
            "kind": "crm",
            "data_category": "1p",
            "trust_rank": 500,
            "default_region": "XX",
            "date_order": "YMD",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"trust_rank", "default_region"}
    assert "XX" in form.errors["default_region"][0]
    assert not SourceSystem.objects.filter(name="Bad").exists()


def test_it_lets_only_administrators_into_the_django_admin(role_client):
    assert role_client("administrator").get("/admin/parties/sourcesystem/").status_code == 200
    response = role_client("marketing").get("/admin/parties/sourcesystem/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_role_groups_hold_the_permissions_their_jobs_need():
    steward = {p.codename for p in Group.objects.get(name="Data steward").permissions.all()}
    marketing = {p.codename for p in Group.objects.get(name="Marketing").permissions.all()}
    admin = {p.codename for p in Group.objects.get(name="Administrator").permissions.all()}
    assert {"view_party", "change_party", "merge_party", "view_sourcerecord"} <= steward
    assert not {"add_sourcesystem", "delete_party"} & steward
    assert {"view_party", "change_contactpointemail", "add_contactpointphone"} <= marketing
    assert not {"change_party", "merge_party", "view_sourcerecord", "view_sourcesystem"} & marketing
    assert {
        "add_sourcesystem",
        "change_sourcesystem",
        "delete_sourcerecord",
        "merge_party",
        "add_user",
    } <= admin


def test_a_user_without_a_role_sees_no_party_data(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("parties:list")).status_code == 403
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert b"ask an administrator" in home.content
