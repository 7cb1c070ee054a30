"""Acknowledgements: only a short 收到 counts, and only for the latest notice the group received."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from chat_harness import Chat
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.xlsx_export import write_xlsx
from handlers.delivery_reports import is_acknowledgement
from handlers.messages import IncomingMessage
from handlers.town_report import build_town_report, render_text
from handlers.transport import DeliveryError
from storage.models import NoticeDelivery, OutboxMessage

WUXING = "console:五星村"
NOTICE = "通知：即日起各村严禁举办聚餐、婚宴。"
_ids = itertools.count(1)


@pytest.mark.parametrize(
    "text",
    [
        "收到", "收到！", "收到!!", "好的，谢谢", "已阅。", "收到收到", "收到👍", "好的 收到", "OK", "收到了",
        "已收到，辛苦了", "明白了，马上落实", "收到，谢谢领导！", "嗯嗯，收到", "五星村收到", "五星收到", "@镇防控办 收到", "收到。",
    ],
)  # fmt: skip
def test_a_short_acknowledgement_counts(text: str) -> None:
    assert is_acknowledgement(text, names=("五星村", "五星"))


@pytest.mark.parametrize(
    "text",
    [
        "好的，但我们村口罩还没到，谁来送？",
        "知道了，不过明天不行",
        "收到了吗？",
        "收到?",
        "好的可是人手不够",
        "收到，但是",
        "好的，我们村今天下午统一组织人员到各组宣传",
        "收到红包了",
        "好久不见",
        "王岘村收到",  # another village's name: not this group's answer
        "谢谢",  # courtesy alone acknowledges nothing
        "",
    ],
)
def test_a_question_an_objection_or_a_sentence_is_not_an_acknowledgement(text: str) -> None:
    assert not is_acknowledgement(text, names=("五星村", "五星"))


async def _acknowledged(chat: Chat, notice_id: int) -> dict[str, int]:
    async with chat.app.database.transaction() as store:
        return await store.notices.acknowledgements(notice_id)


async def _reply_to_notice(chat: Chat, notice_id: int, who: str, text: str) -> None:
    async with chat.app.database.session() as session:
        query = (
            select(OutboxMessage.platform_message_id)
            .join(NoticeDelivery, NoticeDelivery.outbox_id == OutboxMessage.id)
            .where(NoticeDelivery.notice_id == notice_id, NoticeDelivery.chat == WUXING)
        )
        replied = (await session.scalars(query)).one()
    message = IncomingMessage(
        platform="console", chat=WUXING, sender=who, text=text, message_id=f"ack{next(_ids)}",
        at=chat.app.town.clock.now(), sender_name=who, reply_to_message_id=replied,
    )  # fmt: skip
    await chat.app.dispatcher.handle(message)


async def test_questions_and_objections_in_the_group_are_not_counted(chat: Chat) -> None:
    await chat.person("leaders", "admin").says(NOTICE)
    assert await chat.person("五星村", "head").says("好的，但我们村口罩还没到，谁来送？") == []
    await chat.person("五星村", "resident").says("知道了，不过明天不行")
    await _reply_to_notice(chat, 1, "console:someone", "收到，但我们村明天不行？")
    assert await _acknowledged(chat, 1) == {}
    await _reply_to_notice(chat, 1, "console:someone", "已转发各组群")  # a reply to the notice: read it
    await chat.person("五星村", "resident").says("收到！谢谢")
    assert await _acknowledged(chat, 1) == {"五星村": 2}


async def test_an_acknowledgement_counts_for_the_latest_notice_the_group_received_not_one_that_failed(
    chat: Chat,
) -> None:
    admin = chat.person("leaders", "admin")
    await admin.says(NOTICE)
    chat.platform.refusing[WUXING] = DeliveryError("Telegram: Forbidden: bot was kicked", permanent=True)
    await admin.says("通知：下午三点开会。")
    await chat.person("五星村", "head").says("收到")
    assert (await _acknowledged(chat, 1), await _acknowledged(chat, 2)) == ({"五星村": 1}, {})


async def test_a_notice_still_waiting_to_be_sent_to_the_group_is_not_acknowledged_yet(chat: Chat) -> None:
    admin = chat.person("leaders", "admin")
    await admin.says(NOTICE)
    chat.platform.refusing[WUXING] = DeliveryError("network down")  # tried again later
    await admin.says("通知@五星村：下午三点开会。")
    await chat.person("五星村", "head").says("收到")
    assert (await _acknowledged(chat, 1), await _acknowledged(chat, 2)) == ({"五星村": 1}, {})
    del chat.platform.refusing[WUXING]
    chat.app.town.clock.advance(dt.timedelta(minutes=1))  # type: ignore[attr-defined]
    await chat.app.drain()
    await chat.person("五星村", "resident").says("好的")
    assert await _acknowledged(chat, 2) == {"五星村": 1}


async def test_the_latest_notice_is_the_one_the_group_received_last(chat: Chat) -> None:
    admin = chat.person("leaders", "admin")
    await admin.says(NOTICE)
    await admin.says("通知：下午三点开会。")
    async with chat.app.database.transaction() as store:
        # Notice #1 reached 五星村 after #2 (it waited for a retry there): it is what they just read.
        later = chat.app.town.clock.now() + dt.timedelta(minutes=5)
        row = select(NoticeDelivery.outbox_id).where(NoticeDelivery.notice_id == 1, NoticeDelivery.chat == WUXING)
        await store.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row.scalar_subquery()).values(sent_at=later)
        )
    await chat.person("五星村", "head").says("收到")
    assert (await _acknowledged(chat, 1), await _acknowledged(chat, 2)) == ({"五星村": 1}, {})


async def test_the_town_report_shows_acknowledgements_per_village_as_text_and_in_the_spreadsheet(
    chat: Chat, tmp_path: Path
) -> None:
    await chat.person("leaders", "admin").says("通知@五星村@王岘村：下午三点开会。")
    await chat.person("五星村", "head").says("收到")
    await chat.person("五星村", "resident").says("收到！")
    async with chat.app.database.transaction() as store:
        report = await build_town_report(store, chat.app.town, chat.app.town.today())
    assert report.to_json()["notices"][0]["acknowledged"] == {"五星村": 2}  # the JSON as it was
    lines = render_text(report).splitlines()
    at = lines.index("通知 #1：已送达 2/2 个群")
    assert lines[at + 1] == "  回执：五星村2人、王岘村0人"
    write_xlsx(report, tmp_path / "report.xlsx")
    sheet = load_workbook(tmp_path / "report.xlsx")["通知回执"]
    assert list(sheet.iter_rows(values_only=True)) == [
        ("通知编号", "村/社区", "回执（人）"), (1, "五星村", 2), (1, "王岘村", 0),
    ]  # fmt: skip
