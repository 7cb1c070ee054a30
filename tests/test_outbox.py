"""The outbox: delivery reports, acknowledgements, merging for one group, priorities, dead senders."""

from __future__ import annotations

import datetime as dt

import pytest
from chat_harness import Chat, FakePlatform
from sqlalchemy import select
from waiting import eventually

from handlers import texts
from handlers.clock import Clock
from handlers.messages import Picture
from handlers.transport import DeliveryError, DeliveryFailure
from outbox.sender import OutboxSender
from storage import Database
from storage.models import OutboxMessage

LEADERS = "console:leaders"
NOTICE = "通知：即日起各村严禁举办聚餐、婚宴。"


async def test_the_admin_hears_that_the_notice_reached_every_group(chat: Chat) -> None:
    await chat.person("leaders", "admin").says(NOTICE)
    assert chat.sent_to(LEADERS)[-1] == "📬 通知 #1 已送达 8/8 个群。"


async def test_the_admin_hears_which_groups_failed_and_why(chat: Chat) -> None:
    chat.platform.refusing["console:五星村"] = DeliveryError(
        "bot was removed from the group", failure=DeliveryFailure.REMOVED, permanent=True
    )
    replies = await chat.person("leaders", "admin").says(NOTICE)
    assert "已发往 8 个群" in replies[0]  # the reply goes first: replies before bulk
    report = chat.sent_to(LEADERS)[-1]
    assert "已送达 7/8 个群" in report and "五星村：机器人已被移出该群" in report


async def test_the_reasons_are_in_chinese_and_the_raw_errors_stay_in_the_database(chat: Chat) -> None:
    raw = {
        "console:五星村": ("Telegram: Forbidden: bot was kicked from the supergroup chat", DeliveryFailure.REMOVED),
        "console:王岘村": ("ValueError: invalid literal for int() with base 10: 'x'", DeliveryFailure.FAILED),
        "console:红星村": ("Telegram did not answer in time after the message was sent", DeliveryFailure.NO_ANSWER),
        "console:新华村": ("console:新华村 keeps moving to another chat id", DeliveryFailure.MOVED),
        "console:金山村": ("Telegram: Not enough rights to send text messages", DeliveryFailure.NO_RIGHTS),
        "console:柳树村": ("Telegram refused the message: message is too long", DeliveryFailure.REFUSED),
    }
    for group, (error, failure) in raw.items():
        chat.platform.refusing[group] = DeliveryError(error, failure=failure, permanent=True)
    await chat.person("leaders", "admin").says(NOTICE)
    report = chat.sent_to(LEADERS)[-1]
    assert "已送达 2/8 个群" in report
    for line in (
        "五星村：机器人已被移出该群",
        "王岘村：发送失败",
        "红星村：发送失败（平台无响应）",
        "新华村：群已升级/迁移",
        "金山村：机器人在该群没有发言权限",
        "柳树村：发送失败（平台拒收）",
    ):
        assert f"  {line}" in report.splitlines()
    assert not any(word in report for word in ("Telegram", "Forbidden", "ValueError", "kicked", "rights"))
    async with chat.app.database.session() as session:
        failed = (
            await session.execute(
                select(OutboxMessage.error, OutboxMessage.failure).where(OutboxMessage.status == "failed")
            )
        ).all()
    assert {(error, failure) for error, failure in failed} == {(e, f.value) for e, f in raw.values()}


def test_every_failure_reads_as_its_own_chinese_reason() -> None:
    assert set(texts.FAILURE_REASONS) == set(DeliveryFailure)
    reasons = [texts.failure_reason(failure) for failure in DeliveryFailure]
    assert len(set(reasons)) == len(reasons) and all(reasons)
    assert texts.failure_reason(None) == texts.failure_reason("no such failure") == "发送失败"


async def test_a_village_whose_group_removed_the_bot_counts_as_failed_without_a_send(chat: Chat) -> None:
    async with chat.app.database.transaction() as store:
        await store.bindings.bind("console:五星村", "village", "五星村", "console:bot", chat.app.town.clock.now())
        assert await store.bindings.mark_unreachable("console:五星村")
    replies = await chat.person("leaders", "admin").says(NOTICE)
    assert "已发往 7 个群" in replies[0]
    assert chat.sent_to("console:五星村") == []
    report = chat.sent_to(LEADERS)[-1]
    assert "已送达 7/8 个群" in report and "  五星村：机器人已被移出该群" in report.splitlines()
    [notice] = await _report_notices(chat)
    assert (notice["groups"], notice["delivered"], notice["failed"], notice["pending"]) == (8, 7, 1, 0)


