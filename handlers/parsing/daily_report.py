"""The village's daily figures (日报), however a village head happens to type them.

Each field keyword owns the text up to the next keyword; its value is the first number in that
stretch, before the clause ends, with a plausible unit. That one rule covers "排查：86户",
"排查了80户", "居家观察应为13人" and "排查 98 户" alike, and leaves dates, list numbers and phone
numbers that follow no keyword alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import texts
from .kinds import Triggered
from .normalize import CLAUSE_BREAK, CN_DIGITS, to_number
from .result import MessageContext, Problem
from .vocabulary import Vocabulary

# Words that make a sentence about the future: a plan, not today's figures.
_PLAN_WORDS = re.compile(r"明天|明日|后天|计划|准备|将|打算|下周")
# Without a trigger, a rule or a requirement (镇里要求…不少于2次) or a passed-on notice is not a report.
_RULE_WORDS = re.compile(r"要求|必须|务必|一律|不少于|不低于|不得|应当|(?<![无必])须|每天[^,;。!?\n]{0,12}次")
_FORWARDED = re.compile(r"转发|(?:^|\s)转\s*:|接[^,;。!?\n]{0,20}通知")
# A change of a figure: the value after 改为 is the one that counts (由2人改为3人, 从2改成3, 应为3人).
_CHANGE_TO = re.compile(r"(?:改为|改成|更正为|更改为|修改为|调整为|变为|应为|应是)")
# A unit that belongs to no field: 14天 is a duration, 3组 a group, 5号 a house number.
_FOREIGN_UNITS = ("天", "日", "周", "月", "年", "小时", "分钟", "岁", "组", "号", "楼", "单元", "针", "点", "时")
# What makes a figure unreadable, right after its digits: 1e3, 0x10, 3.7.5, "1 200" (a space or a
# zero-width space inside the figure).
_BAD_AFTER = re.compile(r"[eE][+-]?[0-9]|[xX][0-9a-fA-F]|\.[0-9]*\.|\.[0-9]|\s+[0-9]")
_MAX_COUNT_DIGITS = 6
# "无发热人员", "无新增返乡人员": the negation stands right against the field's word. ("发热:无 劝阻…"
# is 发热's value, not a negation of 劝阻.)
_NEGATION_BEFORE = re.compile(r"(?:无|没有|未发现|未有|暂无)(?:新增|新|任何|发现)?\Z")
# "发热:无", and "发热人员:无" where the label goes on past the keyword.
# "返乡的没有", "发热暂无", "发热为零": zero, said in words, when no figure follows the word.
_ZERO_LABEL = r"^[\s:=]*(?:人员|人数|人|者|情况|病例|户数)?[\s:=]*(?:的)?[\s:=]*"
_ZERO_AFTER = re.compile(rf"{_ZERO_LABEL}(?:为|是)?\s*(?:无|没有|未发现|暂无|暂未发现|零(?![一二三四五六七八九十]))")
# "发烧的一个都没有": checked before any figure, so that its 一 is never read as 1.
_ZERO_IDIOM = re.compile(rf"{_ZERO_LABEL}(?:一个|一人|一例|一名|一位|一户)?(?:都|也)(?:没有|没|无)")
# Filler that may stand between a bare Chinese numeral and a keyword: "发热零", "发热:无".
_NUMERAL_LEAD = re.compile(r"^[\s:=]*$|(?:为|是|共|计|了|有)\s*$")
_MAX_FILLER = 8
# A number followed by one of these is a date or a time of day (2月15日, 8点), not a count.
_DATE_AFTER = frozenset("年月日号点时")
# A bare number this long is a phone or an ID number, not a count.
_PHONE_DIGITS = 7
# A list's item number right before the item: "1.排查", "2、返乡", "(3)无发热".
_LIST_MARKER = re.compile(r"(?:^|(?<=[\s,;:(]))([0-9]{1,2})\s*[、.)](?![0-9])\s*(?:无|没有|未发现|暂无)?(?:新增)?\s*$")
_MARKER_REACH = 12
_BEFORE_REACH = 24
_MARKER_HINT = re.compile(r"[0-9]\s*[、.)](?![0-9])")  # cheap test: could the text hold a list at all?
_CLAUSE_END = re.compile(f"[{re.escape(CLAUSE_BREAK)}]")
# After bare digits right behind a keyword, these send the value to the careful path: a date or a
# time (2月, 8点), 一次性, 1.2万, or perhaps the next item's list number ("发热 2、消毒3次").
_NOT_A_COUNT_AFTER = frozenset(
    _DATE_AFTER | {"性", "万", "、", ")"} | {u[0] for u in _FOREIGN_UNITS} | set("eExX0123456789")
)
_NO_FIELDS: frozenset[str] = frozenset()


class FieldValue(NamedTuple):
    """A NamedTuple, not a dataclass: one is made per figure of every report, and this is the hot path."""

    value: int | float
    from_number: bool  # False when it only came from 无/没有 (no digit or numeral was written)
    unreadable: bool = False  # a figure was written but cannot be read for sure (1e3, 3.7.5, -2)


@dataclass(frozen=True)
class ReportFigures:
    """A village's figures for the day (or, for a correction, the figures it changes), checked
    against the town's template: what is valid, what is missing, what was refused and why."""

    village: str | None
    figures: Mapping[str, int]  # field id → value, in the template's order
    correction: bool
    missing: tuple[str, ...]
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    # The day the report is for when it names one of the last 7 days other than today (昨天的日报);
    # None for today's.
    date: dt.date | None = None
    # A bare 零报告: the fields marked zero_report were set to 0 by the word, not by figures.
    zero_report: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "village": self.village,
            **({"date": self.date.isoformat()} if self.date is not None else {}),
            "correction": self.correction,
            "fields": dict(self.figures),
            "missing": list(self.missing),
            "problems": [p.to_json() for p in self.problems],
        }
        if self.warnings:
            out["warnings"] = [w.to_json() for w in self.warnings]
        return out


