"""bench/scale.py at a tiny size, so that it cannot rot: it writes the history, makes every figure
on both points and prints their ratio. No timing is asserted; the figures are the bench's to judge."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PG_URL, postgres_answers

BENCH = Path(__file__).resolve().parent.parent / "bench" / "scale.py"
FIGURES = (
    "report text", "report json", "report xlsx", "deadline job", "deadline job: longest loop hold",
    "confirmation p50", "confirmation p99", "confirmation p99, arrived while the job ran", "bot peak RSS (MB)",
)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_scale_bench_runs_at_a_tiny_size(backend: str) -> None:
    if backend == "postgresql" and not postgres_answers():
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    only = ["--sqlite-only"] if backend == "sqlite" else ["--postgres-only", PG_URL]
    command = [sys.executable, str(BENCH), "--villages", "6", "--days", "4", "--month", "2",
               "--arrival-seconds", "0.2", *only]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=dict(os.environ), check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout.split("\n== ", 1)[1]
    assert table.startswith(("SQLite", "PostgreSQL")) and "2 days, 4 days" in table
    for figure in FIGURES:
        line = next(line for line in table.splitlines() if line.strip().startswith(figure))
        assert "ratio" in line, line
    assert "6 reports arriving over 0.2 s" in done.stdout
