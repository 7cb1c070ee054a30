"""A notice (通知) to broadcast. The body is kept exactly as the sender wrote it.

The trigger is found in the original text, not the normalised one, because the body must keep
the sender's punctuation and characters: a town leader's notice is forwarded, not rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .kinds import Triggered
from .normalize import to_simplified
from .result import plain_json
from .vocabulary import Vocabulary

#: 通知, 公告, 紧急通知 or /broadcast, in the text as written: after @mentions, inside 【】 brackets.
TRIGGER = (
    r"\s*(?:[@＠]\S+\s+)*[【\[［]?\s*(?:(?:紧急|緊急|重要|最新|特别|特別)?(?:通知|公告)|/broadcast(?:@\w+)?)\s*[】\]］]?"
    r"(?!书|書|单|單|栏|欄|牌|到|了|过|過)"  # 通知书, 公告栏, 通知到了 (or 通知書…): words, not a notice
)
_NAME = re.compile(r"[@＠]?([^\s@＠:：,，、;；]+)")
_COMMA = re.compile(r"[ \t]*[,，、;；][ \t]*")
_SPACE = re.compile(r"\s+")
_END = re.compile(r"\s*[:：]|\s+")  # what ends a list of villages: a colon, or a space before the body
_LEAD = re.compile(r"^[\s:：,，!！.。—-]*")
_BRACKETED = re.compile(r"[(（][^)）]{0,8}[)）]")  # 各村（社区）
_MENTION = re.compile(r"[@＠](\S+)")

#: @-mentions that address everyone in the group, not a village: kept out of the targets. So is
#: any mention that begins with 各 or 全 (@各村支书, @全镇各村, @各卡点).
EVERYONE = ("所有人", "全体成员", "大家", "各位", "镇村干部", "all", "everyone")
_EVERYONE_START = ("各", "全")
#: How this country's village names end, so that a name the town does not have is still seen as one
#: and refused ("五星村,石头村 …"), instead of going to every village as the notice's first words.
PLACE_ENDINGS = ("村", "社区", "居委会", "村委会", "嘎查", "屯")
#: Words that name villages in general ("各村、各社区：…" is how a notice addresses everyone).
GENERAL_PLACES = ("各", "全", "所有", "本", "每", "该", "邻", "外")
#: Who in a village a notice may address after its name (五星村村民：…, @五星村两委): still that village.
ADDRESSEES = (
    "村民", "村民们", "各位村民", "全体村民", "居民", "群众", "干部", "村干部", "两委", "村两委", "两委班子",
    "村委", "委", "委会", "村委会", "居委会", "党员", "全体党员", "支部", "党支部", "书记", "支书", "村长", "主任",
    "网格员", "组长", "各户", "各组",
)  # fmt: skip
#: What may join a WeChat nickname to a village's name (@五星村-张三): the mention is that village's.
_NICKNAME_JOINS = ("-", "_", "—", "·", "(", "（")
#: Titles that, after up to three characters of a name (王书记, 各组长), may follow a village's name
#: in a salutation (五星村王书记：): still that village.
TITLES = ("书记", "支书", "组长", "村长", "主任", "干部", "网格员", "会计", "委员", "队长", "同志")
_TITLED = re.compile(rf".{{0,3}}(?:{'|'.join(TITLES)})")
_SALUTATION = re.compile(r"([^:：\n]{1,40}?)\s*[:：]")
_LIST_SEPARATOR = re.compile(r"[\s,，、;；]+|和|及|与|與|/|／")
#: Words that join two villages in a list (五星村和红星村：…), only ever between two of the town's.
_AND = re.compile("和|及|与|與|/|／")


@dataclass(frozen=True)
class NoticeRequest:
    """A notice to broadcast: its body as written, and the villages it names, if it names any."""

    body: str
    villages: tuple[str, ...] | None  # None: every village
    unknown_villages: tuple[str, ...] = ()  # named, but not the town's: the notice is refused

    def to_json(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"body": self.body}
        if self.villages is not None:
            fields["villages"] = list(self.villages)
        if self.unknown_villages:
            fields["unknown_villages"] = list(self.unknown_villages)
        return plain_json(fields)


def read_notice(found: Triggered) -> NoticeRequest | None:
    """A notice when the original text starts with 通知/公告//broadcast and has a body (or names a
    village the town does not have, to be refused)."""
    vocab = found.vocab
    command = "broadcast" in found.trigger
    targets, rest = _targets(found.body, vocab, command)
    # @五星村 通知：… names its village before the trigger (other mentions there are the bot or people)
    leading = [n for n in _MENTION.findall(found.trigger) if _village_in(n, vocab, run_on=False)[0] is not None]
    targets = leading + targets
    body = _LEAD.sub("", rest, count=1).rstrip()
    if not targets:
        return NoticeRequest(body, None) if body else None
    known = [_village_of(t, vocab) for t in targets]
    unknown = tuple(t for t, k in zip(targets, known, strict=True) if k is None)
    if not body and not unknown:
        return None
    return NoticeRequest(body, tuple(dict.fromkeys(k for k in known if k)), unknown)


def _targets(rest: str, vocab: Vocabulary, command: bool) -> tuple[list[str], str]:
    """The villages a notice names before its body, and the body's text.

    Named as `@五星村@王岘村：…`, `@五星村 @王岘村 …`, `@五星村，王岘村：…`, `@五星村今晚…`, or
    `@五星村、王岘村今晚…` (after an @ every name is a target, and a village's name may run into
    the body), or as a list: `五星村,王岘村 …`, `五星村、王岘村：…`, `五星村 王岘村 …`, `五星村村民：…`.
    A list is taken as targets when every name in it is a village or reads like one; then a name
    the town does not have is refused rather than the whole text sent everywhere. One name that
    the town does not have is taken as a target only before a colon (通知 石头村：…) or after
    /broadcast, whose form is `/broadcast 村名 …`: after 通知 and a space it is more likely the
    body's first word. @所有人 (or the bot) names no village, and what follows it is the body
    unless it is another @. Anything else is all body."""
    at = len(rest) - len(rest.lstrip())
    if rest[at : at + 1] in ("：", ":"):
        after = _skip_space(rest, at + 1)
        if rest[after : after + 1] not in ("@", "＠"):
            # 通知：… the body starts at the colon, unless an @ follows (通知：@五星村 …) or it begins
            # by addressing villages (通知：五星村、红星村：…)
            return _salutation(rest, after, vocab) or ([], rest)
        at = after
    names: list[str] = []
    mentioned = False  # an @ named a village (or tried to)
    everyone = False  # the last name was @所有人 or the bot: only another @ goes on from it
    after_comma = listed = False
    glued = False  # the last name ran into the body: 通知@五星村今晚开会
    while (name := _NAME.match(rest, at)) is not None:
        mention = name[0][0] in "@＠"
        whole = bool(_END.match(rest, name.end()) or _COMMA.match(rest, name.end()))
        addressed = _everyone_in(name[1], vocab, whole=whole) if mention else None
        if addressed is None and mention and whole and _is_a_person(name[1], vocab):
            addressed = name[1]  # @张三: a person told to read it, not a village to send it to
        everyone = addressed is not None
        if addressed is not None:
            at = name.start(1) + len(addressed)
            if len(addressed) < len(name[1]):
                glued = True
                break
        elif (joined := _joined_villages(name[1], vocab)) is not None:
            names += joined  # 五星村和红星村
            at = name.end()
        else:
            mentioned = mentioned or mention
            # A village's full name may run into the body after an @ or inside a list (、 or ,), not
            # after a clause's comma: in 通知@五星村，红星村村民张某… 红星村 is the body's.
            run_on = mention or (after_comma and (mentioned or command) and listed)
            village, length = _village_in(name[1], vocab, run_on=run_on, whole=whole or not mention)
            if village is not None and length < len(name[1]):
                names.append(village)
                at = name.start(1) + length
                glued = True
                break
            names.append(name[1])
            at = name.end()
        if rest[at : at + 1] in ("@", "＠"):  # @五星村@王岘村
            after_comma = listed = False
            continue
        # 五星村，王岘村 … or 五星村 王岘村 … or @五星村 @王岘村 …: the list goes on past a comma or a
        # space only with another mention, village or village-like name; otherwise the body begins
        separator = _COMMA.match(rest, at) or _SPACE.match(rest, at)
        following = _NAME.match(rest, separator.end()) if separator else None
        after_comma = bool(separator and separator[0].strip())
        listed = bool(separator and separator[0].strip() in ("、", ","))
        if (
            separator
            and following
            and _goes_on(rest, following, vocab, after_comma, listed and (mentioned or command), everyone)
        ):
            at = separator.end()
            continue
        break
    listing = mentioned or command or everyone
    # After an @ or /broadcast a comma may end the list too (通知@五星村，今晚开会); after a plain 通知
    # it may not: in `通知 五星村、红星村明天开会` the names are the body's.
    end = None if glued else _END.match(rest, at) or (_COMMA.match(rest, at) if listing else None)
    body_at = end.end() if end is not None else at
    if mentioned:  # an @ naming a village always names targets: never everyone by mistake
        return names, rest[body_at:]
    if not names:
        return ([], rest[body_at:]) if everyone or glued else ([], rest)
    before_colon = end is not None and bool(end[0].strip())
    single = len(names) == 1 and not command and not before_colon
    if (end is not None or glued) and all(
        _names_a_village(n, vocab, alone=single, addressed=before_colon or command or len(names) > 1) for n in names
    ):
        return names, rest[body_at:]
    return [], rest


def _salutation(rest: str, at: int, vocab: Vocabulary) -> tuple[list[str], str] | None:
    """通知：五星村、红星村：… — villages addressed right after the trigger's colon, up to a second
    colon: the targets and the body, or None when what comes before that colon is not all villages
    (通知：各村：…, 通知：明天9点：…)."""
    salutation = _SALUTATION.match(rest, at)
    if salutation is None:
        return None
    names = [n for n in _LIST_SEPARATOR.split(salutation[1].strip()) if n]
    if names and all(_names_a_village(n, vocab, alone=False, addressed=True) for n in names):
        return names, rest[salutation.end() :]
    return None


def _is_a_person(name: str, vocab: Vocabulary) -> bool:
    """An @-mention that names no village and reads like no village's name: a person's."""
    return _village_of(name, vocab) is None and not _looks_like_a_village(name) and not _joined_villages(name, vocab)


def _skip_space(text: str, at: int) -> int:
    return at + len(text[at:]) - len(text[at:].lstrip())


def _goes_on(
    rest: str, following: re.Match[str], vocab: Vocabulary, after_comma: bool, listing: bool, everyone: bool
) -> bool:
    """Whether the name after a separator is one more target, not the body's first word."""
    if following[0][0] in "@＠":
        return True
    if everyone:
        return False  # @所有人 五星村发现…: the body
    whole = bool(_END.match(rest, following.end()) or _COMMA.match(rest, following.end()))
    if _village_in(following[1], vocab, run_on=listing, whole=True)[0] is not None:
        return True
    if whole and _village_of(following[1], vocab) is not None:
        return True  # 五星村王书记、红星村各组长：
    # After a comma, a name that reads like a village's and is followed by more of the list or the
    # body (石头村 in `五星村,石头村 …`) is one more target, to be refused if the town has no such village.
    return (
        after_comma and whole and (_looks_like_a_village(following[1]) or bool(_joined_villages(following[1], vocab)))
    )


