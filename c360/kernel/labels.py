"""People's words for the names and codes the code uses: one place for the whole site.

Pages show "Given name", "Street address", "Non-binary" and "Opt-in", never ``given_name``,
``address_line1``, ``non_binary`` or ``opt_in``. Templates use the ``labels`` filters
(``{% load labels %}{{ name|field_label }}``, ``{{ code|value_label }}``); views and services
call :func:`field_label` and :func:`value_label`.

A field name is looked up in :data:`FIELD_LABELS`; a stored value in the choices of every
installed model (so ``non_binary`` reads as the Gender choice's label) and then in
:data:`VALUE_LABELS`. Anything unknown is still turned into words ("landing_page" → "Landing
page") rather than shown as code. The kernel imports no app: choices are read through Django's
app registry.
"""

from __future__ import annotations

import re
from functools import cache

# Field names (canonical import columns, golden attributes, matcher fields, engagement
# attributes) → what a person calls them.
FIELD_LABELS: dict[str, str] = {
    "source_key": "Source key",
    "party_type": "Customer type",
    "kind": "Kind",
    "salutation": "Salutation",
    "given_name": "Given name",
    "middle_name": "Middle name",
    "family_name": "Family name",
    "name_suffix": "Suffix",
    "full_name": "Full name",
    "name": "Name",
    "organization_name": "Organization",
    "birth_date": "Birth date",
    "gender": "Gender",
    "email": "Email",
    "emails": "Emails",
    "email_2": "Second email",
    "phone": "Phone",
    "phones": "Phones",
    "phone_2": "Second phone",
    "address": "Address",
    "address_line1": "Street address",
    "address_line2": "Address line 2",
    "line1": "Street address",
    "line2": "Address line 2",
    "city": "City",
    "region": "State or region",
    "postal_code": "Postal code",
    "country": "Country",
    "identifier_type": "Identifier type",
    "identifier_value": "Identifier",
    "identifiers": "Identifiers",
    "registration_id": "Registration id",
    "updated_at": "Last updated in source",
    "trust_rank": "Trust rank",
    "data_category": "Data category",
    "default_region": "Phone region",
    "date_order": "Date order",
    "marital_status": "Marital status",
    "income_band": "Income band",
    "education_level": "Education",
    "household": "Household",
    # engagement attributes seen in touch-point files
    "duration_seconds": "Duration (s)",
    "landing_page": "Landing page",
    "nps_score": "NPS",
    # privacy preferences (the consent ledger's "preferences" entries)
    "do_not_process": "Do not process",
    "do_not_profile": "Do not profile",
    "do_not_track": "Do not track",
    "do_not_solicit": "Do not solicit",
    "preferred_channel": "Preferred channel",
    "preferred_language": "Preferred language",
    "contact_frequency": "Contact frequency",
    "interests": "Interests",
}

# Codes that are no model's choice (model choices are read from the models themselves).
VALUE_LABELS: dict[str, str] = {
    "no_show": "No show",
}

_WORD = re.compile(r"[a-z]+|\d+", re.IGNORECASE)


def humanize(code: str) -> str:
    """``address_line1`` → "Address line 1", ``landing_page`` → "Landing page"."""
    words = _WORD.findall(str(code))
    if not words:
        return str(code)
    text = " ".join(w.lower() for w in words)
    return text[:1].upper() + text[1:]


def field_label(name: object) -> str:
    """What a person calls the field ``name``."""
    name = str(name or "")
    return FIELD_LABELS.get(name) or FIELD_LABELS.get(name.lower()) or humanize(name)


@cache
def _choice_labels() -> dict[str, str]:
    """Every installed model's choices, value → label (the first model that has a value wins;
    the same code means the same thing across this project's models)."""
    from django.apps import apps

    labels: dict[str, str] = {}
    for model in apps.get_models():
        for f in model._meta.get_fields():
            for value, label in getattr(f, "flatchoices", None) or ():
                if isinstance(value, str) and value and value not in labels:
                    labels[value] = str(label)
    return labels


def value_label(value: object) -> str:
    """What a person calls the stored code ``value`` (a choice's label); other values as
    they are, only codes (lower-case words joined by ``_``) turned into words."""
    if value is None:
        return ""
    text = str(value)
    if text in VALUE_LABELS:
        return VALUE_LABELS[text]
    choice = _choice_labels().get(text)
    if choice is not None:
        return choice
    return humanize(text) if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", text) else text
