"""The review page's split controls: which groups each member can be put in."""

from __future__ import annotations

from collections.abc import Sequence

from django import template

from matching.services.split import group_name

register = template.Library()

MAX_GROUPS = 8  # letters a-h: none of them is a review-page key (m, n, s, j, k)


@register.simple_tag
def split_groups(parties: Sequence) -> dict:
    """Group letters (as many as parties, at most ``MAX_GROUPS``) and one row per party."""
    letters = [group_name(i) for i in range(min(len(parties), MAX_GROUPS))]
    return {"letters": letters, "rows": list(parties)}
