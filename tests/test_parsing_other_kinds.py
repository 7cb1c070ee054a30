"""Checkpoint registrations, donations, inspections, notices, and the chat that must stay `none`."""

from __future__ import annotations

from typing import Any

import pytest
from parsing_support import parse

from handlers.parsing import ROLES

# --- checkpoint (登记) ----------------------------------------------------------------------------


def checkin(text: str) -> dict[str, Any]:
    result = parse(text, village=None, role="checkpoint")
    assert result["kind"] == "checkpoint", result
    fields: dict[str, Any] = result["fields"]
    return fields


def test_a_full_registration() -> None:
    fields = checkin("登记 甘D12345 3人 体温36.5 36.8 36.6 来自兰州 去五星村")
    assert fields["plate"] == "甘D12345"
    assert fields["persons"] == 3
    assert fields["temperatures"] == [36.5, 36.8, 36.6]
    assert fields["origin"] == "兰州"
    assert fields["destination"] == "五星村"
    assert fields["fever"] is False


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("登记 甘d 56789 1人 36.5", "甘D56789"),
        ("登记 鄂A·88K21 1人 36.5", "鄂A88K21"),
        ("登记 甘D.12345 1人 36.5", "甘D12345"),
        ("登记 川a12345d 1人 36.5", "川A12345D"),
        ("登記 陝C12345 1人 36.5", "陕C12345"),
        ("登记 京Ａ１２３４５ 1人 36.5", "京A12345"),
    ],
)
def test_plates_are_normalised(text: str, plate: str) -> None:
    assert checkin(text)["plate"] == plate


def test_a_walk_in_has_no_plate() -> None:
    assert checkin("登记 步行 2人 36.5 36.7 来自靖远 去金山村")["plate"] is None


def test_a_short_plate_is_a_problem_not_a_walk_in() -> None:
    result = parse("登记 甘D1234 1人 36.5", village=None, role="checkpoint")
    assert [p["field"] for p in result["problems"]] == ["plate"]
    assert "plate" not in result["fields"]


@pytest.mark.parametrize(
    ("text", "persons"),
    [
        ("登记 甘A12345 司机1人 乘客2人 36.5 36.6 36.7", 3),
        ("登记 步行 两人 36.5 36.6", 2),
        ("登记 甘A12345 1人 36.5", 1),
        ("登记 甘A12345 4名 体温正常", 4),
    ],
)
def test_persons_are_counted_and_summed(text: str, persons: int) -> None:
    assert checkin(text)["persons"] == persons


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        ("登记 甘A12345 3人 36.5 36.8 36.6", [36.5, 36.8, 36.6]),
        ("登记 甘A12345 3人 36.5、36.8、36.6", [36.5, 36.8, 36.6]),
        ("登记 甘A12345 3人 36.5/36.8/36.6", [36.5, 36.8, 36.6]),
        ("登记 甘A12345 2人 体温36.5℃ 36.8度", [36.5, 36.8]),
        ("登记 甘A12345 2人 體溫３６．５ ３６．８", [36.5, 36.8]),
        ("登记 甘A12345 2人 体温正常", []),
    ],
)
def test_temperatures_are_read_in_order(text: str, readings: list[float]) -> None:
    assert checkin(text)["temperatures"] == readings


@pytest.mark.parametrize(
    ("reading", "fever"), [("36.9", False), ("37.2", False), ("37.3", True), ("38.5", True), ("37.3℃", True)]
)
def test_fever_from_37_3(reading: str, fever: bool) -> None:
    fields = checkin(f"登记 甘A12345 2人 36.5 {reading} 来自白银")
    assert fields["fever"] is fever


@pytest.mark.parametrize(
    ("text", "origin"),
    [
        ("登记 甘A12345 1人 36.5 来自兰州 去五星村", "兰州"),
        ("登记 甘A12345 1人 36.5 从白银城区回红星村", "白银城区"),
        ("登记 鄂A88K21 1人 36.5 武汉返回 到王岘村", "武汉"),
        ("登記 陝C12345 1人 36.5 來自西安", "西安"),
    ],
)
def test_origin(text: str, origin: str) -> None:
    assert checkin(text)["origin"] == origin


