"""The canonical column names of a party source file (see README: canonical template).

A file whose headers are among these imports with no mapping at all. Plain data, no Django,
so the demo generator can share it.
"""

CANONICAL_COLUMNS: tuple[str, ...] = (
    "source_key",
    "party_type",
    "salutation",
    "given_name",
    "middle_name",
    "family_name",
    "full_name",
    "organization_name",
    "birth_date",
    "gender",
    "email",
    "email_2",
    "phone",
    "phone_2",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "identifier_type",
    "identifier_value",
    "updated_at",
)
