"""Who may use a deep-tui server: anyone on this machine by default, token holders otherwise, never another site.

A server bound to loopback is reachable only from this machine; any other
address needs a shared token, which every request then carries as
``Authorization: Bearer TOKEN`` or, where a browser cannot set headers
(``EventSource``, websockets), as ``?token=TOKEN``.

Being reachable only from this machine does not keep out the pages its browser
opens, so two more rules hold whatever the address, for both servers:

- the ``Host`` header must name this server (DNS rebinding gives an attacker's
  name the server's address, and the browser then treats the server as the
  attacker's own site);
- a request that changes something (starts or cancels a run, opens a
  dashboard) must not come from a page of another origin: a browser says where
  a request comes from in ``Origin`` and ``Sec-Fetch-Site``. A program (curl)
  sends neither and is let through, as are top-level visits the user made.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

TOKEN_PARAM = "token"
"""The query parameter that carries the token where headers cannot."""

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
"""The names a browser on this machine uses for a server on loopback."""

WILDCARDS = frozenset({"", "0.0.0.0", "::"})
"""Bound addresses that are every address of the machine, and so no name a browser uses."""

OWN_SITE = frozenset({"same-origin", "none"})
"""``Sec-Fetch-Site`` values of requests made by this server's own page, or typed by the user."""

SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
"""On every response: no page of another site may frame ours (a click there would be a click here) or embed
what we answer; the address, which may carry the token, is never sent on."""


class Headers(Protocol):
    """Case-insensitive request headers, as Starlette and aiohttp both give them."""

    def get(self, key: str, /) -> str | None: ...


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


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


def _host_name(authority: str) -> str | None:
    """The host of a ``Host`` header or an origin's authority, lower-cased, without brackets or port."""
    try:
        parts = urlsplit(f"//{authority}")
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    if parts.username is not None or parts.path or not parts.hostname:
        return None
    return parts.hostname.rstrip(".")


@dataclass(frozen=True)
class Access:
    """The names this server answers to and the rule for requests that change something."""

    bound: str
    """The address the server listens on."""
    names: frozenset[str] = frozenset()
    """Further names it is reached by (``--allow-host``), e.g. through a proxy."""

    @classmethod
    def of(cls, bound: str, names: Iterable[str] = ()) -> Access:
        return cls(bound, frozenset(name.lower().strip("[]").rstrip(".") for name in names))

    def allowed_names(self, local_address: str | None) -> frozenset[str]:
        """The bound address unless it is a wildcard, the one the connection came in on, ``--allow-host``
        names, and the loopback names when the connection is on loopback."""
        bound = self.bound.lower().strip("[]")
        names = set(self.names) | ({bound} - WILDCARDS)
        if local_address:
            names.add(local_address.lower())
        if is_loopback(bound) or (local_address and is_loopback(local_address)):
            names |= LOOPBACK_NAMES
        return frozenset(names)

    def refusal(self, method: str, path: str, headers: Headers, local_address: str | None) -> Refusal | None:
        """Why this request is refused, if it is: a ``Host`` that is not ours (421), or a request that changes
        something sent by a page of another origin (403)."""
        host = headers.get("host")
        if not host:
            return Refusal(400, "the request has no Host header")
        allowed = self.allowed_names(local_address)
        if _host_name(host) not in allowed:
            names = ", ".join(sorted(f"[{n}]" if ":" in n else n for n in allowed))
            return Refusal(
                421,
                f"this server answers to {names} (any port), not {host!r}: a page that reached it under another "
                "name may belong to any site. If you reach it by that name, start it with --allow-host NAME",
            )
        if not changes_state(method, path, headers):
            return None
        return foreign_origin(host, headers)


def changes_state(method: str, path: str, headers: Headers) -> bool:
    """Whether a request starts, cancels or drives something: every method but GET and HEAD, a websocket,
    and the one GET that starts a run."""
    upgrade = (headers.get("upgrade") or "").lower() == "websocket"
    return method not in ("GET", "HEAD") or upgrade or path == "/agent/stream"


def foreign_origin(host: str, headers: Headers) -> Refusal | None:
    """A refusal if a browser says the request comes from a page of another origin.

    The scheme is not compared: a proxy that adds HTTPS changes it, and no other site can answer on this
    server's host and port. ``Origin: null`` (a sandboxed frame, a form from a ``data:`` page) is foreign.
    """
    site = headers.get("sec-fetch-site")
    if site is not None and site not in OWN_SITE:
        return Refusal(403, f"refused: a page of another site (Sec-Fetch-Site: {site}) cannot start or change runs")
    origin = headers.get("origin")
    if origin is None:
        return None
    authority = urlsplit(origin).netloc if origin != "null" else ""
    if not authority or authority.lower() != host.lower():
        return Refusal(403, f"refused: a page of {origin!r} cannot start or change runs on {host}")
    return None


LOCAL = Access("127.0.0.1")
"""The default: a server on loopback, known by no other name."""
