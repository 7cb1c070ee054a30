"""From one message to one ParseResult: which kind it is, then that kind's payload.

Kinds are told apart by a trigger at the start of the message (日报, 登记, 捐赠, 督查, 通知, 更正);
only a village head's figures may count as a report without one. Everything else is chat, and chat
must get silence, so every rule errs towards `none`. Which kinds there are, and their triggers,
comes from the specs the parser is built with (the registry's, handlers/registry.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .kinds import LEADING_MENTIONS, ParseSpec, Placement, Triggered
from .normalize import normalize
from .result import NOTHING, MessageContext, ParseResult, Payload
from .vocabulary import Vocabulary, alternation

#: How much of one message is read. The rest of a longer message is not read as figures: no report
#: is that long, and reading stays fast whatever is pasted into a group (README: Commands in the groups).
MAX_PARSED_CHARS = 4000
# A WeChat quote reply: 「the quoted text」, a line of dashes, then the reply.
_QUOTE_RULE = re.compile(r"\n[ \t]*(?:[-－—─‐–][ \t]*){3,}(?:\n|$)")
# A trigger glued into a longer word is no trigger: 督查组, 登记本, 捐款在哪里.
_GLUED = frozenset("组本表处员的了过吗呢么在时期站室证册簿点")
_DATE = r"(?:[0-9]{4}年)?[0-9]{1,2}月[0-9]{1,2}[日号]?|[0-9]{1,2}[./-][0-9]{1,2}(?![0-9])"


@dataclass(frozen=True)
class _Compiled:
    spec: ParseSpec[Any]
    pattern: re.Pattern[str]


class MessageParser:
    """The parser for one town. Built once; `parse` is a pure function of text and context."""

    def __init__(self, vocab: Vocabulary, specs: Sequence[ParseSpec[Any]]) -> None:
        self.vocab = vocab
        self.specs = tuple(specs)
        # What may stand before 日报: village names, dates, brackets, "今日", "的".
        heading = rf"(?:\s|[#(<:]|{alternation(vocab.village_names)}|{_DATE}|今日|今天|的)*?"
        self._original = [
            _Compiled(s, re.compile(rf"^(?:{s.trigger.regex()})")) for s in specs if s.placement is Placement.ORIGINAL
        ]
        self._after_heading = [
            _Compiled(s, re.compile(rf"^{heading}(?:{s.trigger.regex()})[\s:,)]*"))
            for s in specs
            if s.placement is Placement.AFTER_HEADING
        ]
        # Every kind that starts the message: one pattern, one alternative (a named group) per kind,
        # in the specs' order (登记返乡, a registration, before 登记, a checkpoint's).
        self._at_start = [s for s in specs if s.placement is Placement.AT_START]
        alternatives = "|".join(f"(?P<k{i}>{s.trigger.regex()})" for i, s in enumerate(self._at_start))
        self._at_start_re = re.compile(rf"^\s*(?:{alternatives})\s*[:,]?\s*")
        self._untriggered = [(s.kind, s.untriggered) for s in specs if s.untriggered is not None]
        self._bot_mentions = re.compile(rf"@(?:{alternation(vocab.bot_names)})\s*")

    def parse(self, text: str, ctx: MessageContext) -> ParseResult[Any]:
        """The message's kind and payload, reading at most MAX_PARSED_CHARS of it."""
        return self.parse_uncapped(text[:MAX_PARSED_CHARS], ctx)

    def parse_uncapped(self, text: str, ctx: MessageContext) -> ParseResult[Any]:
        """`parse` without the cap, whose cost grows with the text (bench/parse.py measures it)."""
        text = own_words(text)
        for compiled in self._original:
            found = compiled.pattern.match(text)
            if found is not None:
                result = self._read(compiled.spec, text, found, ctx)
                if result is not None:
                    return result
        clean = normalize(text)
        if "@" in clean:
            clean = LEADING_MENTIONS.sub("", self._bot_mentions.sub(" ", clean).strip())
        return self._parse_clean(clean, ctx) or NOTHING

    def _parse_clean(self, text: str, ctx: MessageContext) -> ParseResult[Any] | None:
        start = self._at_start_re.match(text)
        if start is not None and start.lastgroup is not None:
            if _glued(text, start):
                return None
            return self._read(self._at_start[int(start.lastgroup[1:])], text, start, ctx)
        for compiled in self._after_heading:
            found = compiled.pattern.match(text)
            if found is not None:
                return self._read(compiled.spec, text, found, ctx)
        if ctx.role == "head":
            whole = Triggered(text, "", text, ctx, self.vocab)
            for kind, read in self._untriggered:
                payload = read(whole)
                if payload is not None:
                    return ParseResult(kind, payload)
        return None

    def _read(
        self, spec: ParseSpec[Any], text: str, found: re.Match[str], ctx: MessageContext
    ) -> ParseResult[Any] | None:
        payload: Payload | None = spec.read(Triggered(text, found[0], text[found.end() :], ctx, self.vocab))
        return None if payload is None else ParseResult(spec.kind, payload)


def own_words(text: str) -> str:
    """The sender's own lines: in a quote reply, only what follows the line of dashes."""
    if text.lstrip().startswith("「"):
        rule = _QUOTE_RULE.search(text)
        if rule is not None:
            return text[rule.end() :]
    return text


def _glued(text: str, start: re.Match[str]) -> bool:
    """督查组下午到五星村, 登记本用完了: the trigger word runs on into a longer word."""
    trigger_end = start.end(start.lastgroup or 0)
    return start.end() == trigger_end and text[trigger_end : trigger_end + 1] in _GLUED
