"""What every step of the erasure shares: the placeholder, the ledger's capture source, the refusal."""

from __future__ import annotations

from django.core.exceptions import ValidationError

ERASED = "[erased]"
CAPTURE_SOURCE = "Erasure request (right to be forgotten)"


class ErasureRefused(ValidationError):
    """The erasure cannot be done (unknown party, already erased, changed meanwhile)."""
