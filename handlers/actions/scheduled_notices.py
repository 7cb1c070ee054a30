"""定时通知: an admin schedules a notice for later, lists what is pending, cancels one."""

from __future__ import annotations

import datetime as dt
import re

from .. import texts
from ..clock import at_local
from ..commands import Command
from ..permissions import Action, allowed
from ..personal_info import has_id_number
from ..town import Town
from ..turn import Turn

# Read from the text as written (full-width digits and traditional 後天 included), because the
# body after the time must reach the villages exactly as the admin wrote it.
_D = "[0-9０-９]"
_WHEN = re.compile(
    rf"^(?:(?P<word>今天|今日|明天|明日|后天|後天)|(?:(?P<year>{_D}{{4}})[-/年])?(?P<month>{_D}{{1,2}})[-/月]"
    rf"(?P<day>{_D}{{1,2}})[日号號]?)?\s*(?P<hour>{_D}{{1,2}})[:：点點](?P<minute>{_D}{{2}})?分?\s*[:：,，]?\s*(?P<body>.+)$",
    re.DOTALL,
)
_TRIGGER = re.compile(r"^\s*(?:[@＠]\S+\s+)*(?:/schedule(?:@\w+)?|定时通知|定時通知)\s*[:：]?\s*")
_OFFSETS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "後天": 2}


def when_and_body(text: str, town: Town, now: dt.datetime) -> tuple[dt.datetime, str] | None:
    """The moment and the body of "定时通知 明天08:00 内容"; None when unreadable or already past."""
    match = _WHEN.match(_TRIGGER.sub("", text, count=1).strip())
    if match is None:
        return None
    today = town.day_of(now)
    if match["month"]:
        year = int(match["year"] or today.year)
        try:
            day = dt.date(year, int(match["month"]), int(match["day"]))
        except ValueError:
            return None
    else:
        day = today + dt.timedelta(days=_OFFSETS.get(match["word"] or "今天", 0))
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if hour > 23 or minute > 59:
        return None
    moment = at_local(day, dt.time(hour, minute), town.zone)
    if moment <= now:
        return None
    return moment, match["body"].strip()


async def schedule_notice(turn: Turn, command: Command) -> None:
    if not allowed(Action.NOTIFY, turn.speaker.role):
        await turn.reply(texts.admins_only("定时通知"))
        return
    parsed = when_and_body(turn.message.text, turn.town, turn.message.at)
    if parsed is None:
        await turn.reply(texts.scheduled_notice_usage())
        return
    run_at, body = parsed
    if has_id_number(body):
        await turn.reply(texts.notice_has_id_number())
        return
    notice = await turn.store.scheduled_notices.add(
        run_at=run_at, body=body, villages=[], by=turn.speaker.id, at=turn.message.at, chat=turn.message.chat
    )
    when = run_at.astimezone(turn.town.zone).strftime("%m月%d日 %H:%M")
    await turn.reply(texts.scheduled_notice_confirmed(notice.id, when, None))


async def list_scheduled(turn: Turn, command: Command) -> None:
    if not allowed(Action.NOTIFY, turn.speaker.role):
        await turn.reply(texts.admins_only("定时通知"))
        return
    lines = [
        f"#{n.id} {n.run_at.astimezone(turn.town.zone).strftime('%m月%d日 %H:%M')} {n.body[:30]}"
        for n in await turn.store.scheduled_notices.pending()
    ]
    await turn.reply(texts.scheduled_notice_list(lines))


async def cancel_scheduled(turn: Turn, command: Command) -> None:
    if not allowed(Action.NOTIFY, turn.speaker.role):
        await turn.reply(texts.admins_only("定时通知"))
        return
    notice_id = int(command.argument)
    notice = await turn.store.scheduled_notices.get(notice_id)
    if notice is None or notice.status != "pending":
        await turn.reply(texts.scheduled_notice_not_found(notice_id))
        return
    notice.status = "cancelled"
    await turn.reply(texts.scheduled_notice_cancelled(notice_id))
