"""The role groups. Their permissions are created by parties' data migration
(``0002_role_groups``); this module only names them for code that needs to ask."""

from __future__ import annotations

DATA_STEWARD = "Data steward"
MARKETING = "Marketing"
ADMINISTRATOR = "Administrator"
ROLE_NAMES = (DATA_STEWARD, MARKETING, ADMINISTRATOR)


def user_role_names(user) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return [ADMINISTRATOR]
    return sorted(g.name for g in user.groups.all() if g.name in ROLE_NAMES)
