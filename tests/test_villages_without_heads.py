"""A town set up from its village list alone (villages and their groups, no heads): on the first
morning a member of a village's group may send its 日报, is named in the reply, and the leaders are
told once that the village has no registered head. Once it has heads, only they report."""

from __future__ import annotations

import pytest
from chat_harness import Chat

from townconfig import TownConfig, example_town_text, parse_config

FULL = "日报 排查120户 返乡3人 居家观察12人 发热0人 消毒2次"


@pytest.fixture
def town_config() -> TownConfig:
    """The example town without a single head, as ../shared/spec/config.md sets a town up."""
    text = "\n".join(line for line in example_town_text().splitlines() if not line.startswith("heads = "))
    return parse_config(text, "town.toml")


async def test_a_member_of_the_group_reports_and_is_named_and_the_leaders_are_told_once(chat: Chat) -> None:
    member = chat.in_group("console:五星村", "console:张会计")
    replies = await member.says(FULL)
    assert replies[0].startswith("✅ 已收到五星村"), replies
    async with chat.app.database.transaction() as store:
        stored = await store.reports.day("五星村", chat.app.town.today(), chat.app.town.required)
    assert stored.complete and stored.fields["households_visited"] == 120
    assert "报告人：console:张会计" in replies[0]
    told = [t for t in chat.sent_to("console:leaders") if "五星村还没有登记村长" in t]
    assert len(told) == 1
    await chat.in_group("console:五星村", "console:李文书").says("更正 居家观察13人")
    await chat.in_group("console:王岘村", "console:王会计").says(FULL)
    told = [t for t in chat.sent_to("console:leaders") if "还没有登记村长" in t]
    assert len(told) == 2 and any("王岘村" in t for t in told)  # once per village, not per message


async def test_figures_without_日报_stay_for_registered_heads(chat: Chat) -> None:
    assert await chat.in_group("console:五星村", "console:张会计").says("排查120户 返乡3人 居家观察12人") == []


async def test_a_member_of_another_group_cannot_report_for_the_village(chat: Chat) -> None:
    replies = await chat.in_group("console:王岘村", "console:王会计").says("日报 五星村 " + FULL[3:])
    assert "报告人：" not in "".join(replies)
    async with chat.app.database.transaction() as store:
        assert (await store.reports.day("五星村", chat.app.town.today(), chat.app.town.required)).revisions == 0


async def test_once_the_village_has_a_head_only_the_head_reports(chat: Chat) -> None:
    await chat.in_group("console:五星村", "console:town_office").says(
        "设置村长 五星村 @console:魏主任", mentioned=("console:魏主任",)
    )
    refused = await chat.in_group("console:五星村", "console:张会计").says(FULL)
    assert refused and "报告人：" not in refused[0]
    accepted = await chat.in_group("console:五星村", "console:魏主任").says(FULL)
    assert "报告人：" not in accepted[0] and "五星村" in accepted[0]
