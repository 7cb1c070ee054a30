"""Chinese ID numbers and mobile numbers: checking them, and masking them wherever they are shown.

The rule is that a whole ID or phone number never appears in a chat, a log line, an error or a
default export. `mask_text` is the last line of defence, applied to every log record as well.
"""

from __future__ import annotations

import logging
import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_DIGITS = "10X98765432"
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{16}[0-9Xx])(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9]{9})(?![0-9])")


def id_check_digit(first17: str) -> str:
    """GB 11643 (ISO 7064 MOD 11-2) check digit of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _CHECK_DIGITS[total % 11]


def id_number_problem(value: str) -> str | None:
    """Why an ID number is not valid, or None when it is."""
    value = value.upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        return "身份证号应为18位（最后一位可以是X）"
    expected = id_check_digit(value[:17])
    if value[17] != expected:
        return f"身份证号校验位不对（最后一位应为{expected}），请核对"
    return None


def phone_problem(value: str) -> str | None:
    if not re.fullmatch(r"1[3-9][0-9]{9}", value):
        return "手机号应为11位、以13–19开头"
    return None


def mask_id(value: str) -> str:
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) == 11 else "*" * len(value)


def mask_name(value: str) -> str:
    return value[:1] + "*" * max(1, len(value) - 1) if value else value


def mask_text(text: str) -> str:
    """Any ID or mobile number inside free text, masked."""
    text = ID_NUMBER.sub(lambda m: mask_id(m[1]), text)
    return MOBILE.sub(lambda m: mask_phone(m[1]), text)


#: What may carry a whole mobile number: a notice (a town's hotline is the common reason). An ID
#: number is never sent; a notice that holds one is refused before anything is queued.
PHONES_SHOWN_IN = frozenset({"notice"})


def shown(text: str, purpose: str) -> str:
    """What an outgoing message may show: ID numbers always masked, mobile numbers outside notices."""
    text = ID_NUMBER.sub(lambda m: mask_id(m[1]), text)
    return text if purpose in PHONES_SHOWN_IN else MOBILE.sub(lambda m: mask_phone(m[1]), text)


def has_id_number(text: str) -> bool:
    return ID_NUMBER.search(text) is not None


class MaskingFilter(logging.Filter):
    """Masks ID and phone numbers in every record that passes, whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Put the masking filter on every handler of the root logger (or `logger`)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
