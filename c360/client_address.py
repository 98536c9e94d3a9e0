"""The address a request comes from, for the login lockout and the API's anonymous throttle.

``X-Forwarded-For`` is believed only as far as ``C360_TRUSTED_PROXIES`` reverse proxies of our
own append to it: a client can put anything in the header itself, and an address taken from it
blindly would let every request count as a new client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The client's IP address: ``REMOTE_ADDR`` with no trusted proxy, else the address the
    outermost trusted proxy saw (the ``C360_TRUSTED_PROXIES``-th entry from the right of
    ``X-Forwarded-For``). Anything that is not an IP address is not used."""
    meta = getattr(request, "META", {})
    remote = _address(meta.get("REMOTE_ADDR"))
    proxies = settings.C360_TRUSTED_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    return _address(hops[-min(proxies, len(hops))]) or remote


def _address(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