@pytest.mark.parametrize(
    ("text", "destination"),
    [
        ("登记 甘A12345 1人 36.5 来自兰州 去五星村", "五星村"),
        ("登记 甘A12345 1人 36.5 来自兰州 到王岘", "王岘村"),  # an alias gives the canonical name
        ("登记 甘A12345 1人 36.5 从白银回红星村", "红星村"),
        ("登記 甘A12345 1人 36.5 來自西安 去雒家灘村", "雒家滩村"),
        ("登记 甘A12345 1人 36.5 来自兰州 去靖远", "靖远"),  # not a village: as written
    ],
)
def test_destination(text: str, destination: str) -> None:
    assert checkin(text)["destination"] == destination


@pytest.mark.parametrize("trigger", ["登记", "#登记", "/checkin", "登記"])
def test_checkpoint_triggers(trigger: str) -> None:
    assert checkin(f"{trigger} 甘A12345 1人 36.5")["plate"] == "甘A12345"


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("登记在哪里办？", "checkpoint"),
        ("登记", "checkpoint"),
        ("王主任，我家孩子从兰州回来了，需要登记吗？", "resident"),
        ("请大家去卡点登记 甘A12345 1人", "head"),
    ],
)
def test_not_a_registration(text: str, role: str) -> None:
    assert parse(text, village=None, role=role) == {"kind": "none"}  # type: ignore[arg-type]


# --- donation (捐赠) ------------------------------------------------------------------------------


def donation(text: str) -> dict[str, Any]:
    result = parse(text, village=None, role="admin")
    assert result["kind"] == "donation", result
    fields: dict[str, Any] = result["fields"]
    return fields


@pytest.mark.parametrize(
    ("text", "donor", "amount"),
    [
        ("捐赠 魏烈权 捐款500元", "魏烈权", 500),
        ("捐款 五星村村民张某某 二百元", "五星村村民张某某", 200),
        ("捐赠 爱心人士(匿名) 1.2万元", "爱心人士(匿名)", 12000),
        ("捐赠：某公司 伍佰元", "某公司", 500),
        ("#捐赠 李四:1000元", "李四", 1000),
        ("捐赠 张三捐款300元", "张三", 300),
    ],
)
def test_money(text: str, donor: str, amount: int) -> None:
    fields = donation(text)
    assert fields["donor"] == donor
    assert fields["amount_yuan"] == amount
    assert fields["items"] == []


def test_goods_only() -> None:
    fields = donation("捐赠：白银某商贸公司 口罩700个、方便面21箱、矿泉水12箱")
    assert fields == {
        "donor": "白银某商贸公司",
        "amount_yuan": 0,
        "items": [
            {"name": "口罩", "quantity": 700, "unit": "个"},
            {"name": "方便面", "quantity": 21, "unit": "箱"},
            {"name": "矿泉水", "quantity": 12, "unit": "箱"},
        ],
        "organisation": True,
    }


@pytest.mark.parametrize(
    ("text", "donor", "organisation"),
    [
        ("捐赠 魏烈权 捐款500元", "魏烈权", False),
        ("捐赠 爱心人士(匿名) 1.2万元", "爱心人士(匿名)", False),
        ("捐赠 兰州某药店 口罩700个", "兰州某药店", True),
        ("捐赠 王岘镇加油站 现金1000元", "王岘镇加油站", True),
        ("捐赠 五星村种植合作社 土豆500斤", "五星村种植合作社", True),
        ("捐赠 单位 红星小卖 口罩100个", "红星小卖", True),
        ("捐赠 单位：红星小卖 200元", "红星小卖", True),
        ("捐赠 红星小卖（单位） 200元", "红星小卖", True),
        ("捐赠 红星小卖 单位 200元", "红星小卖", True),
    ],
)
def test_organisations_are_told_from_people(text: str, donor: str, organisation: bool) -> None:
    """By how the name ends, or by the admin's 单位 before or after it."""
    fields = donation(text)
    assert (fields["donor"], fields["organisation"]) == (donor, organisation)


