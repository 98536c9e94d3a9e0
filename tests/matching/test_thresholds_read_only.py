"""The thresholds page for those who may not change them (issue 18, item 11): stewards read
the values; no field to edit and no Save button, and a forged post changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from matching.models import MatchSettings

pytestmark = pytest.mark.django_db


def test_a_steward_reads_the_thresholds_without_fields_to_edit(role_client):
    current = MatchSettings.current()
    current.auto_merge_threshold = 0.97
    current.save()

    page = role_client("steward").get(reverse("matching:thresholds")).content.decode()

    assert 'data-testid="thresholds-read-only"' in page
    assert f'data-testid="review-threshold">{current.review_threshold}<' in page
    assert 'data-testid="auto-merge-threshold">0.97<' in page
    assert 'name="review_threshold"' not in page and 'name="auto_merge_threshold"' not in page
    assert "Save thresholds" not in page
    assert "Only administrators may change the thresholds." in page


def test_without_auto_merge_the_steward_reads_that_it_is_off(role_client):
    current = MatchSettings.current()
    current.auto_merge_threshold = None
    current.save()
    page = role_client("steward").get(reverse("matching:thresholds")).content.decode()
    assert "off: every suggestion waits for a steward" in page


def test_a_stewards_forged_post_changes_nothing(role_client):
    before = MatchSettings.current().review_threshold
    response = role_client("steward").post(
        reverse("matching:thresholds"), {"review_threshold": "0.9", "auto_merge_threshold": ""}, follow=True
    )
    assert "Only administrators may change the thresholds." in response.content.decode()
    assert MatchSettings.current().review_threshold == before


def test_an_administrator_still_gets_the_form(role_client):
    page = role_client("administrator").get(reverse("matching:thresholds")).content.decode()
    assert 'name="review_threshold"' in page and "Save thresholds" in page
    assert 'data-testid="thresholds-read-only"' not in page
