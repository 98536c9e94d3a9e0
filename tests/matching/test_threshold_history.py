"""Changes of the match thresholds and the blocking rules are recorded (who, old → new) and
listed on the thresholds page (issue 19 item 11); a refused change records nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from c360.kernel.models import SettingChange
from matching.models import MatchSettings
from matching.rules import STANDARD_RULES
from matching.services.thresholds import THRESHOLDS_SETTING, match_settings_set

pytestmark = pytest.mark.django_db


def _changes():
    return [
        (c.field, c.old, c.new, c.changed_by_label)
        for c in SettingChange.objects.filter(setting=THRESHOLDS_SETTING).order_by("pk")
    ]


def test_the_thresholds_page_records_and_shows_who_changed_which_threshold(role_client):
    client = role_client("administrator")

    response = client.post(
        reverse("matching:thresholds"),
        {"review_threshold": "0.6", "auto_merge_threshold": "0.9"},
        follow=True,
    )

    assert response.status_code == 200
    assert _changes() == [
        ("review_threshold", "0.5", "0.6", "t-admin"),
        ("auto_merge_threshold", None, "0.9", "t-admin"),
    ]
    page = response.content.decode()
    assert 'data-testid="setting-changes"' in page and "auto-merge threshold" in page and "t-admin" in page


def test_saving_the_same_thresholds_again_records_nothing(role_client):
    match_settings_set(review_threshold=0.6, auto_merge_threshold=None)
    before = SettingChange.objects.count()
    role_client("administrator").post(
        reverse("matching:thresholds"), {"review_threshold": "0.6", "auto_merge_threshold": ""}
    )
    assert SettingChange.objects.count() == before


def test_a_refused_threshold_records_nothing(role_client):
    with pytest.raises(ValidationError):
        match_settings_set(review_threshold=0.7, auto_merge_threshold=0.6)
    response = role_client("administrator").post(
        reverse("matching:thresholds"), {"review_threshold": "0.8", "auto_merge_threshold": "0.7"}
    )
    assert response.status_code == 200
    assert not SettingChange.objects.exists()


def test_a_steward_who_may_not_change_them_records_nothing_but_reads_the_history(role_client):
    match_settings_set(review_threshold=0.65, auto_merge_threshold=None)
    client = role_client("steward")
    client.post(reverse("matching:thresholds"), {"review_threshold": "0.9", "auto_merge_threshold": ""})
    assert _changes() == [("review_threshold", "0.5", "0.65", "")]
    page = client.get(reverse("matching:thresholds")).content.decode()
    assert "0.65" in page and 'data-testid="setting-change"' in page


def test_the_admin_records_the_change_too(role_client):
    current = MatchSettings.current()
    role_client("administrator").post(
        reverse("admin:matching_matchsettings_change", args=[current.pk]),
        {"review_threshold": "0.55", "auto_merge_threshold": ""},
    )
    assert _changes() == [("review_threshold", "0.5", "0.55", "t-admin")]


def test_switching_blocking_rules_off_and_on_records_their_names(role_client):
    client = role_client("administrator")
    every = [rule.code for rule in STANDARD_RULES]

    without_phone = [code for code in every if code != "p"]
    client.post(reverse("matching:thresholds"), {"action": "rules", "rules_on": without_phone})
    client.post(reverse("matching:thresholds"), {"action": "rules", "rules_on": every})

    assert _changes() == [
        ("rules_off", None, "Same phone number (E.164)", "t-admin"),
        ("rules_off", "Same phone number (E.164)", None, "t-admin"),
    ]
    assert "blocking rules switched off" in client.get(reverse("matching:thresholds")).content.decode()


def test_an_unknown_blocking_rule_records_nothing(role_client):
    from matching.services.blocking import match_settings_rules_set

    with pytest.raises(ValidationError):
        match_settings_rules_set(codes_off=["p", "nope"], user=None)
    assert not SettingChange.objects.exists()