def test_a_donor_followed_by_捐() -> None:
    fields = donation("捐赠 张三捐口罩100个")
    assert fields["donor"] == "张三"
    assert fields["items"] == [{"name": "口罩", "quantity": 100, "unit": "个"}]


def test_money_and_goods_together_and_一次性_stays_in_the_name() -> None:
    fields = donation("捐赠 王岘镇加油站 一次性手套2盒 消毒液10桶 现金1000元")
    assert fields["donor"] == "王岘镇加油站"
    assert fields["amount_yuan"] == 1000
    assert fields["items"] == [
        {"name": "一次性手套", "quantity": 2, "unit": "盒"},
        {"name": "消毒液", "quantity": 10, "unit": "桶"},
    ]


@pytest.mark.parametrize("text", ["今天有人捐款吗", "感谢大家捐赠的口罩100个", "捐赠"])
def test_not_a_donation(text: str) -> None:
    assert parse(text, village=None, role="admin") == {"kind": "none"}


# --- inspection (督查) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "place", "problem"),
    [
        ("督查 五星村 垃圾台未及时清运，要求今日整改", "五星村", "垃圾台未及时清运"),
        ("督查：109国道雒家滩卡点 值班人员未测体温即放行", "109国道雒家滩卡点", "值班人员未测体温即放行"),
        ("督查：五星村垃圾台未及时清运", "五星村", "垃圾台未及时清运"),
        ("检查发现 红星村北口卡点 无人值守", "红星村北口卡点", "无人值守"),
        ("#督查 金山矿区路卡点：体温枪没电", "金山矿区路卡点", "体温枪没电"),
        ("督查 紅星村 口罩不足", "红星村", "口罩不足"),
    ],
)
def test_inspection(text: str, place: str, problem: str) -> None:
    result = parse(text, village=None, role="admin")
    assert result["kind"] == "inspection"
    assert result["fields"]["place"] == place
    assert problem in result["fields"]["problem"]
    assert place not in result["fields"]["problem"]


@pytest.mark.parametrize("text", ["督查", "督查 五星村", "镇上明天来督查", "今天检查发现的问题都改了"])
def test_not_an_inspection(text: str) -> None:
    assert parse(text, village=None, role="admin") == {"kind": "none"}


# --- notice (通知) --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_notice_is_a_notice_whoever_sends_it(role: str) -> None:
    result = parse("通知：今晚8点开会", village="五星村", role=role)  # type: ignore[arg-type]
    assert result["kind"] == "notice"
    assert result["fields"]["body"] == "今晚8点开会"


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("通知：即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。", "即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。"),
        ("/broadcast 出门请佩戴口罩，勤洗手，不串门。", "出门请佩戴口罩，勤洗手，不串门。"),
        ("公告：明日起全镇暂停集市", "明日起全镇暂停集市"),
        ("通知：今晚８點開會，請準時！", "今晚８點開會，請準時！"),  # as written: full-width and traditional stay
        ("【通知】各村今天下午3点前报送日报", "各村今天下午3点前报送日报"),
        ("@防控助手 通知 明天开会", "明天开会"),
    ],
)
def test_the_body_is_kept_as_written(text: str, body: str) -> None:
    result = parse(text, village=None, role="admin")
    assert result["kind"] == "notice"
    assert result["fields"]["body"] == body


def test_a_notice_that_looks_like_a_report_is_a_notice() -> None:
    result = parse("通知：日报 排查120户 返乡3人", role="head")
    assert result["kind"] == "notice"


