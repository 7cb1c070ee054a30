"""Text normalisation: what people type, read the way the parser's rules are written.

Everything downstream is written against simplified characters, ASCII digits and punctuation,
and without decoration, so each rule is written once instead of once per spelling.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import Any

import opencc

# Chinese numeral characters, simplified and financial (traditional forms are simplified first).
CN_DIGITS = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
# A number as people write it: 120, 36.5, 1.2万, 一百零五, 伍佰.
NUMBER = rf"(?:[0-9]+(?:\.[0-9]+)?(?:\s*万)?|[{CN_DIGITS}]+)"
CLAUSE_BREAK = ",;。!?\n"

# Decoration and runs of blanks, both read as one space (one pass: this runs on every message).
_DECORATION_OR_BLANKS = re.compile(
    "(?:["
    "\U0001f000-\U0001faff"  # emoji and pictographs
    "\u2600-\u27bf"  # dingbats, arrows, check marks
    "\u2b00-\u2bff"
    "\ufe0f\u200b-\u200d\u2060"
    "•●○◆◇■□★☆▶►◀➤※"
    "【】〔〕［］〖〗「」『』"
    " \t\u3000"
    "])+"
)
# 1,200 / 1，200: a comma followed by exactly three digits separates thousands.
_THOUSANDS = re.compile(r"(?<![0-9.,])([0-9]{1,3})((?:,[0-9]{3})+)(?![0-9])")
# A trailing signature such as "—— 五星村 王主任".
_SIGNATURE = re.compile(r"\s*(?:——|—|--+)\s*[^\n—-]{0,24}$")


@cache
def _converter() -> Any:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    result: str = _converter().convert(text)
    return result


def normalize(text: str) -> str:
    """Full-width → ASCII, traditional → simplified, decoration and signatures → gone."""
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    text = _DECORATION_OR_BLANKS.sub(" ", text)
    if "," in text:
        text = _THOUSANDS.sub(lambda m: m[1] + m[2].replace(",", ""), text)
    if "—" in text or "--" in text:
        text = _SIGNATURE.sub("", text)
    return text.strip()


@cache
def _cn2an() -> Any:
    """cn2an, imported on first use: importing it costs more than the parser's whole start-up."""
    import cn2an

    return cn2an.cn2an


@lru_cache(maxsize=4096)
def to_number(token: str) -> int | float | None:
    """The value of one number token, or None when it is not a number after all (一 in 统一)."""
    token = token.replace(" ", "")
    if not token:
        return None
    try:
        if token[0].isascii():
            if token.endswith("万"):
                value: int | float = float(token[:-1]) * 10000
            elif "." in token:
                value = float(token)
            else:
                return int(token)
        else:
            value = _cn2an()(token, "smart")
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
