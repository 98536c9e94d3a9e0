"""Erasure (the right to be forgotten).

``party_erase`` removes a customer's personal values from every place this product keeps them
— the party and the parties merged into it, their source records (raw payloads too), contact
points, identifiers, engagements, memberships, relationships, overrides, consents and their
ledger, the audit trail's snapshots, data-quality issues, rejected import lines, the admin's
log, and their rows in stored import files, drafts included, and what other apps' erasure
participants redact (``parties.extensions.erasure_participant_register``; matching: its stored
records, block keys, labels and suggestions) — in one transaction, the files after it commits.
Rows that other records or statistics need stay, emptied.

Only the person: values found in rows that are not linked to the party (rejected lines, the
admin's log, other customers' files) count only if they identify someone by themselves and are
long enough to (an email address, a readable phone number, an identifier), and no other
customer holds them. The customer's own ledger entries lose their free text whole.

What is left of the person is a tombstone: keyed hashes (HMAC-SHA256) of their email
addresses, phone numbers, source keys, identifiers and name with birth date. When an import
or an edit later brings the same person back, ``tombstones_guard`` recognises them and marks
them "do not process" and "do not solicit" through the consent ledger, so they do not become
contactable again. The audit trail keeps an erasure entry with counts, never values.

The modules, one step each: ``erase`` (``party_erase``: the order of the steps, the locks, the
transaction), ``values`` (what to redact), ``rows`` (the party's own rows), ``ledger`` (consents
and the ledger's free text), ``audit`` (the audit trail and the erasure's entry), ``elsewhere``
(other apps' data and unlinked rows), ``files`` (stored import files), ``tombstones`` (the
hashes and the guard against the erased coming back).

The files are changed after the erasure commits, from rows written in its transaction; rows the
process could not do (it died, the storage failed) stay pending and are retried
(``files_pending_apply``: beat every minute, ``manage.py erasure_files``); the erase page, the
erasure's summary and the admin ("Pending file erasures") show them.
"""

from consents.services.erasure.base import ErasureRefused
from consents.services.erasure.erase import ErasureResult, erasure_summary, party_erase
from consents.services.erasure.files import files_pending_apply, files_pending_count
from consents.services.erasure.tombstones import (
    tombstone_digest,
    tombstone_erased_on,
    tombstones_guard,
    tombstones_guard_hook,
)

__all__ = [
    "ErasureRefused",
    "ErasureResult",
    "erasure_summary",
    "files_pending_apply",
    "files_pending_count",
    "party_erase",
    "tombstone_digest",
    "tombstone_erased_on",
    "tombstones_guard",
    "tombstones_guard_hook",
]
