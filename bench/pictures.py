"""How long the pictures take to draw and how big they are: the known test day (tests/picture_day.py).

    .venv/bin/python bench/pictures.py [--villages 20] [--rounds 5]

The first drawing loads matplotlib and the font (a one-time cost per process); the figures after
it are what each deadline summary or /table costs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from picture_day import known_day
from test_pictures import known_trend

from handlers.pictures import day_table_png, trend_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    report, trend = known_day(args.villages), known_trend()
    for name, draw in ((f"day table, {args.villages} villages", lambda: day_table_png(report)),
                       ("trend, 14 days, 6 charts", lambda: trend_png(trend))):  # fmt: skip
        started = time.perf_counter()
        png = draw()
        first = time.perf_counter() - started
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            draw()
            times.append(time.perf_counter() - started)
        median, most = statistics.median(times) * 1000, max(times) * 1000
        print(f"{name}: first {first * 1000:.0f} ms (loads matplotlib and the font), "
              f"then median {median:.0f} ms, max {most:.0f} ms; {len(png) / 1024:.0f} KB")  # fmt: skip


if __name__ == "__main__":
    main()
