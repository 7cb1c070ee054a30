"""The WeChat protocol's small decisions, without a service: what a refusal means and what the
leaders read, what an error event says, and settings that cannot work."""

from __future__ import annotations

import datetime as dt
import ssl
from zoneinfo import ZoneInfo

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError

from bot.wechat_adapter import _error_text, _json_object
from bot.wechat_connection import TlsSettings, refusal, split_endpoint
from handlers import texts
from handlers.transport import PlatformError, PlatformFault

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_every_fault_has_its_words_for_the_leaders() -> None:
    for fault in PlatformFault:
        text = texts.platform_refused("wechat", fault)
        assert text.startswith("🚫 微信机器人") and texts.PLATFORM_FAULTS[fault] in text


def test_the_gap_names_its_span_in_town_time_and_the_day_when_it_began_before() -> None:
    same_day = texts.platform_gap("wechat", dt.datetime(2020, 2, 17, 9, 0, tzinfo=SHANGHAI),
                                  dt.datetime(2020, 2, 17, 9, 12, tzinfo=SHANGHAI))  # fmt: skip
    assert "2月17日09:00至09:12" in same_day and "重新发送" in same_day
    overnight = texts.platform_gap("wechat", dt.datetime(2020, 2, 16, 23, 50, tzinfo=SHANGHAI),
                                   dt.datetime(2020, 2, 17, 0, 5, tzinfo=SHANGHAI))  # fmt: skip
    assert "2月17日2月16日23:50至00:05" in overnight


def test_what_an_error_event_says() -> None:
    gerror = '{"gerror": "{\\"code\\":2,\\"message\\":\\"payload failed\\",\\"name\\":\\"Error\\"}"}'
    assert _error_text(_json_object(gerror), gerror) == "payload failed"  # wechaty-puppet 1.x
    assert _error_text(_json_object('{"data": "old shape"}'), '{"data": "old shape"}') == "old shape"
    assert _error_text(_json_object("not json"), "not json") == "not json"
    assert _json_object('["a list"]') == {}


def test_refusals_are_told_apart_from_what_may_pass() -> None:
    tls = TlsSettings()
    token = refusal(GRPCError(Status.UNAUTHENTICATED, 'Invalid Wechaty TOKEN "x"'), tls, "MY_TOKEN")
    assert token is not None and token.fault is PlatformFault.CREDENTIALS and "MY_TOKEN" in str(token)
    certificate = ssl.SSLCertVerificationError(1, "certificate verify failed")
    certificate.verify_message = "unable to get local issuer certificate"
    refused = refusal(certificate, tls, "MY_TOKEN")
    assert refused is not None and refused.fault is PlatformFault.TLS and "tls_ca" in str(refused)
    for passing in (GRPCError(Status.UNAVAILABLE, "restarting"), StreamTerminatedError("Connection lost"),
                    ConnectionRefusedError(), TimeoutError()):  # fmt: skip
        assert refusal(passing, tls, "MY_TOKEN") is None, passing


def test_settings_that_cannot_work_stop_the_start_saying_which() -> None:
    with pytest.raises(PlatformError, match="tls_ca"):
        TlsSettings(ca_file="/nonexistent/wechaty-ca.pem").context()
    assert TlsSettings(enabled=False).context() is None
    with pytest.raises(PlatformError, match="host:port"):
        split_endpoint("127.0.0.1")
    assert split_endpoint("[::1]:8788") == ("::1", 8788)
