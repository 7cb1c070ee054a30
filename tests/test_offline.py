"""The network guard (tests/offline.py): a test that reaches beyond loopback fails, before a packet goes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from offline import NetworkGuard, OffMachineConnection

TEST_NET = ("192.0.2.1", 443)  # RFC 5737 TEST-NET-1: no host has it


@pytest.fixture
def guard(stays_on_this_machine: NetworkGuard) -> Iterator[NetworkGuard]:
    """The suite's guard; what a test here makes it refuse is its point, not a failure."""
    yield stays_on_this_machine
    stays_on_this_machine.refused.clear()


def test_a_connect_beyond_loopback_is_refused_before_the_real_connect_is_called(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    called: list[Any] = []

    def real_connect(sock: socket.socket, address: Any) -> None:  # what the guard would hand over to
        called.append(address)

    monkeypatch.setattr(socket.socket, "connect", real_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", lambda sock, address: called.append(address) or 0)
    inner = NetworkGuard().install()
    try:
        for address in (TEST_NET, ("2001:db8::1", 443, 0, 0), ("8.8.8.8", 53)):
            family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
            with socket.socket(family) as sock:
                with pytest.raises(OffMachineConnection, match=str(address[0]).replace(".", r"\.")):
                    sock.connect(address)
                with pytest.raises(OffMachineConnection):
                    sock.connect_ex(address)
        assert called == []  # never handed to the operating system
        assert len(inner.refused) == 6
        for address in (("127.0.0.1", 5432), ("127.8.9.10", 80), ("::1", 80, 0, 0), ("localhost", 80)):
            family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
            with socket.socket(family) as sock:
                sock.connect(address)
        assert called == [("127.0.0.1", 5432), ("127.8.9.10", 80), ("::1", 80, 0, 0), ("localhost", 80)]
    finally:
        inner.uninstall()


def test_the_suites_guard_refuses_every_way_out_and_names_the_address(guard: NetworkGuard) -> None:
    with socket.socket() as sock, pytest.raises(OffMachineConnection, match=r"192\.0\.2\.1"):
        sock.connect(TEST_NET)
    with pytest.raises(OffMachineConnection, match=r"192\.0\.2\.1"):
        socket.create_connection(TEST_NET, timeout=5)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, pytest.raises(OffMachineConnection):
        udp.sendto(b"x", ("192.0.2.1", 53))
    with pytest.raises(OffMachineConnection, match=r"api\.telegram\.org"):
        socket.getaddrinfo("api.telegram.org", 443)  # a name lookup asks DNS: refused too
    with pytest.raises(OffMachineConnection):
        socket.gethostbyname("example.org")
    assert len(guard.refused) == 5


async def test_asyncio_and_http_clients_are_refused_too(guard: NetworkGuard) -> None:
    with pytest.raises(OffMachineConnection, match=r"192\.0\.2\.1"):
        await asyncio.wait_for(asyncio.open_connection(*TEST_NET), timeout=5)
    with pytest.raises(OffMachineConnection, match=r"api\.telegram\.org"):
        await asyncio.wait_for(asyncio.open_connection("api.telegram.org", 443), timeout=5)
    async with httpx.AsyncClient(timeout=5) as client:  # (python-telegram-bot's client)
        with pytest.raises(Exception) as raised:
            await client.get("http://192.0.2.1/")
    assert isinstance(raised.value, OffMachineConnection) or raised.group_contains(OffMachineConnection)
    assert guard.refused[-1] == "a connection to ('192.0.2.1', 80)"


async def test_loopback_and_unix_sockets_still_work(tmp_path: Any) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    for host in ("127.0.0.1", "localhost"):
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"ping\n")
            assert await reader.readline() == b"ping\n"
            writer.close()
    path = str(tmp_path / "echo.sock")
    async with await asyncio.start_unix_server(echo, path):
        reader, writer = await asyncio.open_unix_connection(path)
        writer.write(b"pong\n")
        assert await reader.readline() == b"pong\n"
        writer.close()