def _village_in(word: str, vocab: Vocabulary, *, run_on: bool, whole: bool = True) -> tuple[str | None, int]:
    """The village `word` names, as written in it, and how much of the word that takes: all of it
    for a village's name or alias, or one followed by whom it addresses (五星村村民). Where a name
    may run into the body (`run_on`: after an @, or after a comma in a list that has one or follows
    /broadcast), also a village's full name at the word's start (五星村今晚开会, 红星村村干部今晚…)
    and, if nothing separates the word from the body (not `whole`), a village-like name there
    (石头村今晚开会, to be refused). An alias is too short to be found at a word's start: 王岘镇各村
    is not 王岘村."""
    simplified = to_simplified(word)
    if simplified in vocab.village_names:
        return word, len(word)
    found = max((n for n in vocab.village_names if simplified.startswith(n)), key=len, default=None)
    if found is not None and (
        simplified[len(found) :] in ADDRESSEES or simplified[len(found) :].startswith(_NICKNAME_JOINS)
    ):
        return word[: len(found)], len(word)
    if not run_on:
        return None, 0
    if found is not None and vocab.village_names[found] == found:  # a full name, not an alias
        after = simplified[len(found) :]
        addressed = max((a for a in ADDRESSEES if after.startswith(a)), key=len, default="")
        return word[: len(found)], len(found) + len(addressed)
    if not whole:
        for length in range(2, min(len(word), 8) + 1):
            if _looks_like_a_village(word[:length]):
                return word[:length], length
    return None, 0


