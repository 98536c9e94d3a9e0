"""Changes of the survivorship rules and of source systems are recorded (who, old → new) and
listed where they are edited (issue 19 item 11), for every caller; a refused change records
nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from c360.kernel.models import SettingChange
from parties.models import GOLDEN_ATTRIBUTE_CHOICES, SourceSystem
from parties.services.sources import SOURCE_SYSTEM_SETTING, source_system_create, source_system_update
from parties.services.survivorship import SURVIVORSHIP_SETTING, survivorship_rules_save
from tests.factories import SourceSystemFactory

pytestmark = pytest.mark.django_db


def _changes(setting, object_id=None):
    rows = SettingChange.objects.filter(setting=setting).order_by("pk")
    if object_id is not None:
        rows = rows.filter(object_id=str(object_id))
    return [(c.field, c.old, c.new, c.changed_by_label) for c in rows]


def _rules(**changed):
    return {attribute: changed.get(attribute, "trust_rank") for attribute, _ in GOLDEN_ATTRIBUTE_CHOICES}


def test_the_survivorship_page_records_and_shows_each_rule_changed(role_client):
    client = role_client("administrator")

    response = client.post(reverse("parties:survivorship"), _rules(given_name="most_recent"), follow=True)

    assert response.status_code == 200
    assert _changes(SURVIVORSHIP_SETTING) == [("given_name", "Source trust rank", "Most recent", "t-admin")]
    page = response.content.decode()
    assert 'data-testid="setting-change"' in page and "Given name" in page and "Most recent" in page


def test_saving_the_same_rules_and_a_refused_rule_record_nothing(role_client):
    role_client("administrator").post(reverse("parties:survivorship"), _rules())
    with pytest.raises(ValueError):
        survivorship_rules_save(rules={"family_name": "longest", "given_name": "bogus"})
    role_client("steward").post(reverse("parties:survivorship"), _rules(family_name="longest"))
    assert not SettingChange.objects.exists()


def test_the_survivorship_admin_records_the_change(role_client):
    role_client("administrator").post(
        reverse("admin:parties_survivorshiprule_add"), {"attribute": "family_name", "rule": "longest"}
    )
    assert _changes(SURVIVORSHIP_SETTING) == [
        ("family_name", "Source trust rank", "Most complete (longest)", "t-admin")
    ]


SOURCE_FORM = {
    "name": "Web shop",
    "kind": "ecommerce",
    "data_category": "1p",
    "trust_rank": "30",
    "default_region": "DE",
    "date_order": "DMY",
    "description": "",
    "is_active": "on",
}


def test_registering_and_editing_a_source_system_on_its_pages_is_recorded(role_client):
    client = role_client("administrator")

    client.post(reverse("parties:source_create"), SOURCE_FORM)
    source = SourceSystem.objects.get(name="Web shop")
    registered = {field: new for field, _old, new, _who in _changes(SOURCE_SYSTEM_SETTING, source.pk)}
    assert registered["name"] == "Web shop" and registered["kind"] == "E-commerce / web shop"
    assert registered["trust_rank"] == "30" and "description" not in registered

    response = client.post(
        reverse("parties:source_edit", args=[source.pk]),
        {**SOURCE_FORM, "trust_rank": "5", "is_active": ""},
        follow=True,
    )

    assert response.status_code == 200
    source.refresh_from_db()
    assert (source.trust_rank, source.is_active) == (5, False)
    assert _changes(SOURCE_SYSTEM_SETTING, source.pk)[-2:] == [
        ("trust_rank", "30", "5", "t-admin"),
        ("is_active", "yes", "no", "t-admin"),
    ]
    page = client.get(reverse("parties:source_edit", args=[source.pk])).content.decode()
    assert 'data-testid="setting-changes"' in page and "trust rank" in page


def test_a_refused_source_system_change_records_nothing(role_client):
    source = SourceSystemFactory(name="CRM", trust_rank=10)
    client = role_client("administrator")

    response = client.post(
        reverse("parties:source_edit", args=[source.pk]), {**SOURCE_FORM, "name": "CRM", "trust_rank": "500"}
    )
    assert response.status_code == 200 and "trust_rank" in response.context["form"].errors
    with pytest.raises(ValidationError):
        source_system_update(source_id=source.pk, values={"trust_rank": 0})
    with pytest.raises(ValidationError):
        source_system_create(values={"name": "CRM"})
    source.refresh_from_db()
    assert source.trust_rank == 10 and not SettingChange.objects.exists()


def test_the_source_system_admin_records_the_change(role_client):
    source = SourceSystemFactory(name="CRM", trust_rank=10)
    form = {**SOURCE_FORM, "name": "CRM", "trust_rank": "20", "column_mappings": "{}"}
    response = role_client("administrator").post(
        reverse("admin:parties_sourcesystem_change", args=[source.pk]), form
    )
    assert response.status_code == 302, response.content
    assert ("trust_rank", "10", "20", "t-admin") in _changes(SOURCE_SYSTEM_SETTING, source.pk)


def test_an_upload_that_registers_a_new_source_system_records_who_uploaded_it(tmp_path, settings):
    import io

    from parties.models import ImportJob
    from parties.services.imports.jobs import import_file_store, import_job_create, import_job_start
    from tests.factories import UserFactory

    settings.MEDIA_ROOT = str(tmp_path)
    content = b"source_key,given_name,family_name,email\nk1,A,B,a@x.org\n"
    stored = import_file_store(stream=io.BytesIO(content), original_name="a.csv")
    ada = UserFactory(username="ada")
    job = import_job_create(
        kind="parties",
        stored_name=stored,
        original_name="a.csv",
        user=ada,
        new_source={"name": "Shop", "default_region": "DE", "date_order": "DMY"},
    )
    import_job_start(job=job, enqueue=False)

    source = ImportJob.objects.get(pk=job.pk).source_system
    assert ("name", None, "Shop", "ada") in _changes(SOURCE_SYSTEM_SETTING, source.pk)
