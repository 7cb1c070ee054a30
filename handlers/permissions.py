"""Who may do what: one table, consulted in one place (`allowed`).

Rows are actions, columns roles. A head's rights are over their own village only; that second
check (`for_village`) is made by `allowed` too, so no handler grows its own rule.
"""

from __future__ import annotations

from enum import StrEnum

from .parsing import Role


class Action(StrEnum):
    REPORT = "report"  # send a village's daily report
    CORRECT = "correct"  # correct it (更正)
    REGISTER_PERSON = "register_person"  # register, check in, release a person under observation
    SEE_NAMES = "see_names"  # see the unmasked names of people under observation
    CHECKIN = "checkin"  # register a vehicle or walk-in party at a checkpoint
    DONATE = "donate"  # record a donation
    INSPECT = "inspect"  # log an inspection finding
    RECTIFY = "rectify"  # close an inspection item (整改完成)
    NOTIFY = "notify"  # broadcast a notice
    BIND = "bind"  # bind a group to a village, a checkpoint or the leaders
    SET_ROLE = "set_role"  # make someone a village head
    EXPORT = "export"  # full export of personal data
    STATUS = "status"  # see today's progress
    HELP = "help"
    TEMPERATURE_LIST = "temperature_list"  # post a 体温接龙 in a village group
    TOWN_PICTURES = "town_pictures"  # ask for the day's table or the trends as images (and anyone in a leaders' group)


# Actions a head may take only for the village they head.
VILLAGE_SCOPED = frozenset({Action.REPORT, Action.CORRECT, Action.REGISTER_PERSON, Action.SEE_NAMES, Action.RECTIFY})

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.REPORT: frozenset({"admin", "head"}),
    Action.CORRECT: frozenset({"admin", "head"}),
    Action.REGISTER_PERSON: frozenset({"admin", "head"}),
    Action.SEE_NAMES: frozenset({"admin", "head"}),
    Action.CHECKIN: frozenset({"admin", "checkpoint"}),
    Action.DONATE: frozenset({"admin"}),
    Action.INSPECT: frozenset({"admin"}),
    Action.RECTIFY: frozenset({"admin", "head"}),
    Action.NOTIFY: frozenset({"admin"}),
    Action.BIND: frozenset({"admin"}),
    Action.SET_ROLE: frozenset({"admin"}),
    Action.EXPORT: frozenset({"admin"}),
    Action.STATUS: frozenset({"admin", "head", "checkpoint", "resident"}),
    Action.HELP: frozenset({"admin", "head", "checkpoint", "resident"}),
    Action.TEMPERATURE_LIST: frozenset({"admin", "head", "checkpoint", "resident"}),
    Action.TOWN_PICTURES: frozenset({"admin"}),
}


def allowed(
    action: Action, role: Role, *, for_village: str | None = None, heads_of: frozenset[str] = frozenset()
) -> bool:
    """Whether someone with `role` (heading the villages `heads_of`) may take `action` for `for_village`."""
    if role not in PERMISSIONS[action]:
        return False
    if role == "head" and action in VILLAGE_SCOPED:
        return for_village is not None and for_village in heads_of
    return True
