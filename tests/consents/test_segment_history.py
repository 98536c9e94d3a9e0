"""Changes of a segment are recorded (who, old → new per field) and listed on the segment's
page and its edit page (issue 19 item 11); a refused change records nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from c360.kernel.models import SettingChange
from consents.models import Segment
from consents.services.segments import SEGMENT_SETTING, segment_create, segment_update

pytestmark = pytest.mark.django_db


def _changes(segment):
    rows = SettingChange.objects.filter(setting=SEGMENT_SETTING, object_id=str(segment.pk)).order_by("pk")
    return [(c.field, c.old, c.new, c.changed_by_label) for c in rows]


def test_editing_a_segment_on_its_page_records_each_field_changed_and_shows_it(role_client, marketer):
    germany = segment_create(name="Germany", filters={"country": "DE"}, user=marketer)
    assert ("country", None, "DE", "t-marketing") in _changes(germany)
    client = role_client("administrator")

    response = client.post(
        reverse("consents:segment_edit", args=[germany.pk]),
        {"name": "Germany", "description": "", "country": "AT", "valid_email": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    assert Segment.objects.get(pk=germany.pk).country == "AT"
    assert [row for row in _changes(germany) if row[3] == "t-admin"] == [
        ("country", "DE", "AT", "t-admin"),
        ("valid_email", None, "Has a valid email address", "t-admin"),
    ]
    for url in (
        reverse("consents:segment_detail", args=[germany.pk]),
        reverse("consents:segment_edit", args=[germany.pk]),
    ):
        page = client.get(url).content.decode()
        assert 'data-testid="setting-changes"' in page and "t-admin" in page and "AT" in page


def test_a_refused_segment_change_records_nothing(role_client):
    germany = segment_create(name="Germany", filters={"country": "DE"}, user=None)
    segment_create(name="Austria", filters={"country": "AT"}, user=None)
    before = SettingChange.objects.count()

    with pytest.raises(ValidationError):
        segment_update(segment=germany, name="Austria", filters={"country": "DE"}, user=None)
    response = role_client("administrator").post(
        reverse("consents:segment_edit", args=[germany.pk]), {"name": "Germany", "country": "XX"}
    )

    assert response.status_code == 200
    assert SettingChange.objects.count() == before
    assert Segment.objects.get(pk=germany.pk).name == "Germany"


def test_deleting_a_segment_keeps_what_it_was_and_who_deleted_it(role_client):
    germany = segment_create(name="Germany", filters={"country": "DE"}, user=None)
    role_client("administrator").post(reverse("consents:segment_delete", args=[germany.pk]))

    assert not Segment.objects.filter(pk=germany.pk).exists()
    deleted = [row for row in _changes(germany) if row[3] == "t-admin"]
    assert ("name", "Germany", None, "t-admin") in deleted and ("country", "DE", None, "t-admin") in deleted
