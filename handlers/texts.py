"""Every sentence the bot says, in one place, so that a town office can review the wording.

Functions rather than bare format strings: each takes exactly the values it shows, so a missing
value is a type error at the call, not a broken message in a village group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from .delivery_failure import DeliveryFailure


def number(value: int | float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def joined(names: Iterable[str]) -> str:
    return "、".join(names)


# --- the parser's findings ------------------------------------------------------------------


def out_of_range(label: str, value: int | float, low: int, high: int) -> str:
    return f"{label} {number(value)} 不在 {low}–{high} 之间，请核实后重报"


def exceeds(label: str, value: int | float, ceiling_label: str, ceiling: int | float) -> str:
    return f"{label} {number(value)} 大于{ceiling_label} {number(ceiling)}，请核实"


def below_minimum(label: str, value: int | float, minimum: int) -> str:
    return f"{label}仅 {number(value)} 次，要求每天不少于 {minimum} 次"


def field_list(labels: Sequence[str]) -> str:
    return joined(labels)


# --- daily reports ---------------------------------------------------------------------------


def day_label(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def figures(pairs: Sequence[tuple[str, int | float]]) -> str:
    return "，".join(f"{label} {number(value)}" for label, value in pairs)


def report_received(village: str, day: dt.date, shown: str, *, late: bool, replaced: bool) -> str:
    lines = [f"✅ 已收到{village}{day_label(day)}日报：{shown}。"]
    if replaced:
        lines.append("（本条为今天的第二份完整日报，已替换早先的数字。）")
    if late:
        lines.append("⚠️ 已过今日截止时间，本次按迟报记录。")
    lines.append("如有错误，请发送「更正 字段 数字」，例如「更正 居家观察13人」。")
    return "\n".join(lines)


def reported_by(name: str) -> str:
    return f"\n（报告人：{name}。本村尚未登记村长/报告人，登记后只收其报告。）"


def village_without_head(village: str) -> str:
    return (
        f"ℹ️ {village}还没有登记村长/报告人，今天由群成员代报了日报。"
        f"请镇防控办在{village}群里发「设置村长 {village} @某人」登记；登记后只有村长能报。"
    )


def report_incomplete(village: str, day: dt.date, shown: str, missing_labels: Sequence[str]) -> str:
    got = f"已记下{village}{day_label(day)}：{shown}。" if shown else f"{village}{day_label(day)}日报还没有数字。"
    return f"{got}\n还缺：{joined(missing_labels)}，请补报，例如「{'，'.join(f'{m}X' for m in missing_labels)}」。"


def report_problems(problems: Sequence[str]) -> str:
    return "❌ 以下数字未记录：" + "；".join(problems) + "。请改正后重新发送这几项。"


def report_warnings(warnings: Sequence[str]) -> str:
    return "提醒：" + "；".join(warnings) + "。"


def correction_done(village: str, day: dt.date, changes: Sequence[tuple[str, str, str]], shown: str) -> str:
    lines = [f"✏️ 已更正{village}{day_label(day)}日报："]
    lines += [f"  {label}：{old} → {new}" for label, old, new in changes]
    lines.append(f"现为：{shown}。")
    return "\n".join(lines)


def report_edited(
    village: str, day: dt.date, changes: Sequence[tuple[str, str, str]], shown: str, missing_labels: Sequence[str]
) -> str:
    """The reply to an edited report: what the edit changed in what that message had given."""
    lines = [f"✏️ 已按修改后的消息更新{village}{day_label(day)}日报："]
    lines += [f"  {label}：{old} → {new}" for label, old, new in changes] or ["  数字没有变化。"]
    lines.append(f"现为：{shown}。" if shown else f"{village}{day_label(day)}日报现在没有数字。")
    if missing_labels:
        lines.append(f"还缺：{joined(missing_labels)}。")
    return "\n".join(lines)


def no_village_for_report() -> str:
    return "本群还没有绑定到村，这份日报不知道是哪个村的。请在开头写上村名（如「五星村日报」），或请镇防控办在本群发送「绑定 村名」。"


def not_your_village(village: str) -> str:
    return f"抱歉，您不是{village}的报告人，这份日报未记录。请由本村村干部报送；如需登记报告人，请联系镇防控办。"


def not_a_reporter() -> str:
    return "抱歉，您还没有登记为村里的报告人，这份日报未记录。请镇防控办发送「设置村长 村名」并@您（或回复您的消息）进行登记。"


# --- checkpoints, donations, inspections -----------------------------------------------------


def checkpoint_registered(
    entry_id: int,
    plate: str | None,
    persons: int | None,
    readings: Sequence[float],
    origin: str | None,
    destination: str | None,
    *,
    written_normal: bool = False,
) -> str:
    readings_text = checkpoint_readings(readings, written_normal=written_normal)
    who = plate or "步行"
    return (
        f"✅ 登记 #{entry_id}：{who}，{persons if persons is not None else '?'}人，体温 {readings_text}，"
        f"来自 {origin or '未填'}，去往 {destination or '未填'}。"
    )


def checkpoint_alert(
    checkpoint: str,
    plate: str | None,
    persons: int | None,
    readings: Sequence[float],
    origin: str | None,
    destination: str | None,
    *,
    fever: bool,
    key_area: bool,
) -> str:
    reasons = [r for r, on in (("发热", fever), ("来自重点地区", key_area)) if on]
    readings_text = "、".join(f"{r:.1f}℃" for r in readings) or "未测"
    return (
        f"🚨 卡点预警（{joined(reasons)}）\n卡点：{checkpoint}\n车辆：{plate or '步行'}\n人数：{persons or '?'}\n"
        f"体温：{readings_text}\n来自：{origin or '未填'}\n去往：{destination or '未填'}\n请立即安排核查处置。"
    )


def checkpoint_alert_sent() -> str:
    return "已同时报告镇领导群。"


def checkpoint_not_allowed() -> str:
    return "抱歉，只有卡点值班人员和镇防控办可以登记过往车辆人员。"


def donation_recorded(donor: str, organisation: bool, amount: str, goods: str, totals: str) -> str:
    gave = "，".join(x for x in (amount, goods) if x) or "（未写明数额）"
    kind = "（单位）" if organisation else ""
    return f"❤️ 已记录捐赠：{donor}{kind} {gave}。\n截至目前，{totals}。"


def donation_too_large(written: str, most: str) -> str:
    return f"⚠️ 捐赠「{written}」超出一笔捐赠的上限（{most}），本条未记录。请核对数额后重新发送。"


def donation_totals(*, organisations: int, people: int, money: str, goods: Sequence[str]) -> str:
    """共收到3家爱心企业和257位爱心人士的捐赠，捐赠金额74789元，捐赠物资口罩700个: the town's own words,
    companies apart from people and money apart from goods; the parts that are nil are left out."""
    donors = "和".join(
        part
        for part in (f"{organisations}家爱心企业" if organisations else "", f"{people}位爱心人士" if people else "")
        if part
    )
    if not donors:
        return "尚未收到捐赠"
    sentence = f"共收到{donors}的捐赠"
    if money not in ("", "0"):
        sentence += f"，捐赠金额{money}元"
    if goods:
        sentence += "，捐赠物资" + "、".join(goods)
    return sentence


def inspection_opened(item_id: int, place: str, problem: str) -> str:
    return f"📋 督查问题 #{item_id}\n地点：{place}\n问题：{problem}\n整改后请回复「整改完成 #{item_id}」。"


def inspection_recorded(item_id: int) -> str:
    return f"已登记督查问题 #{item_id}，已发到镇领导群。"


def inspection_rectified(item_id: int, place: str, by: str) -> str:
    return f"✅ 督查问题 #{item_id}（{place}）已整改完成，确认人：{by}。"


def inspection_unknown(item_id: int) -> str:
    return f"没有找到督查问题 #{item_id}，请核对编号。"


def inspection_already_closed(item_id: int) -> str:
    return f"督查问题 #{item_id} 已经整改完成，无需重复报送。"


def rectify_not_allowed(item_id: int) -> str:
    return f"抱歉，督查问题 #{item_id} 需由所在村的村干部或镇防控办确认整改。"


def admins_only(what: str) -> str:
    return f"抱歉，{what}需由镇防控办发布，本条未执行。"


# --- notices ---------------------------------------------------------------------------------


def notice_text(town: str, body: str) -> str:
    return f"📢【{town}通知】\n{body}"


def notice_queued(notice_id: int, groups: int, villages: Sequence[str]) -> str:
    return f"通知 #{notice_id} 已发往 {groups} 个群（{joined(villages)}）。"


def notice_no_groups() -> str:
    return "没有可发送的村群：请先在各村群里发送「绑定 村名」，或在配置中填写各村的群。"


def notice_unknown_villages(unknown: Sequence[str], valid: Sequence[str]) -> str:
    return f"没有这些村：{joined(unknown)}。通知未发送。可用的村名：{joined(valid)}。"


def notice_refused() -> str:
    return "抱歉，只有镇防控办可以向各村群发通知，本条未发送。"


# --- commands --------------------------------------------------------------------------------


# What the registry (handlers/registry.py) shows: each entry's line in 帮助, and the Telegram menu.
HELP_CORRECTION = "更正：「更正 居家观察13人」"
HELP_CHECKPOINT = "卡点登记：「登记 甘D12345 3人 体温36.5 36.8 36.6 来自兰州 去五星村」"
HELP_STATUS = "今日进度：「今日进度」或 /status"
MENU_REPORT = "日报：报送今日防控数字"
MENU_CORRECTION = "更正：更正今日日报中的数字"
MENU_STATUS = "今日进度：各村日报报送情况"
MENU_HELP = "帮助：日报格式和可用命令"
MENU_BIND = "绑定：把本群绑定到村或卡点（镇防控办）"
MENU_NOTICE = "通知：向各村群发通知（镇防控办）"


def help_text(template: str, example: str, deadline: str, lines: Sequence[str]) -> str:
    """The report template with an example, then one line for each thing the bot understands."""
    return (
        "📋 每日日报格式（每天"
        + deadline
        + "前报送）：\n"
        + template
        + "\n\n例："
        + example
        + "\n\n"
        + "\n".join(lines)
    )


def status_text(
    day: dt.date, reported: Sequence[str], incomplete: Sequence[str], missing: Sequence[str], late: Sequence[str]
) -> str:
    lines = [
        f"📊 {day_label(day)}日报进度：应报 {len(reported) + len(incomplete) + len(missing)}，"
        f"实报 {len(reported)}，未报 {len(missing) + len(incomplete)}"
    ]
    if reported:
        lines.append("已报：" + joined(reported))
    if late:
        lines.append("迟报：" + joined(late))
    if incomplete:
        lines.append("未报全：" + joined(incomplete))
    if missing:
        lines.append("未报：" + joined(missing))
    return "\n".join(lines)


def bound(target: str, previous: str | None) -> str:
    was = f"（原为{previous}）" if previous else ""
    return f"✅ 本群已绑定为：{target}{was}。"


def bind_usage(valid: Sequence[str]) -> str:
    return f"请写明要绑定的村或卡点，例如「绑定 五星村」。可用的名称：{joined(valid)}，或「绑定 镇领导群」。"


def bind_not_allowed() -> str:
    return "抱歉，只有镇防控办可以绑定群。"


def head_set(village: str, people: Sequence[str]) -> str:
    return f"✅ 已登记{joined(people)}为{village}报告人。"


def head_usage(valid: Sequence[str]) -> str:
    return f"请写明村名并@要登记的人（或回复其消息），例如「设置村长 五星村 @张三」。可用的村名：{joined(valid)}。"


def internal_error() -> str:
    return "抱歉，处理这条消息时出了问题，已记录。请稍后再发一次；如仍不行，请联系镇防控办。"


# --- the town report -------------------------------------------------------------------------


def cell_cut(length: int) -> str:
    """The end of a spreadsheet cell whose text was longer than a cell holds."""
    return f"…（内容过长，已截断；原文共{length}字）"


def bulletin(parts: Sequence[str], *, vehicles: int, people: int, donations: str) -> str:
    """The running totals, worded the way the town's own bulletin words them."""
    sentence = "截至目前，累计" + "、".join(parts) if parts else "截至目前"
    sentence += f"；各卡点累计登记车辆{vehicles}辆、人员{people}人"
    sentence += f"；{donations}"
    return sentence + "。"


