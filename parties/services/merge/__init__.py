"""Lossless merge, unmerge and split of parties.

A merge moves every row of the absorbed parties to the survivor — source records, contact
points (a value the survivor already has gains the absorbed row's provenance instead; the
absorbed row stays where it was), identifiers, engagements, memberships, relationships and
steward overrides — and lets other apps move theirs (``extensions.merge_participant_register``).
The absorbed parties keep their ids, with status merged and ``merged_into`` the survivor.
Nothing is deleted. The merge is a ``PartyEvent`` holding a snapshot before and after and the
exact list of what changed (``changes``), which ``party_unmerge`` plays backwards.

Concurrency: every service locks the party rows it touches in primary-key order before
reading them, so two merges of overlapping parties run one after the other and the second
finds the first one's result ("already merged into …") instead of merging twice. The lock
order of the whole application is written down once, in ``parties_lock``.

One operation per module: ``snapshot`` (what the audit trail shows), ``changes`` (the change
log an unmerge plays backwards), ``locks`` (the lock order and the loser's message),
``merge``, ``unmerge``, ``split``; ``common`` holds the refusals and constants they share.
"""

from parties.services.merge.common import CONTACT_POINT_MODELS, MERGE_KINDS, AlreadyHandled, MergeRefused
from parties.services.merge.locks import merged_by, parties_lock
from parties.services.merge.merge import party_merge, survivor_default
from parties.services.merge.snapshot import parties_snapshot
from parties.services.merge.split import party_split
from parties.services.merge.unmerge import party_unmerge

__all__ = [
    "CONTACT_POINT_MODELS",
    "MERGE_KINDS",
    "AlreadyHandled",
    "MergeRefused",
    "merged_by",
    "parties_lock",
    "parties_snapshot",
    "party_merge",
    "party_split",
    "party_unmerge",
    "survivor_default",
]
