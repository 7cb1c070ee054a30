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
_PLACE_ENDING = re.compile("|".join(PLACE_ENDINGS))
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
        mention = name[0][0] in "@＠"
        mentioned = mentioned or mention
        whole = bool(_END.match(rest, name.end()) or _COMMA.match(rest, name.end()))
        village = _leading_village(name[1], vocab, whole=whole) if mention else None
        if village is not None and len(village) < len(name[1]):
            names.append(village)  # @五星村今晚开会: the mention ends where the village's name ends
            at = name.start(1) + len(village)
            break
        names.append(name[1])
        at = name.end()
        if rest[at : at + 1] in ("@", "＠"):  # @五星村@王岘村
            continue
        # 五星村，王岘村 … or 五星村 王岘村 … or @五星村 @王岘村 …: the list goes on past a comma or a
        # space only with another mention, village or village-like name; otherwise the body begins
        separator = _COMMA.match(rest, at) or _SPACE.match(rest, at)
        following = _NAME.match(rest, separator.end()) if separator else None
        if separator and following and _goes_on(rest, following, vocab, after_comma=bool(separator[0].strip())):
            at = separator.end()
            continue
        break
    # After an @ or /broadcast a comma may end the list too (通知@五星村，今晚开会); after a plain 通知
    # it may not: in `通知 五星村、红星村明天开会` the names are the body's.
    end = _END.match(rest, at) or (_COMMA.match(rest, at) if mentioned or command else None)
    if not names or (end is None and not mentioned):
        return [], rest
    body_at = end.end() if end is not None else at
    if mentioned:  # an @ always names targets: never everyone by mistake
        targets = [n for n in names if n not in EVERYONE and to_simplified(n) not in vocab.bot_names]
    elif end is not None and all(
        _names_a_village(n, vocab, alone=len(names) == 1 and not command and not end[0].strip()) for n in names
    ):
        targets = names
    else:
        return [], rest
    return targets, rest[body_at:]


def _goes_on(rest: str, following: re.Match[str], vocab: Vocabulary, *, after_comma: bool) -> bool:
    """Whether the name after a separator is one more target, not the body's first word."""
    if following[0][0] in "@＠" or to_simplified(following[1]) in vocab.village_names:
        return True
    # After a comma, a name that reads like a village's and is followed by more of the list or the
    # body (石头村 in `五星村,石头村 …`) is one more target, to be refused if the town has no such village.
    ends_a_word = _COMMA.match(rest, following.end()) or _END.match(rest, following.end())
    return after_comma and bool(ends_a_word) and _names_a_village(following[1], vocab, alone=False)


def _leading_village(word: str, vocab: Vocabulary, *, whole: bool) -> str | None:
    """The longest village name (or alias) that `word` begins with, as written in `word`; failing
    that, when nothing separates the word from the body (`whole` is false), its beginning up to a
    village-like ending (@石头村今晚开会: 石头村, to be refused)."""
    simplified = to_simplified(word)
    found = max((n for n in vocab.village_names if simplified.startswith(n)), key=len, default=None)
    if found:
        return word[: len(found)]
    ending = None if whole else _PLACE_ENDING.search(word[:10])
    return word[: ending.end()] if ending and not word.startswith(GENERAL_PLACES) else None


def _names_a_village(name: str, vocab: Vocabulary, *, alone: bool) -> bool:
    if to_simplified(name) in vocab.village_names:
        return True
    if alone:
        return False
    return name.endswith(PLACE_ENDINGS) and not name.startswith(GENERAL_PLACES) and len(name) <= 10
