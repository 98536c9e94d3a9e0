"""The sources: public dataclasses, SOURCE_CATALOG, the raw columns and each source's export style."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parties.columns import CANONICAL_COLUMNS


@dataclass(frozen=True)
class SourceSpec:
    name: str  # e.g. "Salesforce CRM"
    kind: str  # crm, pos, erp, ecommerce, support, marketing, loyalty, third_party_list, other
    data_category: str  # 0p, 1p, 2p, 3p
    trust_rank: int  # 1 = most trusted .. 100
    default_region: str  # ISO alpha-2 used for phones without +country, e.g. "US"
    date_order: str  # "DMY", "MDY" or "YMD": how this source writes birth dates
    key_prefix: str  # prefix of its source keys, e.g. "CRM-" ("" = numeric-only keys)


@dataclass
class DemoRow:
    source: str  # SourceSpec.name
    entity_id: str  # the true real-world customer, e.g. "E000123" (same for all its duplicates)
    raw: dict[str, str]  # the row as the source would export it; every value a str
    engagements: list[dict[str, Any]]  # touch points (orders, cases, visits, ...)
    memberships: list[dict[str, Any]]  # loyalty programs and subscriptions
    employer_key: str = ""  # individuals: source_key of their employer's row in the same source


@dataclass
class DemoData:
    sources: list[SourceSpec]
    rows: list[DemoRow]
    # people who live together (two different customers): ((source, source_key), (source,
    # source_key)) of each one's home record
    households: list[tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=list)


SOURCE_CATALOG: list[SourceSpec] = [
    SourceSpec("Salesforce CRM", "crm", "1p", 10, "US", "MDY", "CRM-"),
    SourceSpec("Web Shop", "ecommerce", "1p", 30, "GB", "DMY", ""),
    SourceSpec("Store POS", "pos", "1p", 40, "DE", "DMY", "KD"),
    SourceSpec("SAP ERP Billing", "erp", "1p", 5, "DE", "YMD", ""),
    SourceSpec("Zendesk Support", "support", "1p", 50, "US", "MDY", "ZD-"),
    SourceSpec("Bought Prospect List", "third_party_list", "3p", 90, "US", "MDY", "LST-"),
    SourceSpec("Preference Centre", "marketing", "0p", 20, "GB", "DMY", "PREF-"),
    SourceSpec("Club Rewards Loyalty", "loyalty", "1p", 35, "NL", "DMY", "LOY-"),
    SourceSpec("Partner Referrals", "other", "2p", 60, "FR", "DMY", "PRT-"),
]

_COLUMNS = CANONICAL_COLUMNS


@dataclass(frozen=True)
class _Style:
    omit: frozenset[str] = frozenset()
    key_base: int = 0  # numeric-only keys: base added to the counter
    key_width: int = 6  # zero-padding of the counter
    date_sep: str = "/"
    ts_style: str = "iso"  # iso (+00:00), z, space, ms
    country_style: int = 0  # index into _Country.names for clean rows
    phone_style: str = "intl"
    gender_map: tuple[tuple[str, str], ...] = (("F", "female"), ("M", "male"), ("X", "x"))
    party_type_blank: float = 0.05
    ident: tuple[str, float, str, int] | None = None  # (type, share, prefix, digits)
    upper_names: float = 0.0
    individual_weight: float = 1.0
    organization_weight: float = 1.0


_DEFAULT_STYLE = _Style()
_STYLES: dict[str, _Style] = {
    "Salesforce CRM": _Style(
        country_style=2,
        phone_style="intl",
        ident=("customer_number", 0.4, "CUS-", 7),
        individual_weight=3,
        organization_weight=5,
    ),
    "Web Shop": _Style(
        omit=frozenset({"salutation", "middle_name", "full_name", "phone_2"}),
        key_base=40_000_000,
        key_width=8,
        ts_style="z",
        country_style=0,
        phone_style="e164",
        gender_map=(("F", "F"), ("M", "M"), ("X", "X")),
        party_type_blank=0.3,
        ident=("customer_number", 0.5, "", 9),
        individual_weight=3,
        organization_weight=1,
    ),
    "Store POS": _Style(
        omit=frozenset(
            {"salutation", "middle_name", "full_name", "email_2", "phone_2", "address_line2", "region"}
        ),
        key_width=7,
        date_sep=".",
        ts_style="space",
        country_style=3,
        phone_style="national",
        gender_map=(("F", "w"), ("M", "m"), ("X", "d")),
        party_type_blank=0.7,
        ident=("loyalty_number", 0.45, "2400", 9),
        individual_weight=3,
        organization_weight=0.5,
    ),
    "SAP ERP Billing": _Style(
        omit=frozenset({"gender", "birth_date", "middle_name", "email_2", "salutation"}),
        key_base=1_000_000,
        key_width=10,
        date_sep="-",
        ts_style="ms",
        country_style=0,
        phone_style="intl",
        ident=("customer_number", 0.9, "D", 8),
        individual_weight=1,
        organization_weight=5,
    ),
    "Zendesk Support": _Style(
        omit=frozenset(
            {
                "salutation",
                "given_name",
                "middle_name",
                "family_name",
                "birth_date",
                "gender",
                "address_line2",
                "region",
                "identifier_type",
                "identifier_value",
            }
        ),
        ts_style="z",
        country_style=2,
        phone_style="national_alt",
        individual_weight=1.5,
        organization_weight=1.5,
    ),
    "Bought Prospect List": _Style(
        omit=frozenset({"email_2", "phone_2", "identifier_type", "identifier_value"}),
        ts_style="space",
        country_style=1,
        phone_style="digits",
        gender_map=(("F", "Female"), ("M", "Male"), ("X", "")),
        party_type_blank=0.4,
        upper_names=0.5,
        individual_weight=2,
        organization_weight=2,
    ),
    "Preference Centre": _Style(
        omit=frozenset(
            {
                "salutation",
                "middle_name",
                "address_line1",
                "address_line2",
                "city",
                "region",
                "postal_code",
                "phone_2",
                "identifier_type",
                "identifier_value",
            }
        ),
        ts_style="iso",
        country_style=2,
        phone_style="e164",
        gender_map=(("F", "female"), ("M", "male"), ("X", "non-binary")),
        individual_weight=1.5,
        organization_weight=0,
    ),
    "Club Rewards Loyalty": _Style(
        omit=frozenset({"salutation", "email_2", "region", "full_name"}),
        date_sep="-",
        ts_style="iso",
        country_style=3,
        phone_style="intl",
        ident=("loyalty_number", 1.0, "CR", 9),
        individual_weight=2,
        organization_weight=0,
    ),
    "Partner Referrals": _Style(
        omit=frozenset({"birth_date", "gender", "email_2", "phone_2", "middle_name"}),
        ts_style="z",
        country_style=3,
        phone_style="intl_dash",
        individual_weight=1,
        organization_weight=2,
    ),
}
