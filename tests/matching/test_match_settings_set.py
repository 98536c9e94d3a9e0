"""The thresholds are checked and saved by ``match_settings_set`` (issue 19, item 6), the one
place the thresholds page, the admin and any API caller go through."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from matching.models import MatchSettings
from matching.services.thresholds import match_settings_set

pytestmark = pytest.mark.django_db


def test_it_saves_both_thresholds_and_who_set_them(django_user_model):
    admin = django_user_model.objects.create(username="ada")

    saved = match_settings_set(review_threshold=0.6, auto_merge_threshold=0.95, user=admin)

    current = MatchSettings.current()
    assert current.pk == saved.pk
    assert (current.review_threshold, current.auto_merge_threshold, current.updated_by) == (0.6, 0.95, admin)


def test_an_empty_auto_merge_threshold_means_never():
    match_settings_set(review_threshold=0.6, auto_merge_threshold=0.95)
    match_settings_set(review_threshold=0.6, auto_merge_threshold=None)
    assert MatchSettings.current().auto_merge_threshold is None


def test_it_leaves_the_blocking_rules_on_the_same_row_as_they_are():
    current = MatchSettings.current()
    current.rules_off = ["phone"]
    current.save()

    match_settings_set(review_threshold=0.7, auto_merge_threshold=None)

    assert MatchSettings.current().rules_off == ["phone"]
    assert MatchSettings.objects.count() == 1


@pytest.mark.parametrize(
    "review, auto, field, message",
    [
        (
            0.1,
            None,
            "review_threshold",
            "Must be at least 0.2 (lower scores are dropped before clustering) and below 1.",
        ),
        (1.0, None, "review_threshold", "Must be at least 0.2"),
        (float("nan"), None, "review_threshold", "Must be at least 0.2"),
        (0.5, 0.0, "auto_merge_threshold", "Must be above 0 and at most 1, or empty."),
        (0.5, 1.5, "auto_merge_threshold", "Must be above 0 and at most 1, or empty."),
        (0.7, 0.6, "auto_merge_threshold", "Must be above the review threshold (0.7), or empty."),
        (0.7, 0.7, "auto_merge_threshold", "Must be above the review threshold (0.7), or empty."),
    ],
)
def test_it_refuses_a_threshold_out_of_range_and_saves_nothing(review, auto, field, message):
    before = MatchSettings.current()

    with pytest.raises(ValidationError) as refused:
        match_settings_set(review_threshold=review, auto_merge_threshold=auto)

    assert list(refused.value.message_dict) == [field]
    assert refused.value.message_dict[field][0].startswith(message)
    after = MatchSettings.current()
    assert (after.review_threshold, after.auto_merge_threshold, after.updated_at) == (
        before.review_threshold,
        before.auto_merge_threshold,
        before.updated_at,
    )


def test_a_review_threshold_out_of_range_is_the_only_error_named():
    # as on the form: the auto-merge threshold is not compared with a review threshold refused
    with pytest.raises(ValidationError) as refused:
        match_settings_set(review_threshold=0.1, auto_merge_threshold=0.05)
    assert list(refused.value.message_dict) == ["review_threshold"]


def test_the_thresholds_page_saves_through_the_service(role_client):
    response = role_client("administrator").post(
        reverse("matching:thresholds"),
        {"review_threshold": "0.65", "auto_merge_threshold": "0.9"},
        follow=True,
    )

    assert "Thresholds saved; the next match run uses them." in response.content.decode()
    current = MatchSettings.current()
    assert (current.review_threshold, current.auto_merge_threshold) == (0.65, 0.9)
    assert current.updated_by.username == response.wsgi_request.user.username


def test_the_admin_saves_through_the_service_and_records_who(role_client):
    current = MatchSettings.current()
    client = role_client("administrator")

    response = client.post(
        reverse("admin:matching_matchsettings_change", args=[current.pk]),
        {"review_threshold": "0.55", "auto_merge_threshold": ""},
    )

    assert response.status_code == 302, response.content
    saved = MatchSettings.current()
    assert (saved.review_threshold, saved.auto_merge_threshold) == (0.55, None)
    assert saved.updated_by is not None and saved.updated_by.username == response.wsgi_request.user.username
    assert MatchSettings.objects.count() == 1
