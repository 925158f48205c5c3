"""Run every ``benchmarks/bench_*.py`` module and write ``benchmarks/RESULTS.md``.

Usage::

    python -m benchmarks                 # everything (what `make bench` runs)
    python -m benchmarks core io         # only bench_core.py and bench_io.py
    python -m benchmarks --quick         # small data: checks the harness, not the numbers
    python -m benchmarks --output /tmp/r.md

Each module runs in its own interpreter, so one module's imports, caches and memory cannot
colour another's figures, and a module that fails (or crashes the interpreter) is reported
in RESULTS.md while the others still run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KEYS = ("name", "moltres_s", "raw_s", "ratio", "peak_mb", "note")


def discover() -> list[str]:
    return sorted(p.stem for p in HERE.glob("bench_*.py"))


# ------------------------------------------------------------------------------------ child


def run_child(module: str, out: str) -> int:
    """Inside the child interpreter: import the module, call run(), write its rows as JSON."""
    payload: dict[str, Any]
    try:
        mod = importlib.import_module(f"benchmarks.{module}")
        rows = mod.run()
        if not isinstance(rows, list) or not all(isinstance(r, dict) and "name" in r for r in rows):
            raise TypeError(f"{module}.run() must return a list of dicts with a 'name' key, got {type(rows).__name__}")
        payload = {"rows": rows}
    except BaseException as exc:
        payload = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    Path(out).write_text(json.dumps(payload, default=str))
    return 0


# ------------------------------------------------------------------------------------ parent


def run_module(module: str, *, quick: bool, timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        env = dict(os.environ)
        if quick:
            env["MOLTRES_BENCH_QUICK"] = "1"
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks", "--child", module, str(out)],
                cwd=HERE.parent,
                env=env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s", "seconds": time.perf_counter() - started}
        seconds = time.perf_counter() - started
        if not out.exists():
            return {"error": f"the interpreter exited with code {proc.returncode} before reporting", "seconds": seconds}
        result: dict[str, Any] = json.loads(out.read_text())
        result["seconds"] = seconds
        return result


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_seconds(value: Any) -> str:
    s = _num(value)
    if s is None:
        return "—"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} µs"


def fmt_ratio(value: Any) -> str:
    r = _num(value)
    return "—" if r is None else f"{r:.2f}×"


def fmt_mb(value: Any) -> str:
    m = _num(value)
    return "—" if m is None else f"{m:.1f}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def normalize(row: dict[str, Any]) -> dict[str, Any]:
    out = {key: row.get(key) for key in KEYS}
    out.update({k: v for k, v in row.items() if k not in out})
    if out["ratio"] is None:
        m, r = _num(out["moltres_s"]), _num(out["raw_s"])
        if m is not None and r:
            out["ratio"] = m / r
    return out


def verdict(row: dict[str, Any]) -> str:
    if "passed" not in row or row["passed"] is None:
        return "—" if not row.get("target") else "n/a"
    return "pass" if row["passed"] else "**miss**"


def render(
    results: dict[str, dict[str, Any]], *, quick: bool, elapsed: float, load: tuple[float, float] | None = None
) -> str:
    import sqlalchemy

    rows = [normalize(r) for res in results.values() for r in res.get("rows", [])]
    passed = sum(1 for r in rows if r.get("passed") is True)
    missed = [r for r in rows if r.get("passed") is False]
    failed = [m for m, res in results.items() if "error" in res]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`python -m benchmarks{' --quick' if quick else ''}`) on "
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, in {elapsed:.0f} s: Python {platform.python_version()}, "
        f"SQLAlchemy {sqlalchemy.__version__}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs (shared)"
        + (f"; load average {load[0]:.1f} at the start, {load[1]:.1f} at the end." if load else "."),
        "",
        "Every figure compares moltres with the raw path **on the same engine in the same run**. "
        "`ratio` is moltres time ÷ raw time (lower is better) unless the note says otherwise; "
        "`peak MB` is memory above the process's baseline, where measured.",
        "",
    ]
    if quick:
        lines += ["> **Quick run**: small data, for checking the harness. These are not the real figures.", ""]
    lines += [
        f"**Summary:** {passed} passed, {len(missed)} missed, "
        f"{len(rows) - passed - len(missed)} without a pass/miss target"
        + (f"; failed modules: {', '.join(failed)}" if failed else "")
        + ".",
        "",
    ]
    if missed:
        lines += ["Missed:", ""] + [
            f"- {r['name']}: {fmt_ratio(r['ratio'])} (target {r.get('target')})" for r in missed
        ]
        lines.append("")
    for module, res in results.items():
        lines += [f"## {module}", ""]
        doc = res.get("doc")
        if doc:
            lines += [doc, ""]
        if "error" in res:
            lines += [f"**Failed** after {res.get('seconds', 0):.0f} s: `{_cell(res['error'])}`", ""]
            tb = res.get("traceback")
            if tb:
                lines += ["<details><summary>traceback</summary>", "", "```", tb.rstrip(), "```", "", "</details>", ""]
            continue
        lines += [
            "| benchmark | moltres | raw | ratio | target | result | peak MB | note |",
            "|---|---:|---:|---:|---|---|---:|---|",
        ]
        for r in map(normalize, res.get("rows", [])):
            lines.append(
                "| "
                + " | ".join(
                    [
                        _cell(r["name"]),
                        fmt_seconds(r["moltres_s"]),
                        fmt_seconds(r["raw_s"]),
                        fmt_ratio(r["ratio"]),
                        _cell(r.get("target") or "—"),
                        verdict(r),
                        fmt_mb(r["peak_mb"]),
                        _cell(r["note"] or ""),
                    ]
                )
                + " |"
            )
        lines += ["", f"_{module} ran in {res.get('seconds', 0):.0f} s._", ""]
    return "\n".join(lines).rstrip() + "\n"


def module_doc(module: str) -> str:
    """The first paragraph of a module's docstring, read without importing it."""
    import ast

    try:
        tree = ast.parse((HERE / f"{module}.py").read_text())
    except (OSError, SyntaxError):
        return ""
    doc = ast.get_docstring(tree) or ""
    return doc.split("\n\n")[0].strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="names of modules to run (core, io, ...); default: all")
    parser.add_argument("--quick", action="store_true", help="small data, to check the harness")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"), help="where to write the results")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per module")
    parser.add_argument("--child", nargs=2, metavar=("MODULE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return run_child(*args.child)

    available = discover()
    wanted = [m if m.startswith("bench_") else f"bench_{m}" for m in args.modules] or available
    unknown = [m for m in wanted if m not in available]
    if unknown:
        parser.error(f"no such benchmark module: {', '.join(unknown)} (have: {', '.join(available)})")
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    results: dict[str, dict[str, Any]] = {}
    for module in wanted:
        print(f"== {module}", file=sys.stderr, flush=True)
        result = run_module(module, quick=args.quick, timeout=args.timeout)
        result["doc"] = module_doc(module)
        results[module] = result
        if "error" in result:
            print(f"   FAILED: {result['error']}", file=sys.stderr, flush=True)
        for row in map(normalize, result.get("rows", [])):
            print(
                f"   {row['name']}: {fmt_seconds(row['moltres_s'])} vs {fmt_seconds(row['raw_s'])}"
                f" = {fmt_ratio(row['ratio'])}  {row.get('target') or ''} {verdict(row)}",
                file=sys.stderr,
                flush=True,
            )
    load = (load_at_start, os.getloadavg()[0])
    text = render(results, quick=args.quick, elapsed=time.perf_counter() - started, load=load)
    Path(args.output).write_text(text)
    print(f"wrote {args.output}", file=sys.stderr)
    # every module ran and is reported; a module that failed still fails the run
    return 1 if any("error" in result for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
