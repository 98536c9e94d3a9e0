"""The settings history's one writer (``c360.kernel.setting_changes.setting_changes_record``): one row
per changed field, nothing for an unchanged one, and never outside the change's transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from c360.kernel.models import SettingChange
from c360.kernel.setting_changes import setting_changes_list, setting_changes_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_records_each_changed_field_with_who_and_the_values_before_and_after():
    ada = UserFactory(username="ada")
    with transaction.atomic():
        rows = setting_changes_record(
            setting="test.s",
            object_id=7,
            user=ada,
            labels={"a": "the A"},
            before={"a": 1, "b": "same", "c": None},
            after={"a": 2, "b": "same", "c": True},
        )

    assert [(r.field, r.label, r.old, r.new) for r in rows] == [
        ("a", "the A", "1", "2"),
        ("c", "c", None, "yes"),
    ]
    saved = setting_changes_list(setting="test.s", object_id=7)
    assert {(r.field, r.changed_by, r.changed_by_label, r.object_id) for r in saved} == {
        ("a", ada, "ada", "7"),
        ("c", ada, "ada", "7"),
    }
    assert setting_changes_list(setting="test.s", object_id=8) == []


def test_nothing_changed_records_nothing():
    with transaction.atomic():
        assert setting_changes_record(setting="test.s", before={"a": ""}, after={"a": None}) == []
    assert not SettingChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        setting_changes_record(setting="test.s", before={"a": 1}, after={"a": 2})
    assert not SettingChange.objects.exists()


def test_the_admin_lists_the_history_read_only(client):
    from django.urls import reverse

    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    with transaction.atomic():
        setting_changes_record(setting="test.s", before={"a": "old"}, after={"a": "new"}, user=boss)
    client.force_login(boss)

    listed = client.get(reverse("admin:c360_settingchange_changelist"))
    assert listed.status_code == 200 and b"test.s" in listed.content and b"boss" in listed.content
    row = SettingChange.objects.get()
    refused = client.post(reverse("admin:c360_settingchange_delete", args=[row.pk]), {"post": "yes"})
    assert refused.status_code == 403
    assert SettingChange.objects.filter(pk=row.pk).exists()
