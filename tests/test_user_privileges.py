"""Only superusers grant privileges: the Administrator role (auth.change_user) may add users
and change names, e-mail, passwords and the active flag, but not superuser or staff status,
group memberships, user permissions or groups, nor change an account that can do more than
it can (the adversarial test made itself a superuser by ticking is_superuser in the admin)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from c360.users import user_change_check, user_change_refusal
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _change_form(user: User, **extra) -> dict:
    """What the admin's change form posts for ``user`` with ``extra`` on top."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(extra)
    return data


def _escalation(user: User) -> dict:
    """Every privilege the adversarial test could tick or post."""
    return {
        "is_superuser": "on",
        "is_staff": "on",
        "groups": [Group.objects.get(name="Administrator").pk],
        "user_permissions": [Permission.objects.get(codename="change_group").pk],
    }


def test_an_administrator_cannot_make_themselves_a_superuser_in_the_admin(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:auth_user_change", args=[administrator.pk]),
        _change_form(administrator, first_name="Alex", **_escalation(administrator)),
    )
    # The name changed (the form was accepted); no privilege did
    assert response.status_code == 302
    administrator.refresh_from_db()
    assert administrator.first_name == "Alex"
    assert not administrator.is_superuser
    assert not administrator.user_permissions.exists()
    assert not administrator.has_perm("auth.change_group")


def test_an_administrator_cannot_grant_a_colleague_superuser_staff_groups_or_permissions(
    client, administrator, marketer
):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:auth_user_change", args=[marketer.pk]),
        _change_form(marketer, last_name="Marketer", **_escalation(marketer)),
    )
    assert response.status_code == 302
    marketer.refresh_from_db()
    assert marketer.last_name == "Marketer"
    assert (marketer.is_superuser, marketer.is_staff) == (False, False)
    assert list(marketer.groups.values_list("name", flat=True)) == ["Marketing"]
    assert not marketer.user_permissions.exists()


def test_the_change_page_shows_privileges_to_an_administrator_without_fields_to_change_them(
    client, administrator, marketer
):
    client.force_login(administrator)
    page = client.get(reverse("admin:auth_user_change", args=[marketer.pk]))
    assert page.status_code == 200
    for field in (b'name="is_superuser"', b'name="is_staff"', b'name="groups"', b'name="user_permissions"'):
        assert field not in page.content
    assert b"Marketing" in page.content  # shown read-only


def test_a_user_an_administrator_adds_gets_no_privileges_even_if_posted(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": "Long-enough-pw-42",
            "password2": "Long-enough-pw-42",
            **_escalation(administrator),
        },
    )
    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert (newbie.is_superuser, newbie.is_staff) == (False, False)
    assert not newbie.groups.exists() and not newbie.user_permissions.exists()


def test_an_administrator_cannot_change_a_superuser_or_set_its_password(client, administrator):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(administrator)
    page = client.get(reverse("admin:auth_user_change", args=[root.pk]))
    assert page.status_code == 200 and b"only a superuser may change that account" in page.content
    assert b'name="username"' not in page.content  # read-only view
    refused = client.post(reverse("admin:auth_user_change", args=[root.pk]), _change_form(root, is_active=""))
    assert refused.status_code == 403
    password = client.post(
        reverse("admin:auth_user_password_change", args=[root.pk]),
        {"password1": "Taken-over-pw-99", "password2": "Taken-over-pw-99"},
    )
    assert password.status_code == 403
    root.refresh_from_db()
    assert root.is_active and root.check_password("pw-for-tests")


def test_an_administrator_cannot_take_over_an_account_that_can_do_more(client, administrator):
    mighty = UserFactory(username="mighty")
    mighty.user_permissions.add(Permission.objects.get(codename="change_group"))
    mighty.is_active = False  # even switched off: reactivating it would hand over its permissions
    mighty.save()
    client.force_login(administrator)
    password = client.post(
        reverse("admin:auth_user_password_change", args=[mighty.pk]),
        {"password1": "Taken-over-pw-99", "password2": "Taken-over-pw-99"},
    )
    assert password.status_code == 403
    mighty.refresh_from_db()
    assert mighty.check_password("pw-for-tests")


def test_an_administrator_still_resets_a_colleagues_password_and_deactivates_them(
    client, administrator, marketer
):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[marketer.pk]),
        {"password1": "New-marketing-pw-7", "password2": "New-marketing-pw-7"},
    )
    assert response.status_code == 302
    client.post(reverse("admin:auth_user_change", args=[marketer.pk]), _change_form(marketer, is_active=""))
    marketer.refresh_from_db()
    assert marketer.check_password("New-marketing-pw-7") and not marketer.is_active


def test_an_administrator_cannot_create_or_change_groups_or_their_permissions(client, administrator):
    marketing = Group.objects.get(name="Marketing")
    before = set(marketing.permissions.values_list("pk", flat=True))
    client.force_login(administrator)
    change_group = Permission.objects.get(codename="change_group").pk
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 200  # may still look
    assert (
        client.post(
            reverse("admin:auth_group_add"), {"name": "Escalated", "permissions": [change_group]}
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("admin:auth_group_change", args=[marketing.pk]),
            {"name": "Marketing", "permissions": [*before, change_group]},
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("admin:auth_group_delete", args=[marketing.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert not Group.objects.filter(name="Escalated").exists()
    assert set(marketing.permissions.values_list("pk", flat=True)) == before


def test_a_superuser_grants_roles_staff_and_superuser_status(client, marketer):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    response = client.post(
        reverse("admin:auth_user_change", args=[marketer.pk]),
        _change_form(marketer, is_staff="on", groups=[Group.objects.get(name="Data steward").pk]),
    )
    assert response.status_code == 302
    marketer.refresh_from_db()
    assert marketer.is_staff and list(marketer.groups.values_list("name", flat=True)) == ["Data steward"]
    group = client.post(reverse("admin:auth_group_add"), {"name": "Auditors"})
    assert group.status_code == 302 and Group.objects.filter(name="Auditors").exists()


def test_the_service_refuses_every_privilege_field_to_a_non_superuser(administrator, marketer):
    for field in ("is_superuser", "is_staff", "groups", "user_permissions"):
        with pytest.raises(PermissionDenied, match="Only a superuser may change"):
            user_change_check(actor=administrator, user=marketer, fields=[field])
    user_change_check(actor=administrator, user=marketer, fields=["first_name", "password"])
    root = UserFactory(username="root", is_superuser=True)
    assert "is a superuser" in user_change_refusal(actor=administrator, user=root)
    assert user_change_refusal(actor=root, user=root, fields=["is_superuser"]) is None
