"""The review and auto-merge thresholds administrators set (``MatchSettings``): checked and
saved here, so the thresholds page, the admin and any API caller apply the same rules."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from c360.kernel.setting_changes import setting_changes_record
from matching.models import MatchSettings

logger = logging.getLogger(__name__)

THRESHOLDS_SETTING = "matching.thresholds"  # the history of the thresholds and blocking rules
THRESHOLD_LABELS = {"review_threshold": "review threshold", "auto_merge_threshold": "auto-merge threshold"}
REVIEW_MIN = 0.2  # the scores run keeps for clustering: lower ones are dropped before it


def match_settings_validate(*, review_threshold: float | None, auto_merge_threshold: float | None) -> None:
    """Raise a ValidationError naming each threshold that is out of range: the review
    threshold from 0.2 to below 1, the auto-merge threshold (None: never) above 0, at most 1
    and above the review threshold. A None review threshold was refused by the caller's
    parsing already, or is out of range: only the auto-merge threshold's own range is checked
    then."""
    errors: dict[str, str] = {}
    if review_threshold is not None and not REVIEW_MIN <= review_threshold < 1:
        errors["review_threshold"] = (
            "Must be at least 0.2 (lower scores are dropped before clustering) and below 1."
        )
    if auto_merge_threshold is not None:
        if not 0 < auto_merge_threshold <= 1:
            errors["auto_merge_threshold"] = "Must be above 0 and at most 1, or empty."
        elif (
            "review_threshold" not in errors
            and review_threshold is not None
            and auto_merge_threshold <= review_threshold
        ):
            errors["auto_merge_threshold"] = (
                f"Must be above the review threshold ({review_threshold}), or empty."
            )
    if errors:
        raise ValidationError(errors)


def match_settings_set(
    *, review_threshold: float, auto_merge_threshold: float | None, user=None
) -> MatchSettings:
    """Set the thresholds the next match runs use (``auto_merge_threshold`` None: nothing is
    merged automatically). Checked first (``match_settings_validate``; nothing is saved when
    one is wrong), then written on the settings row with who changed them; the blocking rules
    on the same row are left as they are."""
    match_settings_validate(review_threshold=review_threshold, auto_merge_threshold=auto_merge_threshold)
    with transaction.atomic():
        current = MatchSettings.objects.select_for_update().get(pk=MatchSettings.current().pk)
        before = (current.review_threshold, current.auto_merge_threshold)
        current.review_threshold, current.auto_merge_threshold = review_threshold, auto_merge_threshold
        current.updated_by = user
        current.save(update_fields=["review_threshold", "auto_merge_threshold", "updated_by", "updated_at"])
        setting_changes_record(
            setting=THRESHOLDS_SETTING,
            user=user,
            labels=THRESHOLD_LABELS,
            before=dict(zip(THRESHOLD_LABELS, before, strict=True)),
            after={"review_threshold": review_threshold, "auto_merge_threshold": auto_merge_threshold},
        )
    logger.info(
        "match thresholds set to review %s, auto-merge %s (were %s, %s), by %s",
        review_threshold,
        auto_merge_threshold,
        *before,
        user,
    )
    return current