# --- the clock -------------------------------------------------------------------------------


def reminder(village: str, day: dt.date, template: str, deadline: str) -> str:
    return f"⏰ {village}：请于今天（{day_label(day)}）{deadline}前报送疫情防控日报。格式：\n{template}"


def chase(village: str, missing_labels: Sequence[str] | None, deadline: str) -> str:
    if missing_labels is None:
        return f"❗{village}今天（截至目前）还没有报送日报，请村干部在{deadline}前报送。"
    return f"❗{village}今天的日报还缺：{joined(missing_labels)}，请村干部在{deadline}前补报。"


def chase_leaders(day: dt.date, missing: Sequence[str], incomplete: Sequence[str]) -> str:
    lines = [f"📌 {day_label(day)}日报催报：尚有 {len(missing) + len(incomplete)} 个村未报齐。"]
    if missing:
        lines.append("未报：" + joined(missing))
    if incomplete:
        lines.append("未报全：" + joined(incomplete))
    return "\n".join(lines)


def all_reported(day: dt.date) -> str:
    return f"📌 {day_label(day)}日报：各村均已报齐。"


def accountability_lines(records: Sequence[tuple[str, int, int]]) -> str:
    """(village, days missed this month, days in a row) → one line each."""
    return "\n".join(f"  {village}：本月未按时报送 {month} 天，已连续 {row} 天" for village, month, row in records)