async def test_a_notice_only_to_an_unreachable_village_is_reported_failed_at_once(chat: Chat) -> None:
    async with chat.app.database.transaction() as store:
        await store.bindings.bind("console:五星村", "village", "五星村", "console:bot", chat.app.town.clock.now())
        await store.bindings.mark_unreachable("console:五星村")
    await chat.person("leaders", "admin").says("通知@五星村：下午三点开会")
    assert chat.sent_to("console:五星村") == []
    assert chat.sent_to(LEADERS)[-1] == "⚠️ 通知 #1 已送达 0/1 个群，以下群未送达：\n  五星村：机器人已被移出该群"


async def test_a_group_left_behind_by_a_village_that_has_another_is_not_a_failure(chat: Chat) -> None:
    """A Telegram group upgraded to a supergroup leaves its old id marked unreachable, and the
    village is reached through the new one: the notice went to the village, nothing failed."""
    async with chat.app.database.transaction() as store:
        now = chat.app.town.clock.now()
        await store.bindings.bind("console:五星村", "village", "五星村", "console:bot", now)
        await store.bindings.mark_unreachable("console:五星村")
        await store.bindings.bind("console:五星村新群", "village", "五星村", "console:bot", now)
    await chat.person("leaders", "admin").says(NOTICE)
    assert len(chat.sent_to("console:五星村新群")) == 1 and chat.sent_to("console:五星村") == []
    assert chat.sent_to(LEADERS)[-1] == "📬 通知 #1 已送达 8/8 个群。"


async def test_acknowledgements_are_silent_and_the_admin_can_ask_who_has_not(chat: Chat) -> None:
    admin = chat.person("leaders", "admin")
    await admin.says(NOTICE)
    before = len(chat.platform.sent)
    assert await chat.person("五星村", "resident").says("收到") == []
    assert await chat.person("五星村", "head").says("好的，收到") == []
    assert await chat.person("王岘村", "head").says("已阅") == []
    assert await chat.person("红星村", "head").says("收到了吗？谁知道明天开会在哪") == []  # a question, not an ack
    assert len(chat.platform.sent) == before
    receipts = (await admin.says("通知回执"))[0]
    assert "已确认 2/8 个村" in receipts and "五星村（2人）" in receipts and "王岘村（1人）" in receipts
    assert "红星村" in receipts.split("未确认：")[1]
    report_notices = await _report_notices(chat)
    assert report_notices[0]["acknowledged"] == {"五星村": 2, "王岘村": 1}


async def _report_notices(chat: Chat) -> list[dict[str, object]]:
    from handlers.town_report import build_town_report

    async with chat.app.database.transaction() as store:
        report = await build_town_report(store, chat.app.town, chat.app.town.today())
    return report.to_json()["notices"]  # type: ignore[no-any-return]


async def test_replies_and_alerts_go_before_bulk_notices(chat: Chat) -> None:
    async with chat.app.database.transaction() as store:
        now = chat.app.town.clock.now()
        for village in ("五星村", "王岘村"):
            await store.outbox.enqueue(chat=f"console:{village}", text="bulk", purpose="notice", at=now, priority=10)
        await store.outbox.enqueue(chat=LEADERS, text="alert", purpose="alert", at=now, priority=0)
    await chat.app.drain()
    assert [m.text for m in chat.platform.sent] == ["alert", "bulk", "bulk"]


class MergingPlatform(FakePlatform):
    merges = True


async def test_several_pending_messages_for_one_group_go_as_one(database: Database, chat: Chat) -> None:
    platform = MergingPlatform()
    sender = OutboxSender(database, platform, chat.app.town.clock)
    async with database.transaction() as store:
        now = chat.app.town.clock.now()
        for text in ("第一条", "第二条", "第三条"):
            await store.outbox.enqueue(chat="console:五星村", text=text, purpose="notice", at=now, priority=10)
        await store.outbox.enqueue(chat="console:王岘村", text="另一群", purpose="notice", at=now, priority=10)
    assert await sender.drain() == 4
    assert [m.text for m in platform.sent] == ["第一条\n\n第二条\n\n第三条", "另一群"]
    async with database.session() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert all(r.status == "sent" for r in rows)
    assert [r.merged_into for r in rows] == [None, rows[0].id, rows[0].id, None]


