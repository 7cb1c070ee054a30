"""返乡登记: one person back from outside, the fields in whatever order the head typed them.

"返乡登记 张三 13912345678 62040219900101123X 武汉 2月10日返回". Numbers are told apart by their
shape (18 characters with a check digit, 11 digits from 13–19), the date by its form, and of the
words the first place-like one is where the person came from, the first other one the name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..personal_info import id_number_problem, phone_problem
from .vocabulary import Vocabulary

_LEAD = re.compile(r"^\s*[:,]?\s*")
_SEPARATORS = re.compile(r"[\s,;、]+")
_DATE = re.compile(
    r"^(?:(?P<year>[0-9]{4})[-/.年])?(?P<month>[0-9]{1,2})[-/.月](?P<day>[0-9]{1,2})[日号]?(?:返回|回来|返乡|到家|回)?$"
)
_RELATIVE = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
_RELATIVE_DATE = re.compile(r"^(今天|今日|昨天|昨日|前天)(?:返回|回来|返乡|到家|回)?$")
_PLACE_END = re.compile(r"(?:省|市|县|区|州|镇|乡|村|旗)$")
_PROVINCES = frozenset(
    """
    北京 天津 上海 重庆 河北 河南 云南 辽宁 黑龙江 湖南 安徽 山东 新疆 江苏 浙江 江西 湖北 广西 甘肃 山西 内蒙古
    陕西 吉林 福建 贵州 广东 青海 西藏 四川 宁夏 海南 香港 澳门 台湾 武汉 兰州 西安 白银 靖远 温州 深圳 广州 成都
    """.split()  # noqa: SIM905 - a list literal of 43 names would not fit on a line
)
_FROM_WORDS = re.compile(r"^(?:来自|从)|(?:返回|回来|来)$")


@dataclass(frozen=True)
class Registration:
    name: str
    phone: str | None
    id_number: str | None
    origin: str | None
    returned_on: dt.date
    village: str | None  # a village named in the message (an admin registering for a village)


@dataclass(frozen=True)
class RegistrationProblem:
    reason: str


def parse_registration(body: str, vocab: Vocabulary, today: dt.date) -> Registration | RegistrationProblem:
    """The person in what follows 返乡登记 (normalised, as the command matcher hands it on)."""
    body = _LEAD.sub("", body, count=1)
    name = phone = id_number = origin = village = None
    returned_on: dt.date | None = None
    for token in filter(None, _SEPARATORS.split(body)):
        digits = token.upper()
        if re.fullmatch(r"[0-9]{15,19}X?", digits):
            problem = id_number_problem(digits)
            if problem:
                return RegistrationProblem(problem)
            id_number = digits
        elif (date := _parse_date(token, today)) is not None:
            returned_on = date
        elif re.fullmatch(r"\+?[0-9-]{5,14}", token):
            candidate = token.replace("-", "").removeprefix("+86")
            problem = phone_problem(candidate)
            if problem:
                return RegistrationProblem(problem)
            phone = candidate
        elif token in vocab.village_names and village is None:
            village = vocab.village_names[token]
        elif _is_place(token, vocab) and origin is None:
            origin = _FROM_WORDS.sub("", token)
        elif name is None and re.fullmatch(r"[\u4e00-\u9fff·]{2,6}", token):
            name = token
        elif origin is None and re.fullmatch(r"[\u4e00-\u9fff]{2,10}", token):
            origin = token
    if name is None:
        return RegistrationProblem("没有找到姓名（2–6个汉字）")
    if id_number is None and phone is None:
        return RegistrationProblem("请至少写上手机号或身份证号，方便联系和核对")
    if returned_on is None:
        returned_on = today
    if returned_on > today:
        return RegistrationProblem("返回日期晚于今天，请核对")
    return Registration(name, phone, id_number, origin, returned_on, village)


def _is_place(token: str, vocab: Vocabulary) -> bool:
    bare = _FROM_WORDS.sub("", token)
    return (
        bool(_FROM_WORDS.search(token))
        or bare in _PROVINCES
        or any(area in bare for area in vocab.key_areas)
        or (bool(_PLACE_END.search(bare)) and len(bare) >= 2)
    )


def _parse_date(token: str, today: dt.date) -> dt.date | None:
    relative = _RELATIVE_DATE.match(token)
    if relative:
        return today - dt.timedelta(days=_RELATIVE[relative[1]])
    match = _DATE.match(token)
    if match is None:
        return None
    year = int(match["year"]) if match["year"] else today.year
    try:
        day = dt.date(year, int(match["month"]), int(match["day"]))
    except ValueError:
        return None
    if not match["year"] and day > today:
        day = day.replace(year=year - 1)  # "12月30日" written in January is last year's
    return day