def deadline_summary(report_text: str) -> str:
    return "🗓 截止时间已到，今日汇总如下：\n" + report_text


def scheduled_notice_confirmed(notice_id: int, when: str, villages: Sequence[str] | None) -> str:
    where = joined(villages) if villages else "各村"
    return f"✅ 定时通知 #{notice_id} 将于 {when} 发往{where}。取消请发「取消定时通知 #{notice_id}」。"


def scheduled_notice_usage() -> str:
    return "用法：「定时通知 明天08:00 内容」或「定时通知 2月18日 09:30 内容」，时间须晚于现在。"


def scheduled_notice_list(lines: Sequence[str]) -> str:
    return "待发的定时通知：\n" + "\n".join(lines) if lines else "没有待发的定时通知。"


def scheduled_notice_cancelled(notice_id: int) -> str:
    return f"已取消定时通知 #{notice_id}。"


def scheduled_notice_not_found(notice_id: int) -> str:
    return f"没有待发的定时通知 #{notice_id}。"


def scheduled_notice_sent(notice_id: int, groups: int) -> str:
    return f"定时通知 #{notice_id} 已发出，共 {groups} 个群。"


# --- people under observation ----------------------------------------------------------------


def person_registered(number: int, shown: str, origin: str | None, returned: dt.date, until: dt.date) -> str:
    came = f"{origin} " if origin else ""
    return f"已登记 #{number} {shown} {came}{day_label(returned)}返回，居家观察至{day_label(until)}"