@pytest.mark.parametrize(
    "text",
    [
        "通知 五星村、红星村 明天开会",
        "通知@五星村@红星村：明天开会",
        "通知@五星村，红星村：明天开会",
        "通知 @五星村 @红星村 明天开会",
        "通知 五星村 红星村 明天开会",
        "/broadcast 五星村,红星村 明天开会",
        "/broadcast 五星村, 红星村：明天开会",
        "/broadcast 五星村 红星村 明天开会",
        "公告 五星村；红星村：明天开会",
        "通知 @五星村 @红星村，明天开会",  # after an @ a comma may end the list
        "/broadcast 五星村,红星村,明天开会",
        "通知@五星村、红星村明天开会",  # after an @ a village's name may run into the body
        "/broadcast 五星村、红星村村干部明天开会",
        "通知@五星村\u2005红星村村民：明天开会",  # WeChat's mention ends with U+2005; 村民 is who is addressed
        "通知 五星村村民、红星村两委：明天开会",
        "通知：@五星村 @红星村 明天开会",
        "@五星村 @红星村 通知：明天开会",
        "通知： @五星村 @红星村 明天开会",
        "通知 五星村和红星村：明天开会",
        "通知 五星村、红星村书记：明天开会",
        "通知@五星村两委班子 @红星村-张三 明天开会",  # whom it addresses, a WeChat nickname: the village's
        "通知：五星村、红星村：明天开会",  # villages addressed right after 通知：
        "緊急通知：五星村和紅星村：明天开会",
        "通知 五星村王书记、红星村各组长：明天开会",  # a village, then whom in it (a short name or title)
        "/broadcast 五星村书记,红星村 明天开会",
        "通知 五星村/红星村：明天开会",
        "通知 @五星村 @张三 @红星村 明天开会",  # a person mentioned among them is told, not a target
    ],
)
def test_a_notice_can_name_villages(text: str) -> None:
    result = parse(text, village=None, role="admin")
    assert result["fields"] == {"body": "明天开会", "villages": ["五星村", "红星村"]}


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("通知@五星村，明天开会", "明天开会"),  # however the body follows the mention
        ("通知@五星村今晚开会", "今晚开会"),
        ("通知@五星村 明天开会", "明天开会"),
        ("通知@五星村：明天开会", "明天开会"),
        ("通知@五星村 红星村村民张某是密接", "红星村村民张某是密接"),  # after a space
        ("通知@五星村，红星村村民张某是密接", "红星村村民张某是密接"),  # after a clause's comma
        ("通知@五星村，今晚到村委会开会", "今晚到村委会开会"),  # 村 inside the body is no village
        ("通知@五星村，张书记明天进村检查", "张书记明天进村检查"),
    ],
)
def test_a_mentioned_village_is_the_only_target_whatever_the_body_says(text: str, body: str) -> None:
    result = parse(text, village=None, role="admin")
    assert result["fields"] == {"body": body, "villages": ["五星村"]}


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("/broadcast 五星村,石头村 明天停止聚餐", ["石头村"]),
        ("通知@五星村@石头村：明天停止聚餐", ["石头村"]),
        ("通知 五星村、石头村、李家社区：明天停止聚餐", ["石头村", "李家社区"]),
        ("通知 石头村：明天停止聚餐", ["石头村"]),  # one name before a colon: it addresses that village
        ("/broadcast 石头村 明天停止聚餐", ["石头村"]),  # the command's form is /broadcast 村名 …
        ("通知：五星村、石头村：明天停止聚餐", ["石头村"]),
        ("通知@石头村明天停止聚餐", ["石头村"]),  # an @ names a target, even glued to the body
    ],
)
def test_a_name_that_is_no_village_is_kept_for_the_refusal_not_sent_everywhere(text: str, unknown: list[str]) -> None:
    result = parse(text, village=None, role="admin")
    assert result["fields"]["unknown_villages"] == unknown
    assert result["fields"]["body"] == "明天停止聚餐"


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("通知 各村、各社区：明天开会", "各村、各社区：明天开会"),  # how a notice addresses everyone
        ("通知@所有人 明天开会", "明天开会"),  # WeChat's mention of everyone is no village
        ("通知 石头村 明天开会", "石头村 明天开会"),  # one unknown word after a space: the body's first word
        ("通知 今晚 8点开会", "今晚 8点开会"),
        ("/broadcast 出门请佩戴口罩，勤洗手，不串门。", "出门请佩戴口罩，勤洗手，不串门。"),
        ("通知 五星村、红星村明天开会，请准时参加", "五星村、红星村明天开会，请准时参加"),
        ("通知 五星村，今晚开会", "五星村，今晚开会"),  # a plain list ends at a colon or a space only
        ("通知@所有人，今晚开会", "今晚开会"),
        ("通知@所有人今晚开会", "今晚开会"),
        ("通知@各村 今晚开会", "今晚开会"),
        ("@王岘防疫小助手 通知 今晚开会", "今晚开会"),  # the bot is mentioned, not a village
        ("通知 五星村今晚开会", "五星村今晚开会"),  # a plain 通知: the name is the body's
        # After @所有人 (or @各村, @全体村干部) comes the body, whatever village it names first.
        ("通知@所有人\u2005五星村发现一例密接，各村加强排查", "五星村发现一例密接，各村加强排查"),
        ("通知：@所有人 红星村村民张某是密接", "红星村村民张某是密接"),
        ("通知@各村 村委会今晚开会", "村委会今晚开会"),
        ("通知@全体村干部 今晚开会", "今晚开会"),
        # /broadcast's body may begin with a village, or with words about villages in general.
        ("/broadcast 五星村发现一例密接，各村加强排查", "五星村发现一例密接，各村加强排查"),
        ("/broadcast 请各村今晚8点前上报", "请各村今晚8点前上报"),
        ("/broadcast 从即日起各村严禁聚餐", "从即日起各村严禁聚餐"),
        ("/broadcast 镇村干部今晚开会", "镇村干部今晚开会"),
        ("通知 红星村村民 张某是密接，各村注意", "红星村村民 张某是密接，各村注意"),
        ("通知@各村（社区）今晚开会", "今晚开会"),
        ("通知@All 今晚开会", "今晚开会"),
        ("通知@各村支书 今晚开会", "今晚开会"),
        ("通知@镇村干部 今晚开会", "今晚开会"),
        ("紧急通知：明天起各村严禁聚餐", "明天起各村严禁聚餐"),
        ("【重要通知】明天起各村严禁聚餐", "明天起各村严禁聚餐"),
        ("通知！明天开会", "明天开会"),
        # @-mentions of people (or of the bot under another name) are told to read it: to all
        ("通知@张村长 明天开会", "明天开会"),
        ("通知 @allan 明天开会", "明天开会"),  # not @all, and no village either
        ("通知@王岘镇各村：明天开会", "明天开会"),  # an alias (王岘) is no village at a word's start
        ("通知：明天9点：各村到镇里开会", "明天9点：各村到镇里开会"),  # after 通知： a colon addresses only villages
    ],
)
def test_a_notice_that_names_no_village_goes_to_all(text: str, body: str) -> None:
    result = parse(text, village=None, role="admin")
    assert result["fields"] == {"body": body}