@dataclass(frozen=True)
class Extraction:
    values: dict[str, FieldValue]
    first_keyword_at: int | None


def _clause(text: str, start: int, end: int) -> str:
    found = _CLAUSE_END.search(text, start, end)
    return text[start : found.start() if found else end]


def _unreadable(clause: str, match: re.Match[str]) -> bool:
    """A figure that cannot be read for sure: a minus, 1e3, 0x10, 3.7.5, "1 200", 120.5户, too many digits."""
    token, start, end = match["num"], match.start("num"), match.end("num")
    if not token[0].isdigit():
        return False
    if start > 0 and clause[start - 1] in "-−﹣":
        return True
    after = clause[end : end + 1]
    if after and (after in "eExX." or after.isspace()) and _BAD_AFTER.match(clause, end) is not None:
        return True
    if "." in token:
        return not token.endswith("万")
    return len(token) > _MAX_COUNT_DIGITS


def _first_value(clause: str, value_re: re.Pattern[str]) -> re.Match[str] | None:
    for match in value_re.finditer(clause):
        filler = clause[: match.start()]
        if len(filler.strip()) > _MAX_FILLER:
            return None
        token, unit = match["num"], match["unit"]
        after = clause[match.end() : match.end() + 1]
        if after == "性":
            continue  # 一次性: an adjective, not a count
        if unit is None and clause.startswith(_FOREIGN_UNITS, match.end()):
            continue  # 14天, 3组, 5号楼: a number, but not of this field
        if unit is None and (after in _DATE_AFTER or (token.isdigit() and len(token) >= _PHONE_DIGITS)):
            continue  # 2月15日, 8点, 13912345678
        if token[0] in CN_DIGITS:
            followed_by = clause[match.end() :][:1]
            if unit is None and (followed_by not in ("", " ", ")") or not _NUMERAL_LEAD.search(filler)):
                continue  # 一 in 一共, 统一: part of a word, not a number
        if to_number(token) is not None:
            return match
    return None


def _value_before(text: str, start: int, taken: set[int], vocab: Vocabulary) -> re.Match[str] | None:
    """ "其中1人来自武汉": a count just before the keyword, in the same clause, that no field took."""
    window = max(0, start - _BEFORE_REACH)  # bounded, so that a long clause costs no more per keyword
    clause_start = max((text.rfind(c, window, start) for c in CLAUSE_BREAK), default=-1) + 1
    clause_start = max(clause_start, window)
    match = vocab.value_before_re.search(text, clause_start, start)
    if match is None or match.start() in taken or match["unit"] is None:
        return None
    return match if to_number(match["num"]) is not None else None


def _list_markers(text: str, matches: list[re.Match[str]]) -> dict[int, int]:
    """Keyword index → where its list number starts, for items numbered in sequence (1. 2. 3.)."""
    found: list[tuple[int, int, int]] = []
    for index, match in enumerate(matches):
        marker = _LIST_MARKER.search(text, max(0, match.start() - _MARKER_REACH), match.start())
        if marker is not None and int(marker[1]) >= 1:
            found.append((index, marker.start(1), int(marker[1])))
    markers: dict[int, int] = {}
    for position, (index, start, number) in enumerate(found):
        before = found[position - 1][2] if position > 0 else None
        after = found[position + 1][2] if position + 1 < len(found) else None
        if before == number - 1 or after == number + 1:
            markers[index] = start
    return markers


