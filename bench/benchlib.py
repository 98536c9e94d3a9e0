"""What the benchmark scripts share: the project on the path, Django set up as served in
production (DEBUG off: no query log, cached templates), and their p50/p95 lines."""

from __future__ import annotations

import os
import sys
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