async def test_replies_waiting_for_one_group_go_as_one_and_not_mixed_into_a_notice(
    database: Database, chat: Chat
) -> None:
    platform = MergingPlatform()
    sender = OutboxSender(database, platform, chat.app.town.clock)
    async with database.transaction() as store:
        now = chat.app.town.clock.now()
        await store.outbox.enqueue(chat="console:五星村", text="通知", purpose="notice", at=now, priority=10)
        for n in (1, 2):
            await store.outbox.enqueue(
                chat="console:五星村", text=f"回复{n}", purpose="reply", at=now, reply_to=f"m{n}"
            )
        await store.outbox.enqueue(chat="console:王岘村", text="回复3", purpose="reply", at=now, reply_to="m3")
    assert await sender.drain() == 4
    sent = [(m.chat, m.text, m.reply_to) for m in platform.sent]
    assert sent == [
        ("console:五星村", "回复1\n\n回复2", None),  # one message answers both: it quotes neither
        ("console:王岘村", "回复3", "m3"),  # alone: still a reply to its message
        ("console:五星村", "通知", None),
    ]


async def held_by_a_dead_sender(database: Database, clock: Clock) -> OutboxMessage:
    """A notice some sender claimed and began to send (and then died, holding its two-minute lease)."""
    async with database.transaction() as store:
        row = await store.outbox.enqueue(chat="console:五星村", text="通知", purpose="notice", at=clock.now())
        assert await store.outbox.claim(row.id, clock.now(), dt.timedelta(seconds=120)) is not None
    async with database.transaction() as store:
        assert await store.outbox.mark_in_flight([row.id], clock.now()) == {row.id}
    return row


async def test_a_row_whose_sender_died_mid_send_is_sent_again_and_counted(database: Database, chat: Chat) -> None:
    clock = chat.app.town.clock
    row = await held_by_a_dead_sender(database, clock)
    platform = FakePlatform()
    sender = OutboxSender(database, platform, clock)
    assert await sender.drain() == 0, "another sender holds the lease: not ours to send"
    clock.advance(dt.timedelta(minutes=3))  # type: ignore[attr-defined]
    assert await sender.drain() == 1
    assert sender.ambiguous == 1 and [m.text for m in platform.sent] == ["通知"]
    async with database.session() as session:
        assert (await session.get(OutboxMessage, row.id)).ambiguous  # type: ignore[union-attr]


async def test_two_senders_never_send_one_row_twice(database: Database, chat: Chat) -> None:
    import asyncio

    async with database.transaction() as store:
        for village in chat.app.town.directory.village_names:
            await store.outbox.enqueue(
                chat=f"console:{village}", text=village, purpose="notice", at=chat.app.town.clock.now()
            )
    platform = FakePlatform()
    senders = [OutboxSender(database, platform, chat.app.town.clock) for _ in range(2)]
    await asyncio.gather(*(s.drain() for s in senders))
    assert sorted(m.text for m in platform.sent) == sorted(chat.app.town.directory.village_names)


async def test_a_send_that_keeps_failing_is_given_up_after_bounded_retries(chat: Chat) -> None:
    chat.platform.failures.extend(DeliveryError("timeout") for _ in range(5))
    await chat.person("五星村", "resident").says("帮助")
    for _ in range(6):
        chat.app.town.clock.advance(dt.timedelta(minutes=10))  # type: ignore[attr-defined]
        await chat.app.drain()
    async with chat.app.database.session() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
    assert (row.status, row.attempts, row.error) == ("failed", 5, "timeout")
    assert chat.sent_to("console:五星村") == []


async def test_a_restarted_sender_takes_over_what_the_dead_one_was_sending_at_once(
    database: Database, chat: Chat
) -> None:
    import asyncio

    clock = chat.app.town.clock
    await held_by_a_dead_sender(database, clock)
    platform = FakePlatform()
    sender = OutboxSender(database, platform, clock)
    running = asyncio.create_task(sender.run(idle_seconds=0.05))
    try:
        await eventually(lambda: platform.sent, what="the dead sender's row sent")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert [m.text for m in platform.sent] == ["通知"] and sender.ambiguous == 1


async def test_a_picture_goes_alone_with_its_bytes_and_what_follows_it_stays_after_it(
    database: Database, chat: Chat
) -> None:
    platform = MergingPlatform()
    sender = OutboxSender(database, platform, chat.app.town.clock)
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    async with database.transaction() as store:
        now = chat.app.town.clock.now()
        await store.outbox.enqueue(chat="console:五星村", text="之前", purpose="notice", at=now, priority=10)
        await store.outbox.enqueue(chat="console:五星村", text="图下文字", purpose="deadline", at=now, priority=10,
                                   picture=picture, picture_name="表.png")  # fmt: skip
        await store.outbox.enqueue(chat="console:五星村", text="之后", purpose="notice", at=now, priority=10)
    assert await sender.drain() == 3
    assert [(m.text, m.picture) for m in platform.sent] == [
        ("之前", None), ("图下文字", Picture(picture, "表.png")), ("之后", None),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="file name"):
        async with database.transaction() as store:
            await store.outbox.enqueue(chat="console:五星村", text="x", purpose="notice", at=now, picture=picture)