def extract_fields(text: str, vocab: Vocabulary) -> Extraction:
    """Every field that has a value in the text; the first value of a field wins.

    One regex pass finds every keyword and, in the common case, the digits right behind it
    (排查120户, 返乡：2人); only the other keywords take the careful path over their stretch of text.
    """
    matches = list(vocab.keyword_value_re.finditer(text))
    markers = _list_markers(text, matches) if len(matches) > 1 and _MARKER_HINT.search(text) else {}
    values: dict[str, FieldValue] = {}
    taken: set[int] = set()  # where the numbers that a field took start
    unvalued: list[tuple[str, int]] = []
    unit_fields, keyword_field = vocab.unit_fields, vocab.keyword_field
    # 由2人改为3人: every figure takes the careful path (the `in` tests spare most texts the regex)
    changes = ("为" in text or "成" in text or "是" in text) and _CHANGE_TO.search(text) is not None
    for index, match in enumerate(matches):
        field_id = keyword_field[match["kw"]]
        number, unit = match["num"], match["unit"]
        if match["neg"]:
            values.setdefault(field_id, FieldValue(0, True, unreadable=True))
            taken.add(match.start("num"))
            continue
        if number is not None and not changes and (unit or match["after"] not in _NOT_A_COUNT_AFTER):
            owners = unit_fields.get(unit, _NO_FIELDS) if unit else _NO_FIELDS
            if owners and field_id not in owners and len(owners) == 1:
                field_id = next(iter(owners))  # 户 settles households, whatever word came before
            if field_id not in values:
                values[field_id] = FieldValue(int(number), True)
            taken.add(match.start("num"))
            continue
        keyword_end = match.end("kw")
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        end = markers.get(index + 1, end)  # the next item's number is not this item's value
        clause = _clause(text, keyword_end, end)
        offset = keyword_end
        if changes and (change := _CHANGE_TO.search(clause)) is not None:
            clause, offset = clause[change.end() :], offset + change.end()
        if ("没" in clause or "无" in clause) and _ZERO_IDIOM.match(clause):
            values.setdefault(field_id, FieldValue(0, False))
            continue
        found = _first_value(clause, vocab.value_re)
        if found is not None:
            taken.add(offset + found.start())
            if _unreadable(clause, found):
                values.setdefault(_owner(field_id, found, vocab), FieldValue(0, True, unreadable=True))
            else:
                _assign(values, field_id, found, vocab)
        elif _ZERO_AFTER.match(clause) or _NEGATION_BEFORE.search(text, max(0, match.start() - 6), match.start()):
            values.setdefault(field_id, FieldValue(0, False))
        else:
            unvalued.append((field_id, match.start()))
    for field_id, start in unvalued:
        if field_id not in values and (before := _value_before(text, start, taken, vocab)) is not None:
            taken.add(before.start())
            _assign(values, field_id, before, vocab)
    return Extraction(values, matches[0].start() if matches else None)


def _owner(field_id: str, found: re.Match[str], vocab: Vocabulary) -> str:
    owners = vocab.unit_fields.get(found["unit"] or "", frozenset())
    if owners and field_id not in owners and len(owners) == 1:
        return next(iter(owners))  # 户 settles households, whatever word came before
    return field_id


def _assign(values: dict[str, FieldValue], field_id: str, found: re.Match[str], vocab: Vocabulary) -> None:
    field_id = _owner(field_id, found, vocab)
    value = to_number(found["num"])
    if value is not None:
        values.setdefault(field_id, FieldValue(value, from_number=True))


def reporting_village(text: str, extraction: Extraction, ctx: MessageContext, vocab: Vocabulary) -> str | None:
    """A known village named before the first field reports; else the group's own village."""
    head = text if extraction.first_keyword_at is None else text[: extraction.first_keyword_at]
    named = vocab.village_re.search(head)
    return vocab.village_names[named.group()] if named else ctx.village


def is_plan(text: str, extraction: Extraction) -> bool:
    head = text if extraction.first_keyword_at is None else text[: extraction.first_keyword_at]
    return bool(_PLAN_WORDS.search(head))


