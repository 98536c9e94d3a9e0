"""Standard blocking rules: the candidate pairs a steward expects whatever dedupe learned.

dedupe learns the smallest set of blocking predicates that covers the labelled matches, often
only "same national id" or "same street"; pairs that share no learned key are never compared,
however alike they are. So every run also writes these keys, next to the learned ones, into
the block-key table: a pair sharing any of them is a candidate. Keys start with ``~`` and the
rule's code, so they never meet a learned key and can be counted per rule.

Strong rules (same email, phone or identifier) are never dropped by the pair budget
(``matching.services.scoring``). A key shared by more parties than ``C360_MATCHING_MAX_BLOCK``
is left out like any oversized block (a household email, a company's switchboard number): the
run page lists such blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from matching.comparisons import NAME_SEPARATOR, _fold, organization_core


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    strong: bool  # a shared value is near-proof: never trimmed by the pair budget
    # the comparisons (matching.comparisons) its pairs agree on by construction: the
    # classifier's EM leaves them out when it learns from this rule's pairs
    fixes: tuple[str, ...] = ()

    @property
    def prefix(self) -> str:
        return f"~{self.code}:"


# What each rule's pairs agree on by construction, for the EM step: the rule's own fields and
# those that follow from them. An email's name part is usually the person's name (or the
# organization's), so a rule on a name also fixes the email comparison and the email rule
# fixes the names; a shared family name makes the household comparison. (At a million
# generated customers, common names share "robert_ruiz@gmail.com" among strangers: EM on the
# email rule's pairs with the names left in took that agreement for evidence of one person,
# and birth dates that differ entirely for something matches often do.)
STANDARD_RULES: tuple[Rule, ...] = (
    Rule("e", "Same email address", True, ("cmp:email", "cmp:given", "cmp:family", "cmp:household")),
    Rule("p", "Same phone number (E.164)", True, ("cmp:phone",)),
    Rule("i", "Same identifier (type and value)", True, ("cmp:identifier",)),
    Rule(
        "gf",
        "Same given and family name (either order)",
        False,
        ("cmp:given", "cmp:family", "cmp:household", "cmp:email"),
    ),
    Rule(
        "fb",
        "Same family name and birth date",
        False,
        ("cmp:family", "cmp:birth", "cmp:household", "cmp:email"),
    ),
    Rule("gb", "Same given name and birth date", False, ("cmp:given", "cmp:birth", "cmp:email")),
    Rule(
        "pf",
        "Same postal code and family name",
        False,
        ("cmp:address", "cmp:family", "cmp:household", "cmp:email"),
    ),
    Rule("pb", "Same postal code and birth date", False, ("cmp:address", "cmp:birth")),
    Rule(
        "op",
        "Same organization (without legal form) and postal code",
        False,
        ("cmp:organization", "cmp:address", "cmp:email"),
    ),
)
RULES_BY_CODE = {rule.code: rule for rule in STANDARD_RULES}
STRONG_PREFIXES = tuple(rule.prefix for rule in STANDARD_RULES if rule.strong)


def _key(rule: str, *parts: str | None) -> str | None:
    if not all(parts):
        return None
    return f"~{rule}:" + "|".join(parts)[:240]  # type: ignore[arg-type]


def record_keys(record: dict, enabled: Iterable[str] | None = None) -> Iterator[str]:
    """The standard block keys of one flat record (``matching.fields.flat_record``), for the
    rules in ``enabled`` (codes; None: all)."""
    codes = set(RULES_BY_CODE if enabled is None else enabled)
    given = family = None
    if record.get("name"):
        given_text, _, family_text = record["name"].partition(NAME_SEPARATOR)
        given, family = _fold(given_text) or None, _fold(family_text) or None
    birth, postal = record.get("birth_date"), record.get("postal_code")
    keys: list[str | None] = []
    if "e" in codes:
        keys += [_key("e", email) for email in record.get("emails") or ()]
    if "p" in codes:
        keys += [_key("p", phone) for phone in record.get("phones") or ()]
    if "i" in codes:
        keys += [_key("i", identifier) for identifier in record.get("identifiers") or ()]
    if "gf" in codes and given and family:
        keys.append(_key("gf", *sorted([given, family])))
    if "fb" in codes:
        keys.append(_key("fb", family, birth))
    if "gb" in codes:
        keys.append(_key("gb", given, birth))
    if "pf" in codes:
        keys.append(_key("pf", postal, family))
    if "pb" in codes:
        keys.append(_key("pb", postal, birth))
    if "op" in codes and record.get("organization_name"):
        keys.append(_key("op", organization_core(record["organization_name"]) or None, postal))
    yield from dict.fromkeys(k for k in keys if k)


def rule_of(block_key: str) -> Rule | None:
    """The standard rule a stored key belongs to, or None for a learned key."""
    if not block_key.startswith("~"):
        return None
    return RULES_BY_CODE.get(block_key[1:].split(":", 1)[0])
