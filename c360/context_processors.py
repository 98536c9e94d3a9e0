"""Template context shared by every page: the navigation the signed-in user may use."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from c360.kernel.roles import user_role_names

# (label, url name, permission needed — or any of a tuple — or None for everyone signed in)
_NAV = [
    ("Home", "home", None),
    ("Parties", "parties:list", "parties.view_party"),
    ("Merge queue", "matching:suggestions", "matching.view_matchsuggestion"),
    ("Train matcher", "matching:training", "matching.add_traininglabel"),
    ("Thresholds", "matching:thresholds", "matching.change_matchsettings"),
    ("Survivorship", "parties:survivorship", "parties.change_survivorshiprule"),
    ("Eligibility", "consents:eligibility", "consents.view_contactpointtypeconsent"),
    ("Segments", "consents:segment_list", "consents.view_segment"),
    ("Imports", "parties:imports", ("parties.view_importjob", "consents.change_contactpointtypeconsent")),
    ("Source systems", "parties:sources", "parties.view_sourcesystem"),
    ("API tokens", "api_tokens", "c360.view_apitoken"),
    ("Webhooks", "webhooks:list", "webhooks.manage_webhooks"),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [
        {
            "label": label,
            "url": reverse(name),
            "active": request.resolver_match is not None and request.resolver_match.view_name == name,
        }
        for label, name, perm in _NAV
        if perm is None or any(user.has_perm(p) for p in ((perm,) if isinstance(perm, str) else perm))
    ]
    return {
        "nav_items": items,
        "nav_admin": user.is_staff,
        "user_roles": user_role_names(user),
    }