@pytest.mark.parametrize(
    "text",
    [
        "通知",
        "通知：",
        "收到通知了",
        "通知书已发放",
        "通知書已經發到每家了",
        "公告栏贴好了",
        "公告欄貼好了",
        "大家看通知",
    ],
)
def test_not_a_notice(text: str) -> None:
    assert parse(text, village=None, role="admin") == {"kind": "none"}


# --- none -----------------------------------------------------------------------------------------


CHAT = [
    "大家注意出门戴口罩，不要聚餐",
    "好的，收到",
    "村里今天有人发烧吗",
    "我家今天消毒两次了",
    "王主任，我家孩子从兰州回来了，需要登记吗？",
    "👍👍👍",
    "",
    "   ",
    "今天的日报什么时候交？",
    "明天排查100户，消毒2次",
    "1",
    "13912345678",
    "2月17日",
]


@pytest.mark.parametrize("role", ["resident", "checkpoint", "admin"])
@pytest.mark.parametrize("text", CHAT)
def test_chat_is_none_for_everyone_but_a_head(text: str, role: str) -> None:
    assert parse(text, role=role) == {"kind": "none"}  # type: ignore[arg-type]


@pytest.mark.parametrize("text", CHAT)
def test_chat_is_none_from_a_head_too(text: str) -> None:
    assert parse(text, role="head") == {"kind": "none"}


def test_a_none_result_has_nothing_else() -> None:
    assert parse("好的") == {"kind": "none"}
