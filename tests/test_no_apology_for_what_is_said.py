"""Whatever anyone types, anywhere, the bot answers it or stays silent: the apology is for its own faults.

Arbitrary text, with numbers, units, names, readings and the bot's words mixed in, goes as every role
into every kind of chat through the real dispatcher on the real database. No message may fail (the
dispatcher logs the failure) or get texts.internal_error().
"""

from __future__ import annotations

import itertools
import logging

import pytest
from chat_harness import Chat
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from handlers import texts
from handlers.messages import IncomingMessage

HEAD, STAFF, ADMIN, RESIDENT = "console:五星村村干部", "console:卡点值班员", "console:town_office", "console:村民"
WHERE = {  # (chat, is_private)
    "village": ("console:五星村", False),
    "checkpoint": ("console:109国道雒家滩卡点", False),
    "leaders": ("console:leaders", False),
    "unbound": ("console:不认识的群", False),
    "private": ("console:私聊", True),
}
WORDS = [
    "日报", "#日报", "/report", "零报告", "更正", "/fix", "登记", "/checkin", "捐赠", "捐款", "督查", "通知",
    "/broadcast", "接龙", "#接龙", "体温接龙", "返乡登记", "解除观察", "送医", "整改完成", "绑定", "设置村长",
    "定时通知", "取消定时通知", "回执", "帮助", "今日进度", "收到", "例", "排查", "入户排查", "返乡", "居家观察",
    "发热", "体温", "测温", "无", "没有", "消毒", "户", "人", "次", "万", "元", "个", "五星村", "红星村", "欧阳娜娜",
    "张三", "王建军", "#1", "#3", "#99999999999", "36.5", "37.5", "38", "36,5", "36点5", "三十六度五", "99.5°F",
    "45", "3.7.5", "1e3", "0x10", "-3", "120.5", "1,200", "200多", "°C", "℃", "度", "甘D56789", "甘D5",
    "13912345678", "62040219900101123X", "2月10日", "昨天", "明天", "：", ":", "，", "、", "。", "\n", " ",
    "1.", "2、", "3. ", "【", "】", "@防控助手", "——", "#", "/", "(", ")", "🙂",
]  # fmt: skip
FRAGMENTS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(WORDS),
    st.from_regex(r"[0-9]{1,12}(\.[0-9]{1,3})?", fullmatch=True),
)
STARTS = st.sampled_from([w for w in WORDS if len(w) > 1 and not w[0].isdigit()] + [""])
TEXTS = st.builds(lambda start, rest: start + " " + rest, STARTS, st.lists(FRAGMENTS, max_size=30).map("".join))
ROLES = st.sampled_from([HEAD, STAFF, ADMIN, RESIDENT])
_ids = itertools.count(1)


class _Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def town(keyed: Chat) -> Chat:
    """The example town with a data key and one person under observation in 五星村 (#1, 欧阳娜娜)."""
    await keyed.person("五星村", "head").says("返乡登记 欧阳娜娜 13912345678 62040219900101123X 武汉 2月10日返回")
    return keyed


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=TEXTS, sender=ROLES, where=st.sampled_from(sorted(WHERE)))
@example(text="张三36.5", sender=HEAD, where="village")
@example(text="#136.7", sender=HEAD, where="village")
@example(text="入户排查40", sender=HEAD, where="village")
@example(text="大家好36", sender=RESIDENT, where="village")
@example(text="今天降温了36", sender=RESIDENT, where="village")
@example(text="#99999999999 36.5", sender=ADMIN, where="leaders")
@example(text="取消定时通知 3000000000", sender=ADMIN, where="leaders")
@example(text="整改完成 #3000000000", sender=HEAD, where="village")
@example(text="解除观察 #3000000000", sender=HEAD, where="village")
@example(text="通知回执 #3000000000", sender=ADMIN, where="leaders")
@example(text="接龙\n1. 欧阳娜娜 38.5\n2. 王建军 36.5", sender=RESIDENT, where="village")
@example(text="登记 甘D56789 2人 体温45", sender=STAFF, where="checkpoint")
async def test_no_message_gets_the_apology_or_fails(town: Chat, text: str, sender: str, where: str) -> None:
    chat, private = WHERE[where]
    failures = _Failures()
    logging.getLogger("handlers").addHandler(failures)
    before = len(town.platform.sent)
    try:
        message = IncomingMessage(
            platform="console", chat=chat, sender=sender, text=text, message_id=f"p{next(_ids)}",
            at=town.app.town.clock.now(), sender_name=sender, is_private=private,
        )  # fmt: skip
        await town.app.dispatcher.handle(message)
        await town.app.drain()
    finally:
        logging.getLogger("handlers").removeHandler(failures)
    assert not failures.records, failures.records[0].getMessage()
    assert all(texts.internal_error() != m.text for m in town.platform.sent[before:])
