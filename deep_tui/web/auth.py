"""Who may use a deep-tui server: anyone on this machine by default, token holders otherwise.

A server bound to loopback is reachable only from this machine; any other
address needs a shared token, which every request then carries as
``Authorization: Bearer TOKEN`` or, where a browser cannot set headers
(``EventSource``, websockets), as ``?token=TOKEN``.
"""

from __future__ import annotations

import hmac
import ipaddress

TOKEN_PARAM = "token"
"""The query parameter that carries the token where headers cannot."""


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve to anything
        return False


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, if that is what it holds."""
    scheme, _, value = (authorization or "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def token_matches(expected: str, given: str | None) -> bool:
    """Compare in constant time, so response timing does not reveal how much of a guess was right."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
