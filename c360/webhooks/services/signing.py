"""The signature of a delivery, as payment and code-hosting platforms sign theirs:
``C360-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>``.

A receiver recomputes it over the raw body with the subscriber's secret, compares in constant
time, and refuses a timestamp older than its tolerance (a replayed delivery)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "C360-Signature"
TOLERANCE_SECONDS = 300


def secret_generate() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature_compute(*, secret: str, body: bytes, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature_compute(secret=secret, body=body, timestamp=timestamp)}"


def signature_verify(
    *, secret: str, body: bytes, header: str, tolerance: int = TOLERANCE_SECONDS, now: float | None = None
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is no older than ``tolerance``."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(given, signature_compute(secret=secret, body=body, timestamp=timestamp))
