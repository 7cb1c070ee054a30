"""Sending on Telegram: the town's limits, and what the bot does when Telegram's answer does not come.

In-process, the real app and python-telegram-bot against the stand-in (see test_telegram_chat.py
for the harness), both databases; and the flood limiter on its own, on a clock the test moves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from collections.abc import Callable

import httpx
import pytest
from telegram.error import NetworkError, TimedOut
from telegram_standin import (
    ADMIN,
    FULL_REPORT,
    HONGXING,
    LEADERS,
    WANGXIAN,
    WUXING,
    WUXING_HEAD,
    TelegramStandIn,
    town_toml,
)
from test_telegram_chat import Running, running_bot

from bot.app import App
from bot.platforms import telegram_adapter
from bot.telegram_adapter import _GatewayTimedOut, _network_error, _refusal
from bot.telegram_limits import FloodWait, SendLimiter, SendLimits
from handlers.clock import ManualClock
from handlers.messages import OutgoingMessage
from handlers.transport import DeliveryError, DeliveryFailure
from storage import Database
from townconfig import TownConfig, parse_config

#: Seconds the bot waits for an answer in these tests; a late answer comes well after it.
SHORT_TIMEOUT = 0.3
LATE = 1.0


@pytest.fixture
def doubled_warnings(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """The sender's warnings about sends that may have arrived twice, so far."""
    caplog.set_level(logging.WARNING, logger="outbox.sender")
    return lambda: [r.getMessage() for r in caplog.records if "may arrive twice" in r.getMessage()]


def configured(monkeypatch: pytest.MonkeyPatch, telegram: TelegramStandIn, section: str = "") -> TownConfig:
    monkeypatch.setenv("TELEGRAM_BASE_URL", telegram.base_url)
    return parse_config(town_toml(telegram=section), "town.toml")


async def queue(bot: Running, chat: int, texts: list[str]) -> None:
    async with bot.app.database.transaction() as store:
        for text in texts:
            await store.outbox.enqueue(chat=f"telegram:{chat}", text=text, purpose="notice", at=bot.clock.now())
    bot.app.wake_senders()


async def until_all_sent(bot: Running, rounds: int = 8) -> None:
    """Deliver, moving the outbox's clock past each retry's backoff (not the wall clock)."""
    for _ in range(rounds):
        await bot.settle()
        rows = [row for chat in (WUXING, WANGXIAN, HONGXING, LEADERS) for row in await bot.outbox(chat)]
        if all(row.status == "sent" for row in rows):
            return
        bot.clock.advance(dt.timedelta(minutes=6))  # longer than any backoff
    raise AssertionError(f"still not sent: {[(r.chat, r.status, r.error) for r in rows if r.status != 'sent']}")


# --- the town's limits ------------------------------------------------------------------------------


