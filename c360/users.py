"""Who may change which user account. The admin's user and group pages are the only places the
application edits accounts; they ask here, and so must any other path that ever does.

The Administrator role may add users and change their names, e-mail, password and active flag
(``auth.change_user``), but a user's privileges — superuser and staff status, role groups,
permissions of their own, and what a group may do — are a superuser's to grant: otherwise an
administrator could make anyone, themselves included, a superuser who can then do everything.
For the same reason a non-superuser may not change an account that can do more than they can
(a superuser's, or one whose groups hold permissions they lack): setting its password would
hand them that account.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q

# The fields of a user that grant privileges, with the words a refusal uses for them.
PRIVILEGE_FIELDS = {
    "is_superuser": "superuser status",
    "is_staff": "staff status (access to the admin)",
    "groups": "group memberships",
    "user_permissions": "user permissions",
}


def user_permission_names(user) -> set[str]:
    """``app_label.codename`` of every permission the account holds through its own permissions
    and its groups, whether or not it is active now (an inactive account can be reactivated)."""
    rows = Permission.objects.filter(Q(user=user) | Q(group__user=user)).values_list(
        "content_type__app_label", "codename"
    )
    return {f"{app_label}.{codename}" for app_label, codename in rows}


def user_change_refusal(*, actor, user=None, fields: Iterable[str] = ()) -> str | None:
    """Why ``actor`` may not change ``fields`` of ``user`` (None: the account is new, or only
    whether the account may be changed at all is asked), or None when they may."""
    if actor.is_superuser:
        return None
    privileged = [label for name, label in PRIVILEGE_FIELDS.items() if name in set(fields)]
    if privileged:
        return f"Only a superuser may change {', '.join(privileged)}."
    if user is None or user.pk is None:
        return None
    if user.is_superuser:
        return f"“{user.get_username()}” is a superuser: only a superuser may change that account."
    beyond = sorted(user_permission_names(user) - actor.get_all_permissions())
    if beyond:
        shown = ", ".join(beyond[:3]) + (f" and {len(beyond) - 3} more" if len(beyond) > 3 else "")
        return (
            f"“{user.get_username()}” holds permissions you do not ({shown}): "
            "only a superuser may change that account."
        )
    return None


def user_change_check(*, actor, user=None, fields: Iterable[str] = ()) -> None:
    """Raise ``PermissionDenied`` with the reason when ``actor`` may not make this change."""
    refusal = user_change_refusal(actor=actor, user=user, fields=fields)
    if refusal:
        raise PermissionDenied(refusal)


def group_change_refusal(*, actor) -> str | None:
    """Groups are what roles may do: creating, changing or deleting one is a superuser's job."""
    if actor.is_superuser:
        return None
    return "Only a superuser may create, change or delete groups or change what a group may do."


def group_change_check(*, actor) -> None:
    refusal = group_change_refusal(actor=actor)
    if refusal:
        raise PermissionDenied(refusal)
