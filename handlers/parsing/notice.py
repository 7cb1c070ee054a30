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
_NAME = re.compile(r"[@＠]?([^\s@＠:：,，、;；]+)")
_COMMA = re.compile(r"[ \t]*[,，、;；][ \t]*")
_SPACE = re.compile(r"\s+")
_END = re.compile(r"\s*[:：]|\s+")  # what ends a list of villages: a colon, or a space before the body
_LEAD = re.compile(r"^[\s:：,，]*")

#: @-mentions that address everyone in the group, not a village: kept out of the targets.
EVERYONE = frozenset({"所有人", "全体成员", "全体", "大家", "all", "everyone"})
#: How this country's village names end, so that a name the town does not have is still seen as one
#: and refused ("五星村,石头村 …"), instead of going to every village as the notice's first words.
PLACE_ENDINGS = ("村", "社区", "居委会", "村委会", "嘎查", "屯")
#: Words that name villages in general ("各村、各社区：…" is how a notice addresses everyone).
GENERAL_PLACES = ("各", "全", "所有", "本", "每", "该", "邻", "外")


def parse_notice(original: str, vocab: Vocabulary) -> ParseResult | None:
    """A notice when the original text starts with 通知/公告//broadcast and has a body."""
    trigger = _TRIGGER.match(original)
    if trigger is None:
        return None
    command = "broadcast" in trigger[0]
    targets, rest = _targets(original[trigger.end() :], vocab, command)
    body = _LEAD.sub("", rest, count=1).rstrip()
    if not body:
        return None
    fields: dict[str, Any] = {"body": body}
    if targets:
        known = [vocab.village_names.get(to_simplified(t)) for t in targets]
        fields["villages"] = list(dict.fromkeys(k for k in known if k))
        unknown = [t for t, k in zip(targets, known, strict=True) if k is None]
        if unknown:
            fields["unknown_villages"] = unknown
    return ParseResult(kind="notice", fields=fields)


def _targets(rest: str, vocab: Vocabulary, command: bool) -> tuple[list[str], str]:
    """The villages a notice names before its body, and the body's text.

    Named as `@五星村@王岘村：…`, `@五星村 @王岘村 …`, `@五星村，王岘村：…` (after an @ every name
    is a target), or as a list: `五星村,王岘村 …`, `五星村、王岘村：…`, `五星村 王岘村 …`. A list is
    taken as targets when every name in it is a village or reads like one; then a name the town
    does not have is refused rather than the whole text sent everywhere. One name that the town
    does not have is taken as a target only before a colon (通知 石头村：…) or after /broadcast,
    whose form is `/broadcast 村名 …`: after 通知 and a space it is more likely the body's first
    word. Anything else is all body."""
    if rest[:1] in ("：", ":"):
        return [], rest  # 通知：… the body starts at the colon
    names: list[str] = []
    mentioned = False
    at = len(rest) - len(rest.lstrip())
    while (name := _NAME.match(rest, at)) is not None:
        mentioned = mentioned or name[0][0] in "@＠"
        names.append(name[1])
        at = name.end()
        if rest[at : at + 1] in ("@", "＠"):  # @五星村@王岘村
            continue
        if comma := _COMMA.match(rest, at):  # 五星村，王岘村
            at = comma.end()
            continue
        # 五星村 王岘村 … or @五星村 @王岘村 …: the list goes on past a space only with a village or a mention
        space = _SPACE.match(rest, at)
        following = _NAME.match(rest, space.end()) if space else None
        if space and following and (following[0][0] in "@＠" or to_simplified(following[1]) in vocab.village_names):
            at = space.end()
            continue
        break
    end = _END.match(rest, at)
    if not names or end is None:
        return [], rest
    if mentioned:
        targets = [n for n in names if n not in EVERYONE and to_simplified(n) not in vocab.bot_names]
    elif all(_names_a_village(n, vocab, alone=len(names) == 1 and not command and not end[0].strip()) for n in names):
        targets = names
    else:
        return [], rest
    return targets, rest[end.end() :]


def _names_a_village(name: str, vocab: Vocabulary, *, alone: bool) -> bool:
    if to_simplified(name) in vocab.village_names:
        return True
    if alone:
        return False
    return name.endswith(PLACE_ENDINGS) and not name.startswith(GENERAL_PLACES) and len(name) <= 10
