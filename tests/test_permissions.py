"""Every cell of the permission table, written out here independently of the code's own table."""

from __future__ import annotations

import pytest

from handlers.permissions import PERMISSIONS, Action, allowed

#                     admin  head(own) head(other) checkpoint resident
EXPECTED = {
    Action.REPORT: (True, True, False, False, False),
    Action.CORRECT: (True, True, False, False, False),
    Action.REGISTER_PERSON: (True, True, False, False, False),
    Action.SEE_NAMES: (True, True, False, False, False),
    Action.CHECKIN: (True, False, False, True, False),
    Action.DONATE: (True, False, False, False, False),
    Action.INSPECT: (True, False, False, False, False),
    Action.RECTIFY: (True, True, False, False, False),
    Action.NOTIFY: (True, False, False, False, False),
    Action.BIND: (True, False, False, False, False),
    Action.SET_ROLE: (True, False, False, False, False),
    Action.EXPORT: (True, False, False, False, False),
    Action.STATUS: (True, True, True, True, True),
    Action.HELP: (True, True, True, True, True),
    Action.TEMPERATURE_LIST: (True, True, True, True, True),
    Action.TOWN_PICTURES: (True, False, False, False, False),  # and anyone in a leaders' group
}
WHO = ("admin", "head-own", "head-other", "checkpoint", "resident")


def test_the_table_covers_every_action() -> None:
    assert set(EXPECTED) == set(Action) == set(PERMISSIONS)


@pytest.mark.parametrize(("action", "who"), [(a, w) for a in Action for w in WHO])
def test_each_cell(action: Action, who: str) -> None:
    role = "head" if who.startswith("head") else who
    heads_of = frozenset({"五星村"}) if who.startswith("head") else frozenset()
    village = "五星村" if who != "head-other" else "红星村"
    expected = EXPECTED[action][WHO.index(who)]
    assert allowed(action, role, for_village=village, heads_of=heads_of) is expected  # type: ignore[arg-type]