def build_report(
    extraction: Extraction,
    village: str | None,
    vocab: Vocabulary,
    *,
    correction: bool,
    zero_report: bool = False,
    day: ReportDay | None = None,
) -> ReportFigures | None:
    """Validate the figures against the template; None when nothing was actually reported."""
    values = extraction.values
    zero_report = zero_report and not values  # a bare 零报告; with figures, the figures say what is 0
    if zero_report:
        values = {**dict.fromkeys(vocab.zero_report_ids, FieldValue(0, True)), **values}
    if not any(v.from_number for v in values.values()):
        return None
    fields: dict[str, int] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = [] if day is None or day.warning is None else [day.warning]
    for spec in vocab.fields:
        found = values.get(spec.id)
        if found is None:
            continue
        value = found.value
        if found.unreadable or isinstance(value, float):
            problems.append(Problem(spec.id, texts.UNREADABLE_NUMBER))
        elif not spec.min <= value <= spec.max:
            problems.append(Problem(spec.id, texts.out_of_range(spec.label, value, spec.min, spec.max)))
        else:
            fields[spec.id] = value
    for spec in vocab.checked_fields:
        if spec.id not in fields:
            continue
        ceiling_id = spec.at_most
        if ceiling_id and ceiling_id in fields and fields[spec.id] > fields[ceiling_id]:
            ceiling = vocab.field_by_id[ceiling_id]
            problems.append(
                Problem(spec.id, texts.exceeds(spec.label, fields[spec.id], ceiling.label, fields[ceiling_id]))
            )
            del fields[spec.id]
        if spec.warn_below is not None and spec.id in fields and fields[spec.id] < spec.warn_below:
            warnings.append(Problem(spec.id, texts.below_minimum(spec.label, fields[spec.id], spec.warn_below)))
    missing = () if correction else tuple(f for f in vocab.required_ids if f not in fields)
    date = None if day is None else day.date
    return ReportFigures(village, fields, correction, missing, tuple(problems), tuple(warnings), date, zero_report)


class ReportDay(NamedTuple):
    """The day a report names: taken (within the last 7 days, not today), or left with a warning."""

    date: dt.date | None
    warning: Problem | None


_RELATIVE_DAY = re.compile(r"(前天|昨天|昨日|今天|今日)")
_NAMED_DAY = re.compile(
    r"(?P<cutoff>截至|截止|截止到|截至到)?\s*(?:(?P<year>[0-9]{4})年)?(?P<month>[0-9]{1,2})月(?P<day>[0-9]{1,2})[日号]?"
    r"(?P<hour>\s*[0-9]{1,2}\s*[时点])?"
)
_DAYS_BACK = {"前天": 2, "昨天": 1, "昨日": 1, "今天": 0, "今日": 0}
_WITHIN_DAYS = 7


def report_day(head: str, today: dt.date | None) -> ReportDay | None:
    """The day named before the figures: 昨天, 2月16日日报; a cut-off time (截至2月9日18时) names none."""
    if today is None or not ("月" in head or "昨" in head or "前天" in head):
        return None  # no day named (今天 names today)
    named = _NAMED_DAY.search(head)
    if named is not None:
        year = int(named["year"]) if named["year"] else today.year
        try:
            day = dt.date(year, int(named["month"]), int(named["day"]))
        except ValueError:
            return None
        if not named["year"] and day > today:
            day = day.replace(year=year - 1)  # 12月30日 written in January
        cut_off = bool(named["cutoff"] or named["hour"])  # 截至2月9日18时: a time, not the report's day
        taken = not cut_off and 0 < (today - day).days <= _WITHIN_DAYS
    elif (relative := _RELATIVE_DAY.search(head)) is not None:
        day = today - dt.timedelta(days=_DAYS_BACK[relative[1]])
        taken = day != today
    else:
        return None
    if day == today:
        return None
    if taken:
        return ReportDay(day, None)
    return ReportDay(None, Problem("date", texts.date_not_taken(day.isoformat())))


def read_report(found: Triggered) -> ReportFigures | None:
    """日报 …: the figures of the whole message (a village named before them reports)."""
    return _read(found, correction=False)


def read_correction(found: Triggered) -> ReportFigures | None:
    """更正 …: only the figures named change; nothing is missing."""
    return _read(found, correction=True)


def read_untriggered(found: Triggered) -> ReportFigures | None:
    """A head's figures without 日报: at least two fields with values (one, when the village's
    report is open and awaits the rest), and not a plan."""
    if _RULE_WORDS.search(found.text) or _FORWARDED.search(found.text):
        return None  # 要求各村每天消毒不少于2次, 【转发】…: a rule or a notice, not figures
    extraction = extract_fields(found.text, found.vocab)
    needed = 1 if found.context.awaiting_report else 2
    if len(extraction.values) < needed or is_plan(found.text, extraction):
        return None
    return _report(found, extraction, correction=False)


def _read(found: Triggered, *, correction: bool) -> ReportFigures | None:
    return _report(found, extract_fields(found.text, found.vocab), correction=correction)


def _report(found: Triggered, extraction: Extraction, *, correction: bool) -> ReportFigures | None:
    village = reporting_village(found.text, extraction, found.context, found.vocab)
    head = found.text if extraction.first_keyword_at is None else found.text[: extraction.first_keyword_at]
    return build_report(
        extraction,
        village,
        found.vocab,
        correction=correction,
        zero_report="零报告" in found.trigger,
        day=report_day(head, found.context.today),
    )