def person_edited(number: int, shown: str, origin: str | None, returned: dt.date, until: dt.date) -> str:
    came = f"{origin} " if origin else ""
    return f"✏️ 已按修改后的消息更新登记 #{number} {shown} {came}{day_label(returned)}返回，居家观察至{day_label(until)}"


def person_refused(reason: str) -> str:
    return f"❌ 未登记：{reason}。"


def person_duplicate(number: int) -> str:
    return f"该身份证号已在居家观察名单中（#{number}），无需重复登记。"


DATA_KEY_CHANGED_LOG = (
    "the data key in the database changed (villagebot rotate-key) since this bot started; "
    "restart it with the new VILLAGEBOT_DATA_KEY"
)


def data_key_changed() -> str:
    return "⚠️ 数据密钥已更换，机器人需用新密钥重启后才能登记人员。本条未登记，请联系镇防控办，重启后再发一次。"


def notice_has_id_number() -> str:
    return (
        "⚠️ 通知里有身份证号，未发送：身份证号不能发到各村群里。请删去身份证号（需要时写姓名或手机号）后重新发送。"
    )


def no_data_key() -> str:
    return "⚠️ 本系统尚未配置数据密钥，暂不能登记个人信息（姓名、电话、身份证号）。请镇防控办管理员运行 `villagebot keygen` 生成密钥并设置 VILLAGEBOT_DATA_KEY 后重启。"


def person_village_unknown() -> str:
    return "请在本村群里登记，或在登记内容中写明村名（例如「返乡登记 五星村 张三 …」）。"


def person_not_allowed() -> str:
    return "抱歉，只有本村村干部和镇防控办可以登记和管理居家观察人员。"


def person_not_found(number: int) -> str:
    return f"没有找到居家观察人员 #{number}。"


def temperature_recorded(number: int, name: str, celsius: float, checks: int) -> str:
    return f"已记录 #{number} {name} 体温 {celsius:.1f}℃（第 {checks} 次测温）。"


def temperature_alert(village: str, number: int, name: str, celsius: float) -> str:
    return f"🚨 居家观察人员体温异常：{village} #{number} {name} {celsius:.1f}℃，请立即安排复测和处置。"


