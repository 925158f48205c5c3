"""moltres benchmarks: every figure is a ratio against the raw path on the same engine, same run.

``make bench`` (``python -m benchmarks``) finds each ``benchmarks/bench_*.py`` module, runs its
``run()`` in a fresh interpreter and writes ``benchmarks/RESULTS.md``.

The contract for a module: ``run() -> list[dict]``, one dict per figure, with the keys

- ``name`` (str): what was measured, including the engine (``"insert 200k rows [postgresql]"``);
- ``moltres_s`` and ``raw_s`` (float seconds or None): the moltres path and the raw path;
- ``ratio`` (float or None): ``moltres_s / raw_s`` (lower is better) unless ``note`` says otherwise;
- ``peak_mb`` (float or None): peak memory above the baseline, where measured;
- ``note`` (str): what "raw" was, and anything a reader needs to judge the figure;

and optionally ``target`` (str, e.g. ``"<= 1.05x"``) and ``passed`` (bool or None).

Modules read :data:`QUICK` (``MOLTRES_BENCH_QUICK=1``, or ``python -m benchmarks --quick``) to
shrink their data for a fast check of the harness itself.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR", "QUICK"]

QUICK = os.environ.get("MOLTRES_BENCH_QUICK", "") not in ("", "0")
DATA_DIR = Path(__file__).resolve().parent / ".data"
