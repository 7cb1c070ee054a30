"""`villagebot run` as a process, on WeChat: the environment points it at the stand-in puppet service,
and the process runs on the tests' clock (9:00, far from the day's routine: tests/controlled_process.py)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from controlled_process import TickingClock
from wechat_standin import PuppetStandin

ROOM = "25046731562@chatroom"
TOWN = """
[town]
name = "王岘镇"
leaders_chat = "wechat:10001000001@chatroom"

[schedule]  # late, so that at 9:00 the day's catch-up does not queue paced messages ahead of the answer
remind = "23:57"
chase = "23:58"
deadline = "23:59"

[[village]]
name = "五星村"
chats = ["wechat:25046731562@chatroom"]
heads = ["wechat:wxid_head1"]

[[admin]]
name = "镇防控办"
ids = ["wechat:wxid_town_office"]

[wechat]
token_env = "VILLAGEBOT_TEST_PUPPET_TOKEN"
tls = false  # the stand-in serves plain text
"""


def environment(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECHATY_")}
    env.update(VILLAGEBOT_DATABASE_URL=f"sqlite:///{folder}/town.db", PYTHONPATH=str(Path.cwd()), **extra)
    return env


async def test_villagebot_run_serves_wechat_and_stops_on_sigterm(tmp_path: Path, ticking_clock: TickingClock) -> None:
    standin = PuppetStandin(token="secret-puppet-token", now=ticking_clock.now)
    standin.add_contact("wxid_head1", "张村长")
    standin.add_room(ROOM, "五星村防控群", ["wxid_head1"])
    await standin.start()
    (tmp_path / "town.toml").write_text(TOWN, encoding="utf-8")
    env = environment(
        tmp_path, WECHATY_PUPPET_SERVICE_ENDPOINT=standin.endpoint, VILLAGEBOT_TEST_PUPPET_TOKEN=standin.token or ""
    )
    with open(tmp_path / "stderr.txt", "wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            *ticking_clock.command("run", "--config", "town.toml"), cwd=tmp_path, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
        try:
            await standin.wait_for(lambda: standin.connected, timeout=30)
            standin.say(ROOM, "wxid_head1", "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次")
            await standin.wait_for(lambda: any("已收到五星村" in text for text in standin.texts_to(ROOM)), timeout=15)
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 15)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            await standin.stop()
    log = (tmp_path / "stderr.txt").read_text(encoding="utf-8")
    assert code == 0, log
    # Start once, and never Stop, not even at the end: Stop would log the real account out.
    assert [c.method for c in standin.calls if c.method in ("Stop", "Start")] == ["Start"]
    assert "villagebot stopped" in log
    assert standin.token not in log


async def test_villagebot_run_without_the_token_says_which_variable_to_set(
    tmp_path: Path, ticking_clock: TickingClock
) -> None:
    (tmp_path / "town.toml").write_text(TOWN, encoding="utf-8")
    env = environment(tmp_path, WECHATY_PUPPET_SERVICE_ENDPOINT="127.0.0.1:9")
    process = await asyncio.create_subprocess_exec(
        *ticking_clock.command("run", "--config", "town.toml"), cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    lines = stderr.decode("utf-8").splitlines()
    assert lines[-1].startswith("villagebot: ") and "VILLAGEBOT_TEST_PUPPET_TOKEN" in lines[-1]  # what to set
    assert not [line for line in lines if " WARNING " in line or " ERROR " in line or "Traceback" in line]
