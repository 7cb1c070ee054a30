"""From one message to one ParseResult: which kind it is, then that kind's fields.

Kinds are told apart by a trigger word at the start of the message (日报, 登记, 捐赠, 督查, 通知,
更正); only a village head's figures may count as a report without one. Everything else is chat,
and chat must get silence, so every rule errs towards `none`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .checkpoint import parse_checkpoint
from .daily_report import build_report, extract_fields, is_plan, reporting_village
from .donation import parse_donation
from .inspection import parse_inspection
from .normalize import normalize
from .notice import parse_notice
from .result import MessageContext, ParseResult
from .vocabulary import Vocabulary, alternation

_DATE = r"(?:[0-9]{4}年)?[0-9]{1,2}月[0-9]{1,2}[日号]?|[0-9]{1,2}[./-][0-9]{1,2}(?![0-9])"
_REPORT_WORDS = r"#?(?:疫情日报|每日报告|零报告|日报)|/report(?:@\w+)?"
_CORRECTION_WORDS = r"#?(?:更正|修改|订正)|/fix(?:@\w+)?"
_REGISTRY_WORDS = r"#?(?:返乡登记|登记返乡)|/register(?:@\w+)?"
_CHECKPOINT_WORDS = r"#?登记|/checkin(?:@\w+)?"
_DONATION_WORDS = r"#?(?:捐赠|捐款)|/donate(?:@\w+)?"
_INSPECTION_WORDS = r"#?(?:督查|检查发现)|/inspect(?:@\w+)?"
_LEADING_MENTIONS = re.compile(r"^(?:@\S+\s*)+")


@dataclass(frozen=True)
class _Triggers:
    report: re.Pattern[str]
    # 更正, 返乡登记, 登记, 捐赠, 督查: one pattern, one alternative (a named group) per kind.
    at_start: re.Pattern[str]
    bot_mentions: re.Pattern[str]


class MessageParser:
    """The parser for one town. Built once; `parse` is a pure function of text and context."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        # What may stand before 日报: village names, dates, brackets, "今日", "的".
        prefix = rf"(?:\s|[#(<:]|{alternation(vocab.village_names)}|{_DATE}|今日|今天|的)*?"
        kinds = (
            ("correction", _CORRECTION_WORDS),
            ("registry", _REGISTRY_WORDS),  # before 登记: 登记返乡 is a registration, not a checkpoint
            ("checkpoint", _CHECKPOINT_WORDS),
            ("donation", _DONATION_WORDS),
            ("inspection", _INSPECTION_WORDS),
        )
        self.triggers = _Triggers(
            report=re.compile(rf"^{prefix}(?:{_REPORT_WORDS})[\s:,)]*"),
            at_start=re.compile(r"^\s*(?:" + "|".join(f"(?P<{k}>{w})" for k, w in kinds) + r")\s*[:,]?\s*"),
            bot_mentions=re.compile(rf"@(?:{alternation(vocab.bot_names)})\s*"),
        )

    def parse(self, text: str, ctx: MessageContext) -> ParseResult:
        notice = parse_notice(text, self.vocab)
        if notice is not None:
            return notice
        clean = normalize(text)
        if "@" in clean:
            clean = _LEADING_MENTIONS.sub("", self.triggers.bot_mentions.sub(" ", clean).strip())
        return self._parse_clean(clean, ctx) or ParseResult(kind="none")

    def _parse_clean(self, text: str, ctx: MessageContext) -> ParseResult | None:
        t = self.triggers
        start = t.at_start.match(text)
        kind = start.lastgroup if start else None
        if kind == "correction":
            return self._report(text, ctx, correction=True)
        if t.report.match(text):
            return self._report(text, ctx, correction=False)
        if start is not None:
            body = text[start.end() :]
            if kind == "checkpoint":
                return parse_checkpoint(body, self.vocab)
            if kind == "donation":
                return parse_donation(body)
            if kind == "inspection":
                return parse_inspection(body, self.vocab)
            return None  # people under observation are registered by their own handler, not here
        if ctx.role == "head":
            return self._implicit_report(text, ctx)
        return None

    def _report(self, text: str, ctx: MessageContext, *, correction: bool) -> ParseResult | None:
        extraction = extract_fields(text, self.vocab)
        village = reporting_village(text, extraction, ctx, self.vocab)
        return build_report(extraction, village, self.vocab, correction=correction)

    def _implicit_report(self, text: str, ctx: MessageContext) -> ParseResult | None:
        """A head's figures without 日报: at least two fields with values (one, when the village's
        report is open and awaits the rest), and not a plan."""
        extraction = extract_fields(text, self.vocab)
        needed = 1 if ctx.awaiting_report else 2
        if len(extraction.values) < needed or is_plan(text, extraction):
            return None
        village = reporting_village(text, extraction, ctx, self.vocab)
        return build_report(extraction, village, self.vocab, correction=False)