def person_closed(number: int, name: str, status_word: str) -> str:
    return f"✅ #{number} {name} 已{status_word}。"


def observation_ending(village: str, day: dt.date, people: Sequence[str]) -> str:
    return (
        f"📋 {village}以下居家观察人员将于{day_label(day)}期满：{joined(people)}。"
        "确认无异常后，请发送「解除观察 #编号」。"
    )


def registry_mismatch(reported: int, registered: int) -> str:
    return f"⚠️ 居家观察填报 {reported} 人，登记在册 {registered} 人，请核对。"


# --- platforms and groups --------------------------------------------------------------------

PLATFORM_NAMES = {"telegram": "Telegram", "wechat": "微信", "console": "控制台"}
#: How a bot-removed alert names the leaders' own group.
LEADERS_PLACE = "镇领导群"
#: A person to @mention whose name the bot has not seen yet (it learns names from what people send).
UNKNOWN_MENTION_NAME = "村干部"


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def bot_removed(place: str, chat: str) -> str:
    """To the leaders, once, when a group has removed the bot."""
    return (
        f"⚠️ 机器人已被移出「{place}」的{platform_name(chat.partition(':')[0])}群（{chat}），该群收不到提醒和通知。"
        f"请把机器人重新拉进该群，并在群里发送「绑定 {place}」。"
    )


