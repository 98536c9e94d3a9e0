"""What the benchmark scripts share: the project on the path, Django set up as served in
production (DEBUG off: no query log, cached templates), and their p50/p95 lines."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_env_setup() -> None:
    """Call before importing anything of the project's."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "c360.settings.local")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timing_line(name: str, times: list[float], width: int = 50) -> str:
    """Print (and return) ``name: p50 … ms   p95 … ms   (n=…)``."""
    text = (
        f"{name:<{width}}: p50 {percentile(times, 0.5):7.1f} ms   "
        f"p95 {percentile(times, 0.95):7.1f} ms   (n={len(times)})"
    )
    print(text)
    return text


# Recorded figures (issue 22): a benchmark compares what it measures with the last figure
# recorded for the same measurement on the same kind of machine, and fails on a drop of more
# than a third. Figures live in bench/figures.json, in the repository, one entry per machine.
FIGURES = ROOT / "bench" / "figures.json"
ALLOWED_DROP = 1 / 3


def speed_class() -> int:
    """How fast this machine runs plain Python, in steps of 2x (a fixed loop, best of 3).
    Two cloud machines of one processor model differed 1.6x on 7 December (seeding 1M
    parties: 1,026 s and 1,659 s), so the model alone let a slower machine's import smoke
    run "fall by more than a third" against a faster one's figure."""
    global _SPEED
    if _SPEED is None:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            table: dict[int, int] = {}
            for i in range(400_000):
                table[i % 997] = table.get(i % 997, 0) + i * i
            best = min(best, time.perf_counter() - started)
        _SPEED = round(math.log2(400_000 / best))
    return _SPEED


_SPEED: int | None = None


def machine_key() -> str:
    """The processor model, core count and speed class: figures are only compared between
    equal ones."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model} x{os.cpu_count()}, speed class {speed_class()}"


def figures_load(path: Path = FIGURES) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def figure_record(name: str, value: float, unit: str, *, path: Path = FIGURES, **context: object) -> None:
    figures = figures_load(path)
    figures.setdefault(machine_key(), {})[name] = {
        "value": round(value, 1),
        "unit": unit,
        "date": datetime.now(tz=UTC).date().isoformat(),
        "commit": _commit(),
        **context,
    }
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(f"recorded     : {name} = {value:,.0f} {unit} for {machine_key()} in {path.name}")


def figure_compare(name: str, value: float, *, path: Path = FIGURES) -> bool:
    """Print how ``value`` (higher is better) compares with the recorded figure; False when it
    fell by more than ALLOWED_DROP on the same machine. No figure for this machine: say so,
    and pass (nothing to compare with is not a regression)."""
    recorded = figures_load(path).get(machine_key(), {}).get(name)
    if recorded is None:
        print(f"compare      : no figure for {name!r} recorded on {machine_key()}: nothing to compare")
        return True
    floor = recorded["value"] * (1 - ALLOWED_DROP)
    ok = value >= floor
    print(
        f"compare      : {name} {value:,.0f} {recorded['unit']} against {recorded['value']:,.0f} recorded "
        f"{recorded['date']} at {recorded['commit']} ({value / recorded['value']:.0%}); floor {floor:,.0f}: "
        + ("ok" if ok else "FELL BY MORE THAN A THIRD")
    )
    return ok


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
