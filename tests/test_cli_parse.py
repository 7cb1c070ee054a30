"""`villagebot parse` as a user (and the acceptance check) runs it: a separate process, stdin to stdout.

The shared corpus (a copy in tests/data/messages.jsonl) is judged here the way the acceptance
check judges it; the judging is re-implemented below so that this suite stands on its own.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from townconfig import example_town_text

DATA = Path(__file__).parent / "data"
# The shared corpora (copies): messages.jsonl, and real_world.jsonl, the forms village groups really used.
CORPORA = {"corpus": DATA / "messages.jsonl", "real_world": DATA / "real_world.jsonl"}
SPEC_EXAMPLE = "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次"


def villagebot() -> list[str]:
    """The installed `villagebot` next to this interpreter, else the module."""
    script = Path(sys.executable).with_name("villagebot")
    if script.exists():
        return [str(script)]
    found = shutil.which("villagebot")
    return [found] if found else [sys.executable, "-m", "bot.cli"]


def run(args: list[str], stdin: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The working folder is empty so that no ./town.toml changes the town under test.
    return subprocess.run(
        [*villagebot(), "parse", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=60,
    )


# --- one message per process ---------------------------------------------------------------------
# Every single-message case runs in its own process, as a user runs it; the processes run side by
# side, once for the module, so that start-up time does not add up.

MULTI_LINE = "#日报\n排查：86户\n返乡：2人\n居家观察：9人\n发热：无\n消毒：2次\n"
NUCLEIC = '\n[[field]]\nid = "nucleic_tests"\nlabel = "核酸检测"\nkeywords = ["核酸检测"]\nunits = ["人"]\n'
EVERY_KIND = {
    "checkpoint": ("checkpoint", "登记 甘D12345 3人 体温36.5 36.8 36.6 来自兰州 去五星村"),
    "donation": ("admin", "捐赠 魏烈权 捐款500元"),
    "inspection": ("admin", "督查 五星村 垃圾台未及时清运"),
    "notice": ("admin", "通知：今晚8点开会"),
    "empty": ("head", ""),
}  # daily_report and none: the spec example and the resident case below


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Case name → the finished `villagebot parse` process for that one message."""
    folder = tmp_path_factory.mktemp("single")
    good = folder / "other.toml"
    good.write_text(example_town_text() + NUCLEIC, encoding="utf-8")
    bad = folder / "bad.toml"
    bad.write_text(example_town_text().replace('remind = "08:00"', 'remind = "8点"'), encoding="utf-8")
    cases: dict[str, tuple[list[str], str]] = {
        "spec example": (["--village", "五星村", "--role", "head"], SPEC_EXAMPLE + "\n"),
        "defaults": ([], "排查120户，返乡3人"),
        "resident": (["--village", "五星村", "--role", "resident"], "排查120户，返乡3人"),
        "multi-line": (["--village", "红星村"], MULTI_LINE),
        "unknown role": (["--role", "mayor"], SPEC_EXAMPLE),
        "town config": (["--config", str(good), "--village", "五星村"], SPEC_EXAMPLE + "，核酸检测30人"),
        "bad config": (["--config", str(bad)], SPEC_EXAMPLE),
        **{f"kind {kind}": (["--role", role], text) for kind, (role, text) in EVERY_KIND.items()},
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = {name: pool.submit(run, args, stdin, folder) for name, (args, stdin) in cases.items()}
        return {name: future.result() for name, future in runs.items()}


def answer(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("\n") and done.stdout.count("\n") == 1, done.stdout  # one line, one object
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_one_message_prints_one_json_object(single: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert answer(single["spec example"]) == {
        "kind": "daily_report",
        "village": "五星村",
        "correction": False,
        "fields": {"households_visited": 120, "returnees": 3, "under_observation": 12, "fever": 0, "disinfections": 2},
        "missing": [],
        "problems": [],
    }


def test_chinese_is_printed_as_chinese(single: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert "五星村" in single["spec example"].stdout  # not \\u4e94...


def test_the_role_defaults_to_head_and_the_village_to_none(single: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = answer(single["defaults"])
    assert result["kind"] == "daily_report"
    assert result["village"] is None


def test_the_role_is_taken_from_the_option(single: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert answer(single["resident"]) == {"kind": "none"}


def test_a_multi_line_message(single: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert answer(single["multi-line"])["fields"] == {
        "households_visited": 86,
        "returnees": 2,
        "under_observation": 9,
        "fever": 0,
        "disinfections": 2,
    }


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_every_kind_exits_zero(single: dict[str, subprocess.CompletedProcess[str]], kind: str) -> None:
    expected = "none" if kind == "empty" else kind
    assert answer(single[f"kind {kind}"])["kind"] == expected


def test_an_unknown_role_is_refused(single: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = single["unknown role"]
    assert done.returncode != 0
    assert done.stdout == ""
    assert "mayor" in done.stderr


def test_a_town_config_is_used(single: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert answer(single["town config"])["fields"]["nucleic_tests"] == 30


def test_a_bad_config_exits_2_with_the_reason(single: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = single["bad config"]
    assert done.returncode == 2
    assert done.stdout == ""
    assert "bad.toml" in done.stderr and "remind" in done.stderr and "HH:MM" in done.stderr


# --- batch mode: every batch case and the whole corpus in one `--jsonl` process -------------------

ORDER = [
    {"text": SPEC_EXAMPLE, "village": "五星村", "role": "head"},
    {"text": "好的，收到", "village": "五星村", "role": "head"},
    {"text": "登记 甘D12345 1人 36.5", "village": None, "role": "checkpoint"},
    {"text": "排查120户，返乡3人", "village": "红星村", "role": "resident"},
    {"text": "排查120户，返乡3人", "village": "红星村", "role": "head"},
    {"text": "通知：开会", "village": None, "role": "admin"},
]
PER_LINE = [{"text": SPEC_EXAMPLE, "village": v, "role": "head"} for v in ("五星村", "金山村", None)]
DEFAULT_ROLE = [{"text": "排查120户，返乡3人", "village": "五星村"}]
NEWLINES = [{"text": "日报\n排查：86户\n返乡：2人", "village": "五星村", "role": "head"}]
# Raw lines, three of them broken: each must get an answer (an error object), and the run goes on.
BAD_LINES = [
    json.dumps({"text": SPEC_EXAMPLE, "village": "五星村", "role": "head"}, ensure_ascii=False),
    "this is not json",
    json.dumps({"village": "五星村"}),  # no text
    json.dumps({"text": "x", "role": "mayor"}),
    json.dumps({"text": SPEC_EXAMPLE, "village": "金山村", "role": "head"}, ensure_ascii=False),
]


def load_corpus(name: str = "corpus") -> list[dict[str, Any]]:
    text = CORPORA[name].read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def corpus_lines(name: str) -> list[dict[str, Any]]:
    keys = ("text", "village", "role", "today")
    return [{k: c[k] for k in keys if k in c} for c in load_corpus(name)]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Section name → the results for that section's lines, from one `villagebot parse --jsonl` run."""
    sections = {name: corpus_lines(name) for name in CORPORA}
    sections |= {"order": ORDER, "per line": PER_LINE, "default role": DEFAULT_ROLE}
    sections["newlines"] = NEWLINES
    lines = [json.dumps(item, ensure_ascii=False) for items in sections.values() for item in items]
    first_bad = len(lines) + 1  # line numbers count from 1
    lines += BAD_LINES
    done = run(["--jsonl"], "\n".join(lines) + "\n", tmp_path_factory.mktemp("batch"))
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines), done.stdout[-2000:]
    results: dict[str, list[dict[str, Any]]] = {}
    at = 0
    for name, items in sections.items():
        results[name] = out[at : at + len(items)]
        at += len(items)
    results["bad lines"] = out[at:]
    results["first bad line"] = [{"number": first_bad}]
    return results


def test_jsonl_answers_every_line_in_order(batch: dict[str, list[dict[str, Any]]]) -> None:
    kinds = [r["kind"] for r in batch["order"]]
    assert kinds == ["daily_report", "none", "checkpoint", "none", "daily_report", "notice"]


def test_jsonl_takes_village_and_role_per_line(batch: dict[str, list[dict[str, Any]]]) -> None:
    assert [r["village"] for r in batch["per line"]] == ["五星村", "金山村", None]


def test_jsonl_role_defaults_to_head(batch: dict[str, list[dict[str, Any]]]) -> None:
    assert batch["default role"][0]["kind"] == "daily_report"


def test_jsonl_a_bad_line_gets_an_answer_not_a_crash(batch: dict[str, list[dict[str, Any]]]) -> None:
    results = batch["bad lines"]
    first = batch["first bad line"][0]["number"]
    assert results[0]["village"] == "五星村" and results[4]["village"] == "金山村"
    for offset in (1, 2, 3):
        assert results[offset]["kind"] == "none"
        assert f"line {first + offset}" in results[offset]["error"]


def test_jsonl_keeps_newlines_inside_a_message(batch: dict[str, list[dict[str, Any]]]) -> None:
    assert batch["newlines"][0]["fields"] == {"households_visited": 86, "returnees": 2}


# --- the shared corpus, judged as the acceptance check judges it ------------------------------


def same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) < 1e-6
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def judge(expect: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Why `got` fails the expectation; empty when it passes."""
    if got.get("kind") != expect["kind"]:
        return [f"kind {got.get('kind')!r}, expected {expect['kind']!r}"]
    why = []
    if "village" in expect and got.get("village") != expect["village"]:
        why.append(f"village {got.get('village')!r}, expected {expect['village']!r}")
    fields = got.get("fields") or {}
    for key, want in (expect.get("fields") or {}).items():
        if key == "problem_contains":
            if want not in str(fields.get("problem", "")):
                why.append(f"problem {fields.get('problem')!r} lacks {want!r}")
        elif key not in fields:
            why.append(f"{key} missing, expected {want!r}")
        elif not same(fields[key], want):
            why.append(f"{key}={fields[key]!r}, expected {want!r}")
    if expect["kind"] == "daily_report":
        extra = set(fields) - set(expect.get("fields") or {}) - {"notes"}
        if extra:
            why.append("unexpected fields " + ", ".join(f"{k}={fields[k]!r}" for k in sorted(extra)))
    if "date" in expect and got.get("date") != expect["date"]:
        why.append(f"date {got.get('date')!r}, expected {expect['date']!r}")
    if "missing" in expect and set(got.get("missing") or []) != set(expect["missing"]):
        why.append(f"missing {sorted(got.get('missing') or [])}, expected {sorted(expect['missing'])}")
    if expect.get("correction") and got.get("correction") is not True:
        why.append("not marked as a correction")
    problems = {p.get("field") for p in got.get("problems") or [] if isinstance(p, dict)}
    for key in expect.get("problem_fields") or []:
        if key not in problems:
            why.append(f"no problem reported for {key}")
        if key in fields:
            why.append(f"{key} was rejected but still stored as {fields[key]!r}")
    return why


def test_the_corpus_copy_is_whole() -> None:
    cases = load_corpus()
    assert len(cases) >= 42
    assert len({c["id"] for c in cases}) == len(cases)
    assert {c["expect"]["kind"] for c in cases} == {
        "daily_report",
        "checkpoint",
        "donation",
        "inspection",
        "notice",
        "none",
    }


def test_the_real_world_copy_is_whole() -> None:
    cases = load_corpus("real_world")
    assert len(cases) >= 18
    assert len({c["id"] for c in cases}) == len(cases)


@pytest.mark.parametrize(("name", "case_id"), [(name, c["id"]) for name in CORPORA for c in load_corpus(name)])
def test_corpus_case(name: str, case_id: str, batch: dict[str, list[dict[str, Any]]]) -> None:
    cases = load_corpus(name)
    index = next(i for i, c in enumerate(cases) if c["id"] == case_id)
    got = batch[name][index]
    assert judge(cases[index]["expect"], got) == [], json.dumps(got, ensure_ascii=False)


# The judge must be able to fail, or the corpus cases above prove nothing.
GOOD = {
    "kind": "daily_report",
    "village": "五星村",
    "correction": False,
    "fields": {"households_visited": 90, "returnees": 2, "fever": 0},
    "missing": ["disinfections"],
    "problems": [{"field": "disinfections", "message": "消毒 200 ..."}],
}
EXPECT = {
    "kind": "daily_report",
    "village": "五星村",
    "fields": {"households_visited": 90, "returnees": 2, "fever": 0},
    "missing": ["disinfections"],
    "problem_fields": ["disinfections"],
}


def test_the_judge_passes_a_right_answer() -> None:
    assert judge(EXPECT, GOOD) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"kind": "none"}, "kind"),
        ({"village": "红星村"}, "village"),
        ({"fields": {"households_visited": 91, "returnees": 2, "fever": 0}}, "households_visited=91"),
        ({"fields": {"households_visited": 90, "returnees": 2}}, "fever missing"),
        ({"fields": {**GOOD["fields"], "signs": 1}}, "unexpected fields"),  # type: ignore[dict-item]
        ({"fields": {**GOOD["fields"], "disinfections": 200}}, "still stored"),  # type: ignore[dict-item]
        ({"missing": []}, "missing"),
        ({"problems": []}, "no problem reported"),
        ({"fields": {"households_visited": True, "returnees": 2, "fever": 0}}, "households_visited=True"),
    ],
)
def test_the_judge_fails_a_wrong_answer(change: dict[str, Any], reason: str) -> None:
    why = judge(EXPECT, {**GOOD, **change})
    assert why and any(reason in w for w in why), why


def test_the_judge_checks_corrections_and_problem_text() -> None:
    assert judge({"kind": "daily_report", "correction": True}, {"kind": "daily_report", "correction": False})
    expect = {"kind": "inspection", "fields": {"place": "五星村", "problem_contains": "垃圾"}}
    assert judge(expect, {"kind": "inspection", "fields": {"place": "五星村", "problem": "垃圾台"}}) == []
    assert judge(expect, {"kind": "inspection", "fields": {"place": "五星村", "problem": "卫生"}})