def platform_down(platform: str, seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return (
        f"⚠️ {platform_name(platform)}机器人已断线{minutes}分钟：各村{platform_name(platform)}群的日报、登记暂时收不到，"
        "回复和通知也发不出去。正在自动重连，恢复后会再告知。"
    )


def platform_back(platform: str, seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"✅ {platform_name(platform)}机器人已恢复连接（断线约{minutes}分钟），积压的消息正在依次发出。"


def platform_gap(platform: str, since: dt.datetime, until: dt.datetime) -> str:
    """To the leaders, once a platform that keeps no queue is back: what the bot could not see.
    `since` and `until` are in the town's time."""
    name = platform_name(platform)

    def moment(at: dt.datetime) -> str:
        return f"{at:%H:%M}" if at.date() == until.date() else f"{day_label(at.date())}{at:%H:%M}"

    return (
        f"⚠️ {day_label(until.date())}{moment(since)}至{until:%H:%M}，{name}机器人与{name}断开了连接，"
        f"这段时间各村在{name}群里发的日报、登记等消息机器人没有收到。请通知这段时间发过消息的村和卡点重新发送一次。"
    )


#: What to tell the leaders when a platform that worked refuses the bot until a setting is fixed, by
#: transport.PlatformFault (a StrEnum, named by its value here so that texts need not import asyncio).
PLATFORM_FAULTS: dict[str, str] = {
    "credentials": "服务拒绝了机器人的令牌（token），请技术人员核对机器人配置中的令牌与服务的令牌是否一致",
    "tls": "服务的加密证书（TLS）与机器人的设置不符，请技术人员核对 [wechat] tls、tls_ca、tls_server_name",
}


def platform_refused(platform: str, fault: str) -> str:
    name = platform_name(platform)
    return (
        f"🚫 {name}机器人连不上{name}服务：{PLATFORM_FAULTS[fault]}。"
        f"修好之前，各村{name}群的日报、登记收不到，回复和通知也发不出去；机器人会继续重试。"
    )


# --- delivery reports and acknowledgements ---------------------------------------------------

#: Why a send failed, as the leaders read it in a delivery report, by the DeliveryFailure stored
#: with the outbox row (handlers/transport.py). The platform's own words stay in the database and
#: the logs, for whoever debugs.
FAILURE_REASONS: dict[DeliveryFailure, str] = {
    DeliveryFailure.REMOVED: "机器人已被移出该群",
    DeliveryFailure.NO_RIGHTS: "机器人在该群没有发言权限",
    DeliveryFailure.MOVED: "群已升级/迁移",
    DeliveryFailure.NO_ANSWER: "发送失败（平台无响应）",
    DeliveryFailure.REFUSED: "发送失败（平台拒收）",
    DeliveryFailure.FAILED: "发送失败",
}


#: What people in a village group answer to a notice once they have read it. A message counts as
#: an acknowledgement when, punctuation, emoji, @mentions and the group's own village name aside, it
#: is nothing but these words and COURTESY_WORDS, with at least one of these (收到！, 好的，谢谢,
#: 收到收到, 五星村收到), and no longer than ACKNOWLEDGEMENT_LENGTH characters.
ACKNOWLEDGEMENT_WORDS = (
    "收到", "已收到", "收到了", "已阅", "已读", "阅", "好的", "好", "好嘞", "ok", "知道了", "知道", "明白",
    "明白了", "遵照执行", "坚决执行", "照办", "马上落实", "立即落实", "马上办", "没问题",
)  # fmt: skip
#: What may go with an acknowledgement, and acknowledges nothing alone.
COURTESY_WORDS = ("谢谢", "感谢", "领导", "辛苦了", "辛苦", "您", "嗯", "哦", "噢", "啦", "了", "哈")
#: Words that make a message a question or an objection (好的，但…; 知道了，不过…; 收到了吗？):
#: never an acknowledgement, not even as a reply to the notice itself.
DOUBT_WORDS = (
    "?", "但", "不过", "可是", "只是", "然而", "吗", "谁", "哪", "什么", "怎么", "为何", "不行", "不能", "无法", "还没",
)  # fmt: skip
ACKNOWLEDGEMENT_LENGTH = 12


def failure_reason(failure: str | None) -> str:
    """The Chinese reason for a failed send: a leader reads the group list, not the platform's English."""
    try:
        return FAILURE_REASONS[DeliveryFailure(failure or "")]
    except ValueError:  # none stored (a row failed before failures were typed), or one unknown here
        return FAILURE_REASONS[DeliveryFailure.FAILED]


def notice_delivered(notice_id: int, delivered: int, total: int, failures: Sequence[tuple[str, str]]) -> str:
    if not failures:
        return f"📬 通知 #{notice_id} 已送达 {delivered}/{total} 个群。"
    lines = [f"⚠️ 通知 #{notice_id} 已送达 {delivered}/{total} 个群，以下群未送达："]
    lines += [f"  {village}：{reason}" for village, reason in failures]
    return "\n".join(lines)


def receipts(notice_id: int, acknowledged: Sequence[tuple[str, int]], silent: Sequence[str]) -> str:
    lines = [f"📋 通知 #{notice_id} 回执：已确认 {len(acknowledged)}/{len(acknowledged) + len(silent)} 个村"]
    if acknowledged:
        lines.append("已确认：" + joined(f"{village}（{count}人）" for village, count in acknowledged))
    if silent:
        lines.append("未确认：" + joined(silent))
    return "\n".join(lines)


def acknowledgement_counts(counts: Sequence[tuple[str, int]]) -> str:
    """(village, people who acknowledged) for each village a notice went to, silent ones as 0人."""
    return "回执：" + joined(f"{village}{count}人" for village, count in counts)


def no_notice_yet() -> str:
    return "今天还没有发过通知。"


# --- what the parser could not read for sure (issue 13): the reply asks again -----------------------
UNREADABLE_NUMBER = "看不懂这个数字，请用阿拉伯数字重报"
UNREADABLE_TEMPERATURE = "看不懂这个体温，请重新测量后用 36.5 这样的格式报"
UNREADABLE_PLATE = "看不懂这个车牌号，请核对后重报（如 甘D12345）"


def date_not_taken(day: str) -> str:
    return f"报告里写的日期 {day} 不是今天，已按今天的日报处理，请核实"


# --- issue 13: temperature lists (体温接龙), checkpoint readings, the console -------------------


def temperature_list_alert(village: str, line: int, name: str, celsius: float) -> str:
    return f"🚨 体温接龙发现体温异常：{village} 第{line}条 {name} {celsius:.1f}℃，请立即安排复测和处置。"


def temperature_list_fever_noted(fevers: Sequence[tuple[int, str, float]]) -> str:
    lines = joined(f"第{line}条 {name} {celsius:.1f}℃" for line, name, celsius in fevers)
    return f"⚠️ 体温异常：{lines}，已报告镇防控办，请尽快复测。"


def checkpoint_readings(readings: Sequence[float], *, written_normal: bool) -> str:
    """体温 as the registration says it: the readings, 正常 only when the staff wrote it, else 未测."""
    if readings:
        return "、".join(f"{r:.1f}" for r in readings)
    return "正常" if written_normal else "未测"


def too_many_persons(persons: int, most: int) -> str:
    return f"人数{persons}超出一次登记的上限（{most}人），请核实；人多时请分车、分批登记"


def checkpoint_not_registered(problems: Sequence[str]) -> str:
    return f"⚠️ {'；'.join(problems)}。本条未登记，请核实后重新发送整条登记。"


def checkpoint_temperature_unreadable(written: Sequence[str]) -> str:
    return (
        f"⚠️ 没有看懂体温「{'」「'.join(written)}」（应在34.0–43.0℃之间，如 36.5），本条未登记。"
        "请核实后重新发送整条登记。"
    )


CONSOLE_MULTILINE = '"""'  # on a line of its own: starts a message of several lines, and ends it
CONSOLE_MULTILINE_HINT = '  """  另起一行输入三个引号，粘贴或输入多行消息（如接龙），再输入一行 """ 发送'


# --- the county's report (handlers/county_report.py) ----------------------------------------------


def county_report_title(county: str, day: str) -> str:
    return f"{county}疫情防控日报（{day}）"


def county_report_counts(expected: int, reported: int) -> str:
    return f"全县应报 {expected} 个，实报 {reported} 个，未报 {expected - reported} 个"


def county_report_town(town: str, expected: int, reported: int, missing: Sequence[str]) -> str:
    line = f"{town}：应报 {expected} 个，实报 {reported} 个"
    return line + (f"，未报：{joined(missing)}" if missing else "，全部报齐")


def county_report_alert(checkpoint: str, persons: int) -> str:
    return f"卡点预警：{checkpoint or '卡点'} {persons} 人"


def county_report_notice(notice_id: int, delivered: int, groups: int) -> str:
    return f"通知 #{notice_id}：已送达 {delivered}/{groups} 个群"


def county_report_totals(figures_text: str) -> str:
    return "全县合计：" + figures_text


# --- the county's notice and summary (handlers/county.py) -----------------------------------------


def county_notice_queued(towns: Sequence[str], groups: int) -> str:
    if not towns:
        return "⚠️ 县通知未发送：各镇都没有绑定的村群。"
    return f"✅ 县通知已发往 {len(towns)} 个镇（{joined(towns)}）{groups} 个村群；各镇的送达情况会报给各镇领导群。"


def county_notice_empty() -> str:
    return "⚠️ 县通知没有内容，未发送。请这样写：县通知：明天起各村卡点每日消毒两次"


def county_summary(report_text: str) -> str:
    return "🗓 各镇截止时间已到，全县汇总如下：\n" + report_text


# --- the town office's page (villagebot serve) ---------------------------------------------------

#: The page's fixed words, by what they label; the templates in bot/web/templates read them as `t.…`.
WEB_LABELS = {
    "page_title": "疫情防控日报",
    "login_title": "登录",
    "login_prompt": "请输入镇防控办提供的访问口令。",
    "login_token": "访问口令",
    "login_submit": "登录",
    "login_wrong": "口令不对，请重新输入。",
    "logout": "退出登录",
    "choose_day": "查看日期",
    "show": "查看",
    "previous_day": "前一天",
    "next_day": "后一天",
    "download_xlsx": "下载表格（xlsx）",
    "day_table": "各村（社区）日报",
    "village": "村/社区",
    "status": "状态",
    "status_reported": "已报",
    "status_late": "迟报",
    "status_incomplete": "未报全",
    "status_missing": "未报",
    "totals": "合计",
    "legend": "图例：",
    "legend_missing": "红色 未报或未报全",
    "legend_late": "橙色 迟报",
    "legend_mismatch": "⚠ 与登记在册人数不符",
    "registered": "登记在册",
    "trends": "近14天趋势",
    "day": "日期",
    "checkpoint_vehicles": "卡点车辆",
    "checkpoint_people": "卡点人员",
    "checkpoint_fevers": "卡点发热",
    "checkpoints_today": "卡点登记",
    "checkpoint_alerts": "卡点预警",
    "plate": "车牌",
    "on_foot": "步行",
    "persons": "人数",
    "temperatures": "体温",
    "origin": "来自",
    "donations": "捐赠",
    "donations_today": "当日捐赠",
    "donations_cumulative": "累计捐赠",
    "donor": "捐赠人",
    "kind": "类别",
    "organisation": "单位",
    "person": "个人",
    "money": "金额（元）",
    "goods": "物资",
    "none_today": "当日没有。",
    "inspections": "未整改督查问题",
    "place": "地点",
    "problem": "问题",
    "opened": "发现日期",
    "no_open_inspections": "没有未整改的问题。",
    "notices": "当日通知",
    "no_notices": "当日没有通知。",
    "delivery": "送达",
    "receipts": "回执（人）",
    "cumulative": "累计",
    "accountability": "问责记录（截至当日）",
    "bad_day": "日期应写成 YYYY-MM-DD，如 2020-02-17。",
}


def web_counts(expected: int, reported: int, missing: int, late: int) -> str:
    return f"应报 {expected} 个，实报 {reported} 个，未报 {missing} 个，迟报 {late} 个"


def web_checkpoints(entries: int, vehicles: int, people: int, fevers: int, key_area: int) -> str:
    return f"登记 {entries} 次，车辆 {vehicles} 辆，人员 {people} 人，发热 {fevers} 人，重点地区来人 {key_area} 次"


def web_donations_cumulative(donors: int, money: str, goods: Sequence[str]) -> str:
    things = f"，物资 {joined(goods)}" if goods else ""
    return f"共 {donors} 位（家）捐赠人，金额 {money} 元{things}"


def web_delivery(delivered: int, groups: int, failed: int, pending: int) -> str:
    rest = (f"，失败 {failed}" if failed else "") + (f"，待发 {pending}" if pending else "")
    return f"已送达 {delivered}/{groups} 个群{rest}"


def web_registry_mismatch(registered: int) -> str:
    return f"⚠ 登记在册 {registered} 人"


# --- pictures: the day's table and the trends, as images -------------------------------------

TABLE_VILLAGE_HEADER = "村（社区）"
TABLE_STATUS_HEADER = "报送"
TABLE_TOTAL_ROW = "合计"
TABLE_REPORTED = "已报"
TABLE_LATE = "迟报"
TABLE_MISSING = "未报"
TABLE_INCOMPLETE = "未报全"
TABLE_FIELD_MISSING = "缺"
LEGEND_MISSING = "红色：未报或未报全"
LEGEND_LATE = "橙色：迟报"
LEGEND_MISMATCH = "紫色：居家观察与登记在册人数不符"
TREND_VEHICLES = "卡点车辆"
TREND_PEOPLE = "卡点人员"
HELP_PICTURES = "报表图片：「今日报表」或 /table；近14天趋势图：「趋势图」或 /trend（镇领导群、镇防控办）"
MENU_TABLE = "今日报表：各村数字的表格图片"
MENU_TREND = "趋势图：近14天主要数字的变化"


def table_title(town: str, day: dt.date) -> str:
    return f"{town}疫情防控日报（{day_label(day)}）"


def table_counts(expected: int, reported: int, late: int) -> str:
    line = f"应报 {expected} 个，实报 {reported} 个，未报 {expected - reported} 个"
    return line + (f"，迟报 {late} 个" if late else "")


def table_rows_left_out(on_time: int, others: int) -> str:
    """Under the counts of a picture too long for a phone: which villages it does not list."""
    parts = [f"按时报齐的 {on_time} 个村未列出"] if on_time else []
    parts += [f"另有 {others} 个村未列出"] if others else []
    return "（" + "，".join(parts) + "，详见表格文件）"


def table_registry_cell(reported: int, registered: int) -> str:
    return f"{reported}（登记{registered}）"


def table_caption(town: str, day: dt.date, missing: Sequence[str]) -> str:
    """Under the day's table: what it is, and who is missing, for those who do not open it."""
    caption = f"📊 {table_title(town, day)}"
    return caption + ("\n未报：" + joined(missing) if missing else "\n各村均已报送。")


def trend_title(town: str, first: dt.date, last: dt.date) -> str:
    return f"{town}近{(last - first).days + 1}天趋势（{day_label(first)}—{day_label(last)}）"


def trend_caption(town: str, first: dt.date, last: dt.date) -> str:
    return f"📈 {trend_title(town, first, last)}"


def weekly_trend_caption(town: str, first: dt.date, last: dt.date) -> str:
    return f"📈 每周趋势：{trend_title(town, first, last)}"


def pictures_for_leaders_only(what: str) -> str:
    return f"抱歉，{what}只发给镇领导群和镇防控办。请在镇领导群里发送。"


def picture_failed(what: str) -> str:
    return f"抱歉，{what}暂时生成不了，已记录。请稍后再试，或发送「今日进度」查看文字版。"


def console_picture(name: str, kilobytes: int) -> str:
    """How the console shows an image it cannot draw on a terminal."""
    return f"[图片: {name}, {kilobytes} KB]"