def _everyone_in(word: str, vocab: Vocabulary, *, whole: bool) -> str | None:
    """The mention of everyone (or of the bot) that `word` is, as much of it as that takes: all of
    @所有人, @全体村干部 or @各村（社区）, or, when the word runs into the body (not `whole`), 所有人 in
    @所有人今晚开会. Never a longer name that merely begins like one (@allan is not @all)."""
    simplified = to_simplified(word).lower()
    if whole and simplified.startswith(_EVERYONE_START):
        return word
    for mention in (*EVERYONE, *(b.lower() for b in vocab.bot_names), *_EVERYONE_START):
        rest = simplified[len(mention) :] if simplified.startswith(mention) else None
        if rest is None:
            continue
        if rest == "" or rest in ADDRESSEES:
            return word
        if not whole and not mention.isascii():
            if mention in _EVERYONE_START:  # 各村今晚开会: the general word is the name's first two
                mention = simplified[:2]
            bracket = _BRACKETED.match(word, len(mention))
            return word[: bracket.end() if bracket else len(mention)]
    return None


def _joined_villages(word: str, vocab: Vocabulary) -> list[str] | None:
    """五星村和红星村 as its villages, when every part is one of the town's."""
    parts = _AND.split(word)
    if len(parts) > 1 and all(to_simplified(p) in vocab.village_names for p in parts):
        return parts
    return None


