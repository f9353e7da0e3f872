"""Which proxy a request goes through, decided once for both shells.

requests and httpx read ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` differently
(a ``host:port`` entry, a CIDR range, a leading dot, and when the environment is read), so each shell
used to route the same request differently. Here the environment is read once, when a client is
built, and :meth:`ProxyRules.proxy_for` decides per URL; the transports only send through the
proxy they are told (or none).

``NO_PROXY`` is a comma-separated list of: ``*`` (no proxy at all); a host name, which matches
itself and its subdomains, with or without a leading dot (``example.com``, ``.example.com``); an IP
address or a CIDR range (``10.0.0.0/8``, ``::1``); any of these with ``:port`` to match that port
only. Matching ignores case.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from midil_common.http.urls import origin

__all__ = ["ProxyRules"]


@dataclass(frozen=True)
class ProxyRules:
    """Proxies per scheme and the hosts that bypass them."""

    http: str | None = None
    https: str | None = None
    no_proxy: tuple[str, ...] = ()

    @classmethod
    def explicit(cls, proxy: str) -> ProxyRules:
        """Every request through ``proxy`` (``HttpClient(proxy=...)``); the environment is ignored."""
        url = _with_scheme(proxy)
        return cls(http=url, https=url)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ProxyRules:
        """The rules of ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` (either
        case; the lower-case name wins, as in curl and urllib)."""
        env = os.environ if environ is None else environ

        def read(name: str) -> str | None:
            value = env.get(name.lower()) or env.get(name.upper()) or ""
            return value.strip() or None

        fallback = read("ALL_PROXY")
        http = read("HTTP_PROXY") or fallback
        https = read("HTTPS_PROXY") or fallback
        no_proxy = tuple(
            entry.strip().lower() for entry in (read("NO_PROXY") or "").split(",") if entry.strip()
        )
        return cls(
            http=_with_scheme(http) if http else None,
            https=_with_scheme(https) if https else None,
            no_proxy=no_proxy,
        )

    def proxy_for(self, url: str) -> str | None:
        """The proxy URL for a request to ``url``, or None to connect directly."""
        scheme, host, port = origin(url)
        proxy = self.https if scheme == "https" else self.http
        if proxy is None or self.bypasses(host, port):
            return None
        return proxy

    def bypasses(self, host: str, port: int | None) -> bool:
        """Whether ``NO_PROXY`` sends requests to ``host``:``port`` directly."""
        host = host.strip("[]").lower()
        for entry in self.no_proxy:
            if entry == "*":
                return True
            name, entry_port = _split_port(entry)
            if entry_port is not None and entry_port != port:
                continue
            if _host_matches(host, name):
                return True
        return False


def _with_scheme(proxy: str) -> str:
    return proxy if "://" in proxy else f"http://{proxy}"


def _split_port(entry: str) -> tuple[str, int | None]:
    """``host[:port]`` of a ``NO_PROXY`` entry (a bracketed or bare IPv6 address has no port)."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return host, int(port) if port.isdigit() else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if port.isdigit():
            return host, int(port)
    return entry, None


def _host_matches(host: str, entry: str) -> bool:
    if "/" in entry:
        try:
            network = ipaddress.ip_network(entry, strict=False)
            return ipaddress.ip_address(host) in network
        except ValueError:
            return False
    entry = entry.lstrip(".")
    if not entry:
        return False
    try:
        return ipaddress.ip_address(host) == ipaddress.ip_address(entry)
    except ValueError:
        pass
    return host == entry or host.endswith("." + entry)
