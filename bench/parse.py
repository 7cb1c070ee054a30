#!/usr/bin/env python3
"""Benchmark `villagebot parse --jsonl` against a strict DHIS2-style key/value parser.

    python bench/parse.py [--count 20000] [--seed 7] [--repeat 3] [--cmd "villagebot parse --jsonl"]

Generates varied messages (daily reports in many shapes: simplified and traditional, full-width,
Chinese and financial numerals, lists, brackets, emoji, signatures; checkpoint registrations;
donations; inspections; notices; ordinary chat), writes them as jsonl, and times two subprocesses
on the same protocol (one {"text","village","role"} object per line in, one JSON object per line out):

- ours: `villagebot parse --jsonl` on the messages as people type them;
- strict: `python bench/parse.py --strict-worker`, a parser for the equivalent strict messages
  (`RPT HH 120 RT 3 UO 12 FV 0 DS 2`: a form code, then code/value pairs, no normalisation),
  written below and doing the same per-line JSON work.

Each is timed whole, start-up included, and again on empty input; the difference is the rate
without start-up. The best of --repeat runs is kept. The generator knows what each message says,
so the run also reports how often our parser got it right.

Then it times the parser's own scaling, in this process: µs per KB of keyword-dense text at 1 KB,
40 KB and 1 MB. The bot reads at most MAX_PARSED_CHARS of a message, which would hide any growth,
so this goes through `MessageParser.parse_uncapped`, the parser without the cap.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

TARGET_RATE = 20_000  # messages per second, ours
TARGET_SLOWDOWN = 3.0  # ours may take at most this many times as long as the strict parser
TARGET_SCALING = 2.0  # µs/KB at 1 MB may be at most this many times µs/KB at 1 KB
SCALING_SIZES_KB = (1, 40, 1024)
# Keyword-dense text, in the shapes that cost the parser most: keywords with and without figures,
# no clause breaks, list numbers, words before a figure, quotes of triggers, readings.
DENSE_UNITS = (
    "日报 排查120户 返乡3人 居家观察12人 发热0人 消毒2次 ",
    "排查 返乡 居家观察 发热 消毒 其中1人来自武汉 ",
    "1.排查 2.返乡 3.发热 4.消毒2次 由2人改为3人 ",
    "日报 入户排查1 200户 返乡的一个都没有 居家隔离14天 体温36,5 ",
)

# --- the strict parser: what a DHIS2 SMS command parser does, and nothing more -------------------

STRICT_FORMS: dict[str, dict[str, tuple[str, int, int]]] = {
    # form code → field code → (field id, min, max)
    "RPT": {
        "HH": ("households_visited", 0, 5000),
        "RT": ("returnees", 0, 2000),
        "HR": ("high_risk_returnees", 0, 2000),
        "UO": ("under_observation", 0, 5000),
        "FV": ("fever", 0, 500),
        "DS": ("disinfections", 0, 20),
        "SG": ("signs", 0, 1000),
        "PS": ("posters", 0, 100000),
        "CE": ("cancelled_events", 0, 100),
    },
    "CHK": {"NP": ("persons", 0, 100)},
    "DON": {"AMT": ("amount_yuan", 0, 10**9)},
}
STRICT_REQUIRED = ("households_visited", "returnees", "under_observation", "fever", "disinfections")
STRICT_TEXT_CODES = {"PL": "plate", "OR": "origin", "TO": "destination", "DR": "donor", "PB": "problem"}


def strict_parse(text: str, village: str | None) -> dict[str, Any]:
    """`FORM code value code value ...`; anything that is not exactly that is `none`."""
    parts = text.split()
    if not parts:
        return {"kind": "none"}
    form = parts[0]
    if form == "NTC":
        body = text[len(form) :].strip()
        return {"kind": "notice", "village": None, "fields": {"body": body}} if body else {"kind": "none"}
    if form == "INS":
        if len(parts) < 5 or parts[1] != "PL" or parts[3] != "PB":
            return {"kind": "none"}
        return {"kind": "inspection", "village": None, "fields": {"place": parts[2], "problem": " ".join(parts[4:])}}
    codes = STRICT_FORMS.get(form)
    if codes is None or len(parts) % 2 == 0:
        return {"kind": "none"}
    fields: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    temperatures: list[float] = []
    items: list[dict[str, Any]] = []
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        if code == "TP":
            try:
                temperatures.append(float(value))
            except ValueError:
                problems.append({"field": "temperatures", "message": f"{value} is not a reading"})
        elif code == "IT":
            name, _, rest = value.partition(":")
            quantity, _, unit = rest.partition(":")
            if quantity.isdigit():
                items.append({"name": name, "quantity": int(quantity), "unit": unit})
        elif code in STRICT_TEXT_CODES:
            fields[STRICT_TEXT_CODES[code]] = value
        elif code in codes:
            field_id, low, high = codes[code]
            if value.isdigit() and low <= int(value) <= high:
                fields[field_id] = int(value)
            else:
                problems.append({"field": field_id, "message": f"{value} is not a count in {low}-{high}"})
        else:
            return {"kind": "none"}
    if form == "RPT":
        if "high_risk_returnees" in fields and fields["high_risk_returnees"] > fields.get("returnees", 0):
            problems.append({"field": "high_risk_returnees", "message": "more than returnees"})
            del fields["high_risk_returnees"]
        missing = [f for f in STRICT_REQUIRED if f not in fields]
        return {
            "kind": "daily_report",
            "village": village,
            "correction": False,
            "fields": fields,
            "missing": missing,
            "problems": problems,
        }
    if form == "CHK":
        fields.setdefault("plate", None)
        fields["temperatures"] = temperatures
        fields["fever"] = any(t >= 37.3 for t in temperatures)
        return {"kind": "checkpoint", "village": None, "fields": fields}
    fields["items"] = items
    fields.setdefault("amount_yuan", 0)
    return {"kind": "donation", "village": None, "fields": fields}


def strict_worker(lines: TextIO, out: TextIO) -> int:
    """The same jsonl protocol as `villagebot parse --jsonl`."""
    dumps, loads = json.dumps, json.loads
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = loads(line)
            result = strict_parse(str(item["text"]), item.get("village"))
        except (ValueError, KeyError, TypeError) as exc:
            result = {"kind": "none", "error": f"line {number}: {exc}"}
        out.write(dumps(result, ensure_ascii=False) + "\n")
    return 0


# --- the messages ---------------------------------------------------------------------------------

VILLAGES = ["五星村", "王岘村", "雒家滩村", "红星村", "新华村", "金山村", "柳树村", "东风社区"]
ALIASES = {"五星村": "五星", "王岘村": "王岘", "红星村": "红星", "金山村": "金山"}
PLACES = ["兰州", "白银", "靖远", "西安", "武汉", "白银城区", "景泰", "会宁", "银川", "定西"]
PROVINCES = "甘陕宁青川鄂豫京"
NAMES = ["王", "李", "张", "魏", "刘", "陈", "杨", "赵"]
EMOJI = ["👉", "✅", "🔹", "▶", "●", "★", "◆", "•"]


@dataclass
class FieldGen:
    id: str
    code: str
    words: list[str]
    units: list[str]
    low: int
    high: int
    required: bool = True


REPORT_FIELDS = [
    FieldGen("households_visited", "HH", ["入户排查", "排查", "走访", "排查户数"], ["户"], 20, 400),
    FieldGen("returnees", "RT", ["返乡", "返乡人员", "新增返乡人员", "返回人员", "外来人员"], ["人", "名"], 0, 30),
    FieldGen("under_observation", "UO", ["居家观察", "居家隔离", "在管控"], ["人", "名"], 0, 80),
    FieldGen("fever", "FV", ["发热", "发烧", "体温异常"], ["人", "名"], 0, 2),
    FieldGen("disinfections", "DS", ["消毒"], ["次", "遍"], 1, 4),
    FieldGen("signs", "SG", ["宣传牌", "横幅", "指示牌"], ["处", "条", "块"], 1, 30, required=False),
    FieldGen("posters", "PS", ["宣传单", "明白纸", "海报"], ["份", "张"], 10, 3000, required=False),
    FieldGen("cancelled_events", "CE", ["劝阻婚丧嫁娶", "劝阻聚餐"], ["起", "场"], 0, 5, required=False),
]

CHAT = [
    "大家注意出门戴口罩，不要聚餐",
    "好的，收到",
    "收到收到👍",
    "村里今天有人发烧吗",
    "我家今天消毒两次了",
    "王主任，我家孩子从兰州回来了，需要登记吗？",
    "今天的日报什么时候交？",
    "明天排查100户，消毒2次",
    "计划明日再走访30户",
    "辛苦了各位",
    "几点去卡点换班？",
    "口罩还有吗，我家3口人",
    "请大家不要串门，勤洗手",
    "通知书已经发到每家了",
    "超市几点开门",
    "2月17日下午开会",
    "@王主任 我家老人血压高，能出去买药吗",
    "村口的横幅被风刮掉了",
    "今天天气好，大家在家晒晒被子",
    "谁家有体温计借一下",
]


@dataclass
class Case:
    text: str
    village: str | None
    role: str
    strict: str
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    expect_village: str | None = None


def numeral(rng: random.Random, n: int, style: str) -> str:
    import cn2an

    if style == "arabic":
        return str(n)
    if style == "full-width":
        return "".join(chr(ord(c) + 0xFEE0) for c in str(n))
    if style == "chinese":
        return "两" if n == 2 and rng.random() < 0.7 else str(cn2an.an2cn(n))
    return str(cn2an.an2cn(n, "up"))  # financial: 壹佰贰拾


def daily_report(rng: random.Random, to_traditional: Callable[[str], str]) -> Case:
    village = rng.choice(VILLAGES)
    chosen = [f for f in REPORT_FIELDS if f.required and rng.random() < 0.93]
    chosen += [f for f in REPORT_FIELDS if not f.required and rng.random() < 0.2]
    if len(chosen) < 2:
        chosen = REPORT_FIELDS[:2]
    if rng.random() < 0.2:
        rng.shuffle(chosen)
    style = rng.choices(["arabic", "full-width", "chinese", "financial"], [0.6, 0.1, 0.2, 0.1])[0]
    layout = rng.choice(["comma", "space", "newline", "semicolon", "list", "inline-list", "colon"])
    values: dict[str, int] = {}
    parts: list[str] = []
    for spec in chosen:
        value = rng.randint(spec.low, spec.high)
        values[spec.id] = value
        word, unit = rng.choice(spec.words), rng.choice(spec.units)
        if spec.id == "fever" and value == 0 and rng.random() < 0.4:
            parts.append(rng.choice(["无发热人员", "发热:无", "没有发热的", "未发现发热人员"]))
            continue
        number = numeral(rng, value, style)
        sep = ":" if layout == "colon" else rng.choice(["", "", " ", "了"])
        part = f"{word}{sep}{number}{unit}"
        if spec.id == "returnees" and value > 0 and rng.random() < 0.3:
            high = rng.randint(0, value)
            values["high_risk_returnees"] = high
            part += rng.choice([f"(其中湖北返回{high}人)", f"(武汉返回{high}人)"])
        elif spec.id == "returnees" and value > 0 and rng.random() < 0.1:
            part += f"(从{rng.choice([v for v in VILLAGES if v != village])}返回)"
        parts.append(part)
    joiners = {"comma": "，", "space": " ", "newline": "\n", "semicolon": "；", "colon": "，"}
    if layout == "list":
        body = "\n".join(f"{i}. {p}" for i, p in enumerate(parts, 1))
    elif layout == "inline-list":
        mark = rng.choice([".", "、"])
        body = " ".join(f"{i}{mark}{p}" for i, p in enumerate(parts, 1))
    else:
        body = joiners[layout].join(parts)
    if rng.random() < 0.15:
        emoji = rng.choice(EMOJI)
        body = emoji + body.replace("，", f" {emoji}").replace("\n", f"\n{emoji}")
    trigger_style = rng.choice(
        ["日报", "#日报", "【V日报】", "V日报：", "2月17日日报", "/report", "@", "alias", "none"]
    )
    bound: str | None = village
    named = trigger_style in ("【V日报】", "V日报：", "alias")
    if named:
        bound = rng.choice([None, *VILLAGES])
    head = {
        "日报": "日报 ",
        "#日报": "#日报\n",
        "【V日报】": f"【{village}日报】",
        "V日报：": f"{village}日报：",
        "2月17日日报": "2月17日日报 ",
        "/report": "/report ",
        "@": "@防控助手 日报 ",
        "alias": f"{ALIASES.get(village, village)}日报 ",
        "none": "",
    }[trigger_style]
    text = head + body
    if rng.random() < 0.1:
        text += f" —— {village} {rng.choice(NAMES)}主任"
    if rng.random() < 0.12:
        text = to_traditional(text)
    expected = {k: v for k, v in values.items() if not (k == "high_risk_returnees" and v > values["returnees"])}
    strict = "RPT " + " ".join(
        f"{next(f.code for f in REPORT_FIELDS if f.id == k) if k != 'high_risk_returnees' else 'HR'} {v}"
        for k, v in values.items()
    )
    return Case(text, bound, "head", strict, "daily_report", expected, village if named else bound)


def checkpoint(rng: random.Random, to_traditional: Callable[[str], str]) -> Case:
    walk_in = rng.random() < 0.2
    plate = None if walk_in else f"{rng.choice(PROVINCES)}{rng.choice('ABCDEF')}{rng.randint(10000, 99999)}"
    persons = rng.randint(1, 4)
    temps = [round(rng.uniform(36.0, 37.2), 1) for _ in range(persons)]
    if rng.random() < 0.05:
        temps[-1] = 37.8
    origin, destination = rng.choice(PLACES), rng.choice(VILLAGES)
    written_plate = (
        "步行" if plate is None else rng.choice([plate, plate[:2] + " " + plate[2:], plate[:2] + "·" + plate[2:]])
    )
    sep = rng.choice([" ", "、", "/"])
    count = f"司机1人 乘客{persons - 1}人" if persons > 1 and rng.random() < 0.3 else f"{persons}人"
    text = f"{rng.choice(['登记', '#登记', '/checkin'])} {written_plate} {count} 体温{sep.join(map(str, temps))} "
    text += rng.choice([f"来自{origin} 去{destination}", f"从{origin}回{destination}", f"{origin}返回 到{destination}"])
    if rng.random() < 0.1:
        text = to_traditional(text)
    strict = f"CHK {'PL ' + plate + ' ' if plate else ''}NP {persons} " + " ".join(f"TP {t}" for t in temps)
    strict += f" OR {origin} TO {destination}"
    fields = {"plate": plate, "persons": persons, "temperatures": temps, "fever": any(t >= 37.3 for t in temps)}
    return Case(text, None, "checkpoint", strict, "checkpoint", fields)


def donation(rng: random.Random, _: Callable[[str], str]) -> Case:
    donor = rng.choice(["魏烈权", "张某某", "白银某商贸公司", "王岘镇加油站", "爱心人士"])
    amount = rng.choice([0, 200, 500, 1000, 5000])
    goods = rng.sample([("口罩", "个", 700), ("方便面", "箱", 21), ("矿泉水", "箱", 12), ("消毒液", "桶", 10)], 2)
    parts = [f"捐款{amount}元"] if amount else []
    parts += [f"{n}{q}{u}" for n, u, q in goods] if not amount or rng.random() < 0.5 else []
    items = [{"name": n, "quantity": q, "unit": u} for n, u, q in goods] if len(parts) > (1 if amount else 0) else []
    text = f"{rng.choice(['捐赠', '捐款', '#捐赠'])} {donor} " + "、".join(parts)
    strict = f"DON DR {donor} AMT {amount} " + " ".join(f"IT {i['name']}:{i['quantity']}:{i['unit']}" for i in items)
    return Case(
        text, None, "admin", strict.strip(), "donation", {"donor": donor, "amount_yuan": amount, "items": items}
    )


def notice(rng: random.Random, to_traditional: Callable[[str], str]) -> Case:
    body = rng.choice(
        ["即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。", "出门请佩戴口罩，勤洗手，不串门。", "今晚8点开会"]
    )
    text = f"{rng.choice(['通知：', '公告：', '/broadcast '])}{body}"
    return Case(text, None, "admin", f"NTC {body}", "notice", {"body": body})


def inspection(rng: random.Random, _: Callable[[str], str]) -> Case:
    place = rng.choice([*VILLAGES, "109国道雒家滩卡点", "镇区客运站卡点"])
    problem = rng.choice(["垃圾台未及时清运", "值班人员未测体温即放行", "口罩佩戴不规范"])
    return Case(f"督查 {place} {problem}", None, "admin", f"INS PL {place} PB {problem}", "inspection", {})


def chat(rng: random.Random, to_traditional: Callable[[str], str]) -> Case:
    text = rng.choice(CHAT)
    role = rng.choice(["resident", "resident", "head", "checkpoint"])
    if rng.random() < 0.1:
        text = to_traditional(text)
    return Case(text, rng.choice(VILLAGES), role, text, "none")


KINDS: list[tuple[Callable[[random.Random, Callable[[str], str]], Case], float]] = [
    (daily_report, 0.45),
    (checkpoint, 0.15),
    (donation, 0.05),
    (inspection, 0.05),
    (notice, 0.05),
    (chat, 0.25),
]


def generate(count: int, seed: int) -> list[Case]:
    import opencc

    rng = random.Random(seed)
    to_traditional = opencc.OpenCC("s2t").convert
    makers, weights = zip(*KINDS, strict=True)
    return [rng.choices(makers, weights)[0](rng, to_traditional) for _ in range(count)]


# --- running and timing ---------------------------------------------------------------------------


def timed(cmd: list[str], feed: Path, repeat: int) -> tuple[float, str]:
    """The best wall time of `repeat` runs of cmd reading feed, start-up included; and its output."""
    best, output = float("inf"), ""
    for _ in range(repeat):
        with feed.open("rb") as stdin:
            start = time.perf_counter()
            done = subprocess.run(cmd, stdin=stdin, capture_output=True, check=False)
            elapsed = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{shlex.join(cmd)} failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}")
        if elapsed < best:
            best, output = elapsed, done.stdout.decode("utf-8")
    return best, output


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def agreement(cases: list[Case], lines: list[str]) -> tuple[Counter[str], list[str]]:
    """How often our parser says what the generator wrote."""
    tally: Counter[str] = Counter()
    wrong: list[str] = []
    for case, line in zip(cases, lines, strict=True):
        got = json.loads(line)
        ok = got.get("kind") == case.kind
        fields = got.get("fields") or {}
        if ok and case.kind == "daily_report":
            ok = fields == case.fields and got.get("village") == case.expect_village
        elif ok and case.kind in ("checkpoint", "donation"):
            ok = all(fields.get(k) == v for k, v in case.fields.items())
        tally[f"{case.kind} {'ok' if ok else 'wrong'}"] += 1
        if not ok and len(wrong) < 8:
            wrong.append(
                f"  {case.text!r} ({case.role}, {case.village})\n    got {line.strip()}\n    want {case.fields}"
            )
    return tally, wrong


def dense_text(size_kb: int) -> str:
    """About size_kb KB (UTF-8) of the dense shapes, in turn."""
    unit = "".join(DENSE_UNITS)
    size = size_kb * 1024
    text = unit * (size // len(unit.encode("utf-8")) + 1)
    return text.encode("utf-8")[:size].decode("utf-8", errors="ignore")


def scaling(repeat: int) -> dict[int, float]:
    """Size in KB → µs per KB that the uncapped parser takes on dense text (best of repeat)."""
    from handlers.parsing import MessageContext, Vocabulary
    from handlers.registry import message_parser
    from townconfig import load_config

    parser = message_parser(Vocabulary.from_config(load_config(None)))
    context = MessageContext("五星村", "head")
    result: dict[int, float] = {}
    for size_kb in SCALING_SIZES_KB:
        text = dense_text(size_kb)
        rounds = max(1, 200 // size_kb)  # enough rounds at 1 KB for the clock to see them
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            for _ in range(rounds):
                parser.parse_uncapped(text, context)
            best = min(best, (time.perf_counter() - start) / rounds)
        result[size_kb] = best * 1e6 / size_kb
    return result


def default_cmd() -> list[str]:
    script = Path(sys.executable).with_name("villagebot")
    return [str(script) if script.exists() else "villagebot", "parse", "--jsonl"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strict-worker", action="store_true", help="run the strict parser on stdin (jsonl)")
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    ap.add_argument("--cmd", help="our parser's command (default: villagebot parse --jsonl)")
    ap.add_argument("--keep", help="write the generated jsonl files into this folder")
    args = ap.parse_args()
    if args.strict_worker:
        return strict_worker(sys.stdin, sys.stdout)

    cases = generate(args.count, args.seed)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="villagebot-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    ours_in, strict_in, empty = folder / "messages.jsonl", folder / "strict.jsonl", folder / "empty.jsonl"
    write_jsonl(ours_in, [{"text": c.text, "village": c.village, "role": c.role} for c in cases])
    write_jsonl(strict_in, [{"text": c.strict, "village": c.village, "role": c.role} for c in cases])
    empty.write_text("", encoding="utf-8")

    ours_cmd = shlex.split(args.cmd) if args.cmd else default_cmd()
    strict_cmd = [sys.executable, str(Path(__file__).resolve()), "--strict-worker"]
    n = len(cases)
    mix = Counter(c.kind for c in cases)
    print(f"{n} messages ({', '.join(f'{k} {v}' for k, v in mix.most_common())}), best of {args.repeat} runs")
    print(f"  ours:   {shlex.join(ours_cmd)}")
    print(f"  strict: {shlex.join(strict_cmd)}")

    rows = []
    outputs = {}
    for name, cmd, feed in (("ours", ours_cmd, ours_in), ("strict", strict_cmd, strict_in)):
        total, output = timed(cmd, feed, args.repeat)
        startup, _ = timed(cmd, empty, args.repeat)
        lines = [line for line in output.splitlines() if line.strip()]
        if len(lines) != n:
            sys.exit(f"{name}: {len(lines)} lines of output for {n} messages")
        outputs[name] = lines
        rows.append((name, total, startup, n / total, n / max(total - startup, 1e-9)))

    print(f"\n{'':8}{'total s':>9}{'start-up s':>12}{'msg/s incl. start-up':>23}{'msg/s excl. start-up':>23}")
    for name, total, startup, rate, rate_excl in rows:
        print(f"{name:8}{total:9.3f}{startup:12.3f}{rate:23,.0f}{rate_excl:23,.0f}")
    (_, ours_total, ours_start, ours_rate, ours_excl), (_, strict_total, strict_start, _, _) = rows
    slow_incl = ours_total / strict_total
    slow_excl = (ours_total - ours_start) / max(strict_total - strict_start, 1e-9)
    print(f"\nslowdown ours/strict: {slow_incl:.2f}x incl. start-up, {slow_excl:.2f}x excl. start-up")

    tally, wrong = agreement(cases, outputs["ours"])
    right = sum(v for k, v in tally.items() if k.endswith(" ok"))
    print(
        f"ours agrees with the generator on {right}/{n} ({right / n:.1%}): "
        + ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))
    )
    if wrong:
        print("first disagreements:\n" + "\n".join(wrong))
    strict_kinds = Counter(json.loads(line)["kind"] for line in outputs["strict"])
    print(f"strict kinds: {dict(strict_kinds)}")

    per_kb = scaling(args.repeat)
    print("\nthe parser alone (parse_uncapped: the bot's cap of MAX_PARSED_CHARS lifted), keyword-dense text:")
    for size_kb, us in per_kb.items():
        print(f"  {size_kb:>5} KB: {us:8.1f} µs/KB")
    growth = per_kb[SCALING_SIZES_KB[-1]] / per_kb[SCALING_SIZES_KB[0]]
    print(f"  1 MB / 1 KB: {growth:.2f}x")

    verdicts = [
        (f"ours >= {TARGET_RATE:,} msg/s incl. start-up", ours_rate >= TARGET_RATE),
        (f"ours >= {TARGET_RATE:,} msg/s excl. start-up", ours_excl >= TARGET_RATE),
        (f"slowdown <= {TARGET_SLOWDOWN:g}x incl. start-up", slow_incl <= TARGET_SLOWDOWN),
        (f"slowdown <= {TARGET_SLOWDOWN:g}x excl. start-up", slow_excl <= TARGET_SLOWDOWN),
        (f"µs/KB at 1 MB <= {TARGET_SCALING:g}x µs/KB at 1 KB", growth <= TARGET_SCALING),
    ]
    print()
    for label, ok in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    if not args.keep:
        for path in (ours_in, strict_in, empty):
            path.unlink()
        folder.rmdir()
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
