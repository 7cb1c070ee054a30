"""One gRPC connection to a wechaty puppet service, made the way the official clients make it.

The protocol is spoken directly with the `wechaty-grpc` stubs over grpclib: TLS by default (the
service's CA, or the system's, and the name in the service's certificate: its built-in one is
named `insecure`), plain text only when `[wechat] tls = false`, and the token as the gRPC metadata
`authorization: Wechaty <token>`, which is what wechaty-puppet-service 1.x checks.

A failure that will not pass by itself is told apart here from one that may: a refused token
(UNAUTHENTICATED) or a TLS mismatch becomes `Refused`, with what an operator must change.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass

from grpclib.client import Channel
from grpclib.config import Configuration
from grpclib.const import Status
from grpclib.exceptions import GRPCError
from wechaty_grpc.wechaty import PuppetStub

from handlers.transport import PlatformError, PlatformFault

#: The name in wechaty-puppet-service's built-in certificate (signed by the wechaty community CA).
BUILT_IN_SERVER_NAME = "insecure"


@dataclass(frozen=True)
class TlsSettings:
    """`[wechat] tls, tls_ca, tls_server_name`: how the service's certificate is checked."""

    enabled: bool = True
    ca_file: str | None = None  # PEM; None: the system's trusted CAs
    server_name: str | None = None  # None: the endpoint's host name

    def context(self) -> ssl.SSLContext | None:
        """The TLS context for the channel, or None for plain text; a CA that cannot be read stops the start."""
        if not self.enabled:
            return None
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise PlatformError(
                f"WeChat: the puppet service's CA in [wechat] tls_ca = {self.ca_file!r} cannot be read ({exc}): "
                "write the path of the PEM file that signed the service's certificate"
            ) from exc
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["h2"])
        return context


class Refused(Exception):
    """The service refuses the bot, and will go on refusing it until someone changes a setting."""

    def __init__(self, fault: PlatformFault, detail: str, advice: str) -> None:
        super().__init__(f"{detail}: {advice}")
        self.fault = fault
        self.detail = detail
        self.advice = advice


class Connection:
    """A channel to the service and the stubs that use it: one for the event stream, which has no
    deadline, and one for every other call, which has `rpc_timeout`."""

    def __init__(self, endpoint: str, token: str, tls: TlsSettings, context: ssl.SSLContext | None,
                 rpc_timeout: float) -> None:  # fmt: skip
        host, port = split_endpoint(endpoint)
        self.host, self.port = host, port
        self.channel = Channel(
            host, port, ssl=context, config=Configuration(ssl_target_name_override=tls.server_name)
        )
        metadata = {"authorization": f"Wechaty {token}"}
        self.events = PuppetStub(self.channel, metadata=metadata)
        self.calls = PuppetStub(self.channel, metadata=metadata, timeout=rpc_timeout)

    def close(self) -> None:
        """Drop the connection; the service and its puppet go on running (no Stop is ever sent)."""
        self.channel.close()


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`) as grpclib wants it; a port is required."""
    host, sep, port = endpoint.strip().rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise PlatformError(f'WeChat: the puppet-service endpoint {endpoint!r} is not "host:port"')
    return host.strip("[]"), int(port)


def refusal(exc: BaseException, tls: TlsSettings, token_env: str) -> Refused | None:
    """What `exc` says that will not pass by itself, with what to fix; None when it may pass."""
    if isinstance(exc, GRPCError) and exc.status is Status.UNAUTHENTICATED:
        return Refused(
            PlatformFault.CREDENTIALS,
            f"the puppet service refused the token ({exc.message or exc.status.name})",
            f"set {token_env} to the token the service was started with (its WECHATY_PUPPET_SERVICE_TOKEN)",
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Refused(
            PlatformFault.TLS,
            f"the puppet service's certificate is not accepted ({exc.verify_message or exc})",
            "set [wechat] tls_ca to the CA that signed it and tls_server_name to the name in it "
            f'(the service\'s built-in certificate: the wechaty CA and "{BUILT_IN_SERVER_NAME}")',
        )
    if isinstance(exc, ssl.SSLError) and tls.enabled:
        return Refused(
            PlatformFault.TLS,
            f"the puppet service does not answer TLS ({exc.reason or exc})",
            "start the service with TLS, or write [wechat] tls = false if it really serves plain text",
        )
    return None


async def speaks_tls(host: str, port: int, timeout: float) -> bool:
    """Whether the service answers a TLS handshake: what a plain-text connection that the service
    drops at once (grpclib: "Connection lost") means when the bot was told `tls = false`."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port, ssl=context)
    except (OSError, TimeoutError, ssl.SSLError):
        return False
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return True


def plain_text_refused() -> Refused:
    return Refused(
        PlatformFault.TLS,
        "the puppet service speaks TLS and [wechat] tls = false",
        "remove tls = false and set tls_ca / tls_server_name for the service's certificate",
    )
