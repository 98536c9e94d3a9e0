"""The consent ledger in words (issue 18, item 9): what each entry concerns and what it
changed, never its key or stored codes ('email/newsletter', 'opt_in')."""

from __future__ import annotations

from types import SimpleNamespace

from consents.selectors import ledger_change, ledger_what

NAMES = {"newsletter": "Newsletter", "marketing": "Marketing offers"}


def test_what_an_entry_concerns():
    assert ledger_what("email/newsletter", NAMES) == "Email · Newsletter"
    assert ledger_what("sms#12/marketing", NAMES) == "SMS (contact point 12) · Marketing offers"
    assert ledger_what("preferences", NAMES) == "Privacy preferences"
    assert ledger_what("do_not_solicit", NAMES) == "Do not solicit"
    assert ledger_what("email/profiling", NAMES) == "Email · Profiling"  # a purpose since removed


def test_what_an_entry_changed():
    first = SimpleNamespace(previous=None, new={"status": "opt_in"})
    assert ledger_change(first) == "Not seen → Opted in"
    withdrawn = SimpleNamespace(previous={"status": "opt_in"}, new={"status": "opt_out"})
    assert ledger_change(withdrawn) == "Opted in → Opted out"
    removed = SimpleNamespace(previous={"status": "seen"}, new=None)
    assert ledger_change(removed) == "Seen, no answer → removed"
    preferences = SimpleNamespace(
        previous={"do_not_solicit": False, "contact_frequency": "weekly"},
        new={"do_not_solicit": True, "contact_frequency": "weekly"},
    )
    assert ledger_change(preferences) == "Do not solicit: yes"
