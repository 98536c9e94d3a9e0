"""The switch of local (password) sign-in: ``C360_LOCAL_LOGIN``."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


class LocalLoginSwitch:
    """Listed before Django's ModelBackend: while ``C360_LOCAL_LOGIN`` is off it refuses every
    password, but a superuser's (the break-glass when the identity provider is down: a superuser
    signs in on the admin's sign-in page, /admin/login/). Refusing raises PermissionDenied, which
    stops Django from asking the next backend and counts as a failed sign-in (django-axes)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs
    ) -> None:
        if settings.C360_LOCAL_LOGIN or username is None or password is None:
            return None
        model = get_user_model()
        if model._default_manager.filter(**{model.USERNAME_FIELD: username}, is_superuser=True).exists():
            return None  # ModelBackend checks the password
        raise PermissionDenied("local sign-in is switched off")