async def test_a_towns_per_chat_per_minute_defers_the_sixth_message_into_a_group(
    database: Database, telegram: TelegramStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    town = configured(monkeypatch, telegram, "per_chat_per_minute = 5")
    async with running_bot(town, database, telegram, clock, merges=False) as bot:
        assert bot.adapter.limiter.limits.per_group_per_minute == 5
        await queue(bot, WUXING, [f"第{n}条" for n in range(8)])
        await queue(bot, WANGXIAN, ["王岘村的一条"])
        await bot.settle()
        assert telegram.sent_to(WUXING) == [f"第{n}条" for n in range(5)]
        assert telegram.sent_to(WANGXIAN) == ["王岘村的一条"]  # another group is not held up
        waiting = [row for row in await bot.outbox(WUXING) if row.status == "pending"]
        assert [row.text for row in waiting] == ["第5条", "第6条", "第7条"]
        assert telegram.refused == []  # held back here, not refused by Telegram
        for row in waiting:
            assert row.next_attempt_at - clock.now() > dt.timedelta(seconds=55)


async def test_a_towns_per_second_is_the_overall_rate(
    database: Database, telegram: TelegramStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    town = configured(monkeypatch, telegram, "per_second = 10")
    async with running_bot(town, database, telegram, clock) as bot:
        groups = [-1005000000000 - n for n in range(14)]
        async with bot.app.database.transaction() as store:
            for group in groups:
                await store.outbox.enqueue(chat=f"telegram:{group}", text="测试", purpose="notice", at=clock.now())
        await bot.settle()
    times = sorted(m.at for m in telegram.sent)
    assert len(times) == 14
    assert times[10] - times[0] >= 0.95  # the 11th waited for the first second to pass
    assert times[9] - times[0] < 0.9  # and the first ten did not wait for a second


async def test_without_those_keys_the_limits_are_telegrams(
    database: Database, telegram: TelegramStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await App.start(configured(monkeypatch, telegram), clock=clock, database=database)
    limits = telegram_adapter(app, telegram.token).limiter.limits
    assert (limits.per_second, limits.per_group_per_minute) == (30, 20)
    explicit = telegram_adapter(app, telegram.token, limits=SendLimits.off()).limiter.limits
    assert explicit == SendLimits.off()  # limits given to the adapter win over the config


# --- no answer ----------------------------------------------------------------------------------------


async def test_a_send_that_timed_out_but_arrived_is_sent_again_counted_and_logged(
    database: Database,
    telegram: TelegramStandIn,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    doubled_warnings: Callable[[], list[str]],
) -> None:
    telegram.answer_late(WUXING, LATE)
    async with running_bot(configured(monkeypatch, telegram), database, telegram, clock,
                           http_timeout=SHORT_TIMEOUT) as bot:
        report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
        await bot.settle()
        [row] = await bot.outbox(WUXING)
        assert row.status == "pending" and "did not answer" in (row.error or "")
        await until_all_sent(bot)
        [row] = await bot.outbox(WUXING)
        assert row.status == "sent"
        assert bot.app.senders["telegram"].ambiguous == 1
    replies = telegram.replies_to(WUXING, report["message_id"])
    assert len(replies) == 2 and replies[0] == replies[1]  # the platform's ambiguity, and no more
    assert replies[0].startswith("✅ 已收到五星村")
    warnings = doubled_warnings()
    assert len(warnings) == 1 and "did not answer in time" in warnings[0]


async def test_a_gateways_504_for_a_message_that_arrived_is_ambiguous_too(
    database: Database,
    telegram: TelegramStandIn,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    doubled_warnings: Callable[[], list[str]],
) -> None:
    telegram.gateway_timeout(WUXING)  # an nginx page, not Telegram's JSON: only the status says what it is
    async with running_bot(configured(monkeypatch, telegram), database, telegram, clock) as bot:
        report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
        await until_all_sent(bot)
        assert bot.app.senders["telegram"].ambiguous == 1
    assert len(telegram.replies_to(WUXING, report["message_id"])) == 2
    warnings = doubled_warnings()
    assert len(warnings) == 1 and "504" in warnings[0]


async def test_5xx_answers_and_timeouts_lose_nothing_and_double_only_what_may_have_arrived(
    database: Database, telegram: TelegramStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    telegram.fail(WUXING, 502, times=2)
    telegram.fail(LEADERS, 500, "Internal Server Error")
    telegram.answer_late(WANGXIAN, LATE)
    telegram.hang(HONGXING, LATE)
    telegram.flood(HONGXING, retry_after=1)
    async with running_bot(configured(monkeypatch, telegram), database, telegram, clock,
                           http_timeout=SHORT_TIMEOUT) as bot:
        bot.says(LEADERS, ADMIN, "通知：今晚8点各村开会。")
        await until_all_sent(bot)
        ambiguous = bot.app.senders["telegram"].ambiguous
    notices = {chat: [t for t in telegram.sent_to(chat) if "开会" in t] for chat in (WUXING, WANGXIAN, HONGXING)}
    assert len(notices[WUXING]) == 1  # a 5xx is an answer: Telegram says it did not take it
    assert len(notices[WANGXIAN]) == 2  # timed out, yet arrived: sent again
    assert len(notices[HONGXING]) == 1  # timed out and lost: sent again, once
    assert ambiguous == 2  # the two timeouts, whatever became of them
    assert [t for t in telegram.sent_to(LEADERS) if "发往" in t]  # the admin's receipt, after a 500
    assert sorted(r.status for r in telegram.refused) == [429, 500, 502, 502, 504]


async def test_a_send_that_never_left_is_not_ambiguous(
    database: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TelegramStandIn(now=clock.now) as telegram:
        app = await App.start(configured(monkeypatch, telegram), clock=clock, database=database)
        adapter = telegram_adapter(app, telegram.token, http_timeout=SHORT_TIMEOUT)
        assert await adapter.deliver(OutgoingMessage(chat=f"telegram:{WUXING}", text="第一条", purpose="notice"))
    # Telegram is gone: a fresh connection is refused, so the request is never written.
    await adapter.bot.request.shutdown()
    await adapter.bot.request.initialize()
    try:
        with pytest.raises(DeliveryError) as failed:
            await adapter.deliver(OutgoingMessage(chat=f"telegram:{WUXING}", text="第二条", purpose="notice"))
    finally:
        await adapter.bot.shutdown()
    assert not failed.value.ambiguous and not failed.value.permanent
    assert "nothing was sent" in failed.value.reason


def request() -> httpx.Request:
    return httpx.Request("POST", "http://127.0.0.1/bot123:abc/sendMessage")


def raised(error: NetworkError, cause: BaseException | None) -> NetworkError:
    """`error` as python-telegram-bot raises it: `raise error from cause`."""
    error.__cause__ = cause
    return error


NO_ANSWER, FAILED = DeliveryFailure.NO_ANSWER, DeliveryFailure.FAILED


@pytest.mark.parametrize(
    ("error", "ambiguous", "failure"),
    [
        (raised(TimedOut(), httpx.ReadTimeout("read", request=request())), True, NO_ANSWER),
        (raised(NetworkError("httpx.ReadError: "), httpx.ReadError("reset", request=request())), True, NO_ANSWER),
        (raised(NetworkError("httpx.RemoteProtocolError: "), httpx.RemoteProtocolError("gone", request=request())),
         True, NO_ANSWER),
        (raised(TimedOut(), None), True, NO_ANSWER),  # no cause to tell by: it may have gone out
        (raised(TimedOut(), httpx.ConnectTimeout("connect", request=request())), False, NO_ANSWER),
        (raised(TimedOut("Pool timeout"), httpx.PoolTimeout("pool", request=request())), False, NO_ANSWER),
        (raised(TimedOut(), httpx.WriteTimeout("write", request=request())), False, NO_ANSWER),
        (raised(NetworkError("httpx.ConnectError: "), httpx.ConnectError("refused", request=request())), False, FAILED),
        (raised(NetworkError("Bad Gateway (502)"), None), False, FAILED),  # an answer: Telegram did not take it
        (raised(NetworkError("Gateway Timeout (504)"), _GatewayTimedOut()), True, NO_ANSWER),
    ],
    ids=["read-timeout", "read-error", "disconnected", "timed-out", "connect-timeout", "pool-timeout",
         "write-timeout", "connect-error", "502", "gateway-504"],
)
def test_only_a_request_that_went_out_unanswered_is_ambiguous(
    error: NetworkError, ambiguous: bool, failure: DeliveryFailure
) -> None:
    found = _network_error(error)
    assert (found.ambiguous, found.failure) == (ambiguous, failure)


@pytest.mark.parametrize(
    ("description", "failure"),
    [
        ("Bad Request: chat not found", DeliveryFailure.REMOVED),
        ("Forbidden: bot was kicked from the group chat", DeliveryFailure.REMOVED),
        ("Bad Request: group chat was deactivated", DeliveryFailure.REMOVED),
        ("Bad Request: not enough rights to send text messages to the chat", DeliveryFailure.NO_RIGHTS),
        ("Bad Request: have no rights to send a message", DeliveryFailure.NO_RIGHTS),
        ("Bad Request: message is too long", DeliveryFailure.REFUSED),
        ("Bad Request: can't parse entities", DeliveryFailure.REFUSED),
    ],
)
def test_what_a_bad_request_says_of_the_group(description: str, failure: DeliveryFailure) -> None:
    assert _refusal(description) is failure


# --- the limiter on its own -------------------------------------------------------------------------


class FakeTime:
    """The limiter's monotonic clock and sleep: a sleep moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def limiter(limits: SendLimits) -> tuple[SendLimiter, FakeTime]:
    fake = FakeTime()
    return SendLimiter(limits, monotonic=fake.monotonic, sleep=fake.sleep), fake


async def limiter_sends(limits: SendLimiter, chat: int, count: int) -> list[float]:
    return [await limits.acquire(chat) for _ in range(count)]


async def test_a_refused_send_gives_its_place_back() -> None:
    limits, fake = limiter(SendLimits(per_second=3, per_group_per_minute=3))
    group = -1001000000111
    first, second = await limiter_sends(limits, group, 2)
    limits.release(group, second)  # Telegram said 429: it does not have that one
    await limits.acquire(group)
    await limits.acquire(group)
    assert fake.now - first < 1.0  # the third and fourth of the second: the refused one did not count
    with pytest.raises(FloodWait):
        await limits.acquire(group)  # but the group's minute is full now (3 delivered)


async def test_a_groups_window_is_forgotten_once_its_minute_has_passed_and_not_before() -> None:
    limits, fake = limiter(SendLimits(per_second=0, per_group_per_minute=2))
    first, second, third = -1001000000111, -1001000000112, -1001000000113
    await limiter_sends(limits, first, 2)
    fake.now += 30
    await limiter_sends(limits, second, 1)
    with pytest.raises(FloodWait):
        await limits.acquire(first)  # its minute is full: remembered
    fake.now += 31  # the first group's minute has passed, the second's has not
    await limits.acquire(third)
    assert list(limits._groups) == [second, third]
    await limits.acquire(first)
    await limits.acquire(first)  # a new minute for it
    assert list(limits._groups) == [second, third, first]


async def test_sends_are_spread_out_and_kept_to_the_rate() -> None:
    limits, fake = limiter(SendLimits(per_second=30))
    start = fake.now
    times = [await limits.acquire(-1005000000000 - n) for n in range(61)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1 / 60 - 1e-9  # never two at once: half the average gap at least
    assert all(times[k + 30] - times[k] >= 1.0 for k in range(len(times) - 30))
    assert times[-1] - start < 2.1  # and no slower than the rate (plus the 10 ms margin a second)


async def test_a_fractional_rate_is_kept_and_does_not_turn_the_limit_off() -> None:
    limits, _ = limiter(SendLimits(per_second=0.5))
    times = [await limits.acquire(5001) for _ in range(3)]
    assert times[1] - times[0] >= 2.0 and times[2] - times[1] >= 2.0


async def test_a_send_slowed_on_its_way_counts_from_its_answer() -> None:
    """At 3 a second, the first send is answered only 0.9 s after it was let go: Telegram may have
    counted it only then, so no 3 further sends may follow within a second of that answer."""
    limits, fake = limiter(SendLimits(per_second=3, per_group_per_minute=0))
    first = await limits.acquire(5001)
    await limits.acquire(5001)
    await limits.acquire(5001)
    fake.now = first + 0.9
    limits.arrived(5001, first)
    after = [await limits.acquire(5001) for _ in range(3)]
    assert after[2] - (first + 0.9) >= 1.0  # counted from its answer, not from `first`
    assert after[0] - first >= 1.0  # and the others as before
