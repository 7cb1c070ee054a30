"""The tests never reach past this machine: a connect, a datagram or a name lookup for anything but
loopback (127.0.0.0/8, ::1, localhost) or a Unix socket raises before the real call is made.

Installed for every test by conftest.py, and in the bot processes the tests start
(tests/controlled_process.py). Every refusal is also remembered in `refused`, so that a library
that catches the error and carries on still fails its test.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class OffMachineConnection(RuntimeError):
    """A test tried to reach an address beyond this machine. Not an OSError, which clients retry."""


def is_loopback_host(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%")[0].rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _is_numeric(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        ipaddress.ip_address(str(host).strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


class NetworkGuard:
    """Patches `socket.socket.connect`, `connect_ex`, `sendto`, `socket.getaddrinfo` and
    `gethostbyname`; asyncio's connections and name lookups go through these."""

    def __init__(self) -> None:
        self.refused: list[str] = []
        self._saved: list[tuple[object, str, bool, Any]] = []

    def check_address(self, sock: socket.socket | None, address: object) -> None:
        if sock is not None and sock.family not in (socket.AF_INET, socket.AF_INET6):
            return  # a Unix socket (or a socketpair): nothing leaves the machine
        host = address[0] if isinstance(address, tuple) and address else address
        if not is_loopback_host(host):
            self._refuse(f"a connection to {address!r}")

    def check_name(self, host: object) -> None:
        # A numeric address needs no lookup (no packet); a name other than localhost asks DNS.
        if host is None or host in ("", b"") or is_loopback_host(host) or _is_numeric(host):
            return
        self._refuse(f"a name lookup of {host!r}")

    def _refuse(self, what: str) -> None:
        self.refused.append(what)
        raise OffMachineConnection(f"the tests stay on this machine: refused {what} (only loopback is allowed)")

    def install(self) -> NetworkGuard:
        guard = self
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_sendto = socket.socket.sendto
        real_getaddrinfo = socket.getaddrinfo
        real_gethostbyname = socket.gethostbyname

        def connect(self: socket.socket, address: Any) -> None:
            guard.check_address(self, address)
            real_connect(self, address)

        def connect_ex(self: socket.socket, address: Any) -> int:
            guard.check_address(self, address)
            return real_connect_ex(self, address)

        def sendto(self: socket.socket, data: Any, *args: Any) -> int:
            if args:
                guard.check_address(self, args[-1])
            return real_sendto(self, data, *args)  # type: ignore[arg-type]

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            guard.check_name(host)
            return real_getaddrinfo(host, *args, **kwargs)

        def gethostbyname(host: str) -> str:
            guard.check_name(host)
            return real_gethostbyname(host)

        for owner, name, replacement in (
            (socket.socket, "connect", connect),
            (socket.socket, "connect_ex", connect_ex),
            (socket.socket, "sendto", sendto),
            (socket, "getaddrinfo", getaddrinfo),
            (socket, "gethostbyname", gethostbyname),
        ):
            own = name in vars(owner)  # socket.socket inherits connect from _socket.socket
            self._saved.append((owner, name, own, vars(owner).get(name)))
            setattr(owner, name, replacement)
        return self

    def uninstall(self) -> None:
        while self._saved:
            owner, name, own, original = self._saved.pop()
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)