def _looks_like_a_village(name: str) -> bool:
    """A name this town does not have that is still a village's (石头村, 李家社区), not words about
    villages in general (各村, 请各村, 全镇村民) or a village's parts."""
    return (
        2 <= len(name) <= 8
        and name.endswith(PLACE_ENDINGS)
        and not any(word in name for word in ("各", "全", "所有"))
        and not name.startswith(GENERAL_PLACES)
    )


def _names_a_village(name: str, vocab: Vocabulary, *, alone: bool, addressed: bool = True) -> bool:
    """Whether a name in a plain list is a target: one of the town's villages (or, where `addressed`,
    one followed by whom it addresses: 五星村村民：, 五星村王书记：), or, in a longer list, one that
    reads like a village's (to be refused). 红星村村民 alone before a space is the body's words."""
    if to_simplified(name) in vocab.village_names:
        return True
    if addressed and _village_of(name, vocab) is not None:
        return True
    return not alone and _looks_like_a_village(name)


def _village_of(name: str, vocab: Vocabulary) -> str | None:
    """The town's village a target names: its name or alias, or its full name followed by whom it
    addresses (五星村村民, 五星村-张三) or by someone's title (五星村王书记, 红星村各组长); anything
    else after the name (五星村发现病例) makes it a sentence about the village, not a target."""
    simplified = to_simplified(name)
    if simplified in vocab.village_names:
        return vocab.village_names[simplified]
    found = max((n for n in vocab.village_names if simplified.startswith(n)), key=len, default=None)
    if found is None:
        return None
    after = simplified[len(found) :]
    if after in ADDRESSEES or after.startswith(_NICKNAME_JOINS):
        return vocab.village_names[found]
    if vocab.village_names[found] == found and _TITLED.fullmatch(after):
        return found
    return None
