"""A notice (通知) to broadcast. The body is kept exactly as the sender wrote it.

The trigger is found in the original text, not the normalised one, because the body must keep
the sender's punctuation and characters: a town leader's notice is forwarded, not rewritten.
"""

from __future__ import annotations

import re
from typing import Any

from .normalize import to_simplified
from .result import ParseResult
from .vocabulary import Vocabulary

_TRIGGER = re.compile(
    r"^\s*(?:[@＠]\S+\s+)*[【\[［]?\s*(?:通知|公告|/broadcast(?:@\w+)?)\s*[】\]］]?"
    r"(?!书|書|单|單|栏|欄|牌|到|了|过|過)"  # 通知书, 公告栏, 通知到了 (or 通知書…): words, not a notice
)
_TARGET = re.compile(r"^\s*[@＠]([^\s@＠:：,，、]+)")
_LIST_TARGET = re.compile(r"^\s*([^\s:：]+(?:[,，、][^\s:：]+)+|[^\s:：]+)\s")
_LEAD = re.compile(r"^[\s:：,，]*")


def parse_notice(original: str, vocab: Vocabulary) -> ParseResult | None:
    """A notice when the original text starts with 通知/公告//broadcast and has a body."""
    trigger = _TRIGGER.match(original)
    if trigger is None:
        return None
    rest = original[trigger.end() :]
    targets: list[str] = []
    while (target := _TARGET.match(rest)) is not None:
        targets.append(target[1])
        rest = rest[target.end() :]
    if not targets and (listed := _LIST_TARGET.match(rest)):
        names = re.split(r"[,，、]", listed[1])
        if all(to_simplified(n) in vocab.village_names for n in names):
            targets, rest = names, rest[listed.end() :]
    body = _LEAD.sub("", rest, count=1).rstrip()
    if not body:
        return None
    fields: dict[str, Any] = {"body": body}
    if targets:
        known = [vocab.village_names.get(to_simplified(t)) for t in targets]
        fields["villages"] = [k for k in known if k]
        unknown = [t for t, k in zip(targets, known, strict=True) if k is None]
        if unknown:
            fields["unknown_villages"] = unknown
    return ParseResult(kind="notice", fields=fields)
