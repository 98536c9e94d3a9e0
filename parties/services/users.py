"""Demo users: one login per role group, with documented (public) passwords."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from c360.kernel.roles import ADMINISTRATOR, DATA_STEWARD, MARKETING


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    first_name: str
    last_name: str
    is_staff: bool = False


DEMO_USERS = (
    DemoUser("steward", "steward-demo", DATA_STEWARD, "Sam", "Steward"),
    DemoUser("marketing", "marketing-demo", MARKETING, "Maya", "Marketer"),
    DemoUser("admin", "admin-demo", ADMINISTRATOR, "Alex", "Admin", is_staff=True),
)


@transaction.atomic
def demo_users_ensure() -> list:
    """Create or reset the demo users so each can log in with its documented password."""
    users = []
    user_model = get_user_model()
    for spec in DEMO_USERS:
        user, _ = user_model.objects.get_or_create(username=spec.username)
        user.first_name, user.last_name = spec.first_name, spec.last_name
        user.is_staff, user.is_active = spec.is_staff, True
        user.set_password(spec.password)
        user.save()
        user.groups.set([Group.objects.get(name=spec.role)])
        users.append(user)
    return users
