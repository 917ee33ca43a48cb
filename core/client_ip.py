"""The real client address of a request: one function, used everywhere.

``X-Forwarded-For`` is written by whoever sends the request, so it is believed only as
far as the chain of proxies we run ourselves. Two ways to say which proxies those are
(settings, read from the environment; both default to "none", i.e. ``REMOTE_ADDR``):

* ``TRUSTED_PROXIES`` -- networks (CIDR) of our proxies. The chain
  ``X-Forwarded-For + [REMOTE_ADDR]`` is walked from the right, skipping addresses inside
  those networks; the first address outside them is the client. Nothing in the header is
  read unless ``REMOTE_ADDR`` itself is a trusted proxy.
* ``TRUSTED_PROXY_COUNT`` -- the number of proxies in front of the app (1 for one nginx).
  Each appends the address it saw to the header, so the client is the N-th entry from the
  right; entries to the left of it were written by the client and are ignored. A header
  with fewer entries than N (a request that bypassed a proxy) falls back to ``REMOTE_ADDR``.

Throttles, lockout, logs and the audit trail all call :func:`client_ip`, so one
forged header cannot be believed by one of them and ignored by another.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from django.conf import settings
from django.http import HttpRequest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(raw: str) -> str | None:
    """An address from one header entry (ports and IPv6 brackets removed), or None."""
    value = raw.strip()
    if value.startswith("["):  # "[2001:db8::1]:443"
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # "203.0.113.9:51234"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _forwarded_chain(request: HttpRequest) -> list[str | None]:
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return [_parse(part) for part in header.split(",")] if header.strip() else []


def _in(address: str, networks: Sequence[IPNetwork]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent ``request``, as a normalised string.

    ``REMOTE_ADDR`` unless the request came through a configured trusted proxy (see the
    module docstring). Never raises: an unparsable ``REMOTE_ADDR`` is returned as given,
    and an unparsable header entry ends the walk at the last address we could trust.
    """
    remote_raw = request.META.get("REMOTE_ADDR", "") or ""
    remote = _parse(remote_raw)
    if remote is None:
        return remote_raw.strip()

    networks: Sequence[IPNetwork] = getattr(settings, "TRUSTED_PROXIES", ())
    count: int = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if networks:
        current = remote
        for entry in reversed(_forwarded_chain(request)):
            if not _in(current, networks) or entry is None:
                break
            current = entry
        return current
    if count > 0:
        chain = _forwarded_chain(request)
        if len(chain) < count:
            return remote
        chosen = chain[-count]
        return chosen if chosen is not None else remote
    return remote
