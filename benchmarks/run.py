"""Benchmark suite: ingest, attainment and batch reports on synthetic province-scale input.

Usage::

    python benchmarks/run.py            # full size: 200 communes, 1,000,000 attainment rows
    python benchmarks/run.py --quick    # reduced size, within 2 minutes on 2 cores
    python benchmarks/run.py --json     # print one JSON object (figures below)

Generated input goes to a temporary folder (``--work DIR`` to keep it), never into the repo.
The figures (seconds are wall-clock):

* ``ingest``: ``workbooks``, ``rows``, ``seconds`` (``load_raw_dir`` with a cold Parquet cache,
  the first call of a new process, as ``ntm ingest`` makes it), ``raw_calamine_seconds`` (only
  reading the same cells with python-calamine: the floor), both the median of ``repeat`` runs
  (``--repeat``, default 3; ``seconds_runs`` and ``raw_calamine_seconds_runs`` list them), an
  ingest and a raw read taking turns, so that a slow spell of the host slows both of a pair;
  ``openpyxl_pandas_seconds`` (``pd.read_excel(engine="openpyxl")`` of the same sheets, once),
  ``peak_rss_mb`` (peak resident memory of the ingest's process, the largest of the runs),
  ``cpu_seconds`` and ``raw_calamine_cpu_seconds`` (CPU time, the ingest's including its pool
  workers; medians), ``ratio`` and ``cpu_ratio`` (the median of each run's ingest over the raw
  read that followed it, wall and CPU) and the ``load_average``;
* ``attainment``: ``rows``, ``seconds`` and ``cpu_seconds`` (CPU of the process, which a busy
  machine inflates less than wall-clock time) of the first ``compute_attainment`` call of a
  new process, as a report makes it: the median of ``repeat`` runs, each in a new interpreter
  (``seconds_runs``, ``cpu_seconds_runs`` list them);
* ``batch``: ``reports``, ``workers``, ``seconds``, ``serial_seconds`` (one worker as a batch
  runs by default: its spare kernel starts while the previous report runs, on the second core)
  and ``strict_serial_seconds`` (one worker, no spare kernel: one report strictly after the
  other, with plain kernels, run once; at full size, or with ``--strict-serial``: the quick
  size leaves it out, and its ``strict_…`` keys are null, since it takes about twice as long as
  a 1-worker batch, 30 s of the two minutes on our host); batches fork their kernels from a
  warm template unless ``--no-fork-kernels`` (``fork_kernels`` in the JSON). The 2-worker and
  1-worker batches run as ``repeat`` pairs, taking turns at going first (``seconds_runs``,
  ``serial_seconds_runs``); ``seconds`` and ``serial_seconds`` are their medians, ``speedup``
  the median of each pair's ``serial / parallel`` and ``strict_speedup``
  ``strict_serial_seconds / seconds`` (``speedup_basis`` says so in the JSON); the CPU seconds
  per report of each (``cpu_seconds_per_report``, ``serial_…``, ``strict_serial_…``: this
  process, its workers and their kernels, which a busy machine does not inflate as it does
  wall-clock time) and of each batch (``cpu_seconds_runs``, ``serial_cpu_seconds_runs``),
  the cores each batch kept busy (``cores_busy``, ``serial_cores_busy``: CPU seconds over
  seconds, medians; the speed-up is about their ratio times the 1-worker batch's CPU over the
  2-worker one's) with the ``load_average`` at the end;
* ``host``: ``reference_loop_seconds``, the seconds of a fixed pure-Python loop
  (``reference_additions`` additions) at the start and after each part: the shared host's
  speed while the figures were taken (the same loop takes up to twice as long in a slow spell).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

ROOT = Path(__file__).resolve().parents[1]
READINESS_NOTEBOOK = ROOT / "notebooks" / "10_readiness.ipynb"

#: The full size's batch has 48 reports: a district's communes, still a quarter of a province's
#: (in a batch of 12, the size before, the batch's start, 1.6–1.9 s before its first report
#: starts, is a sixth of its time, as in no real batch of a district or a province).
SIZES = {
    "full": {"communes": 200, "attainment_rows": 1_000_000, "reports": 48},
    "quick": {"communes": 20, "attainment_rows": 1_000_000, "reports": 6},
}


def machine() -> dict[str, object]:
    """Describe the machine: cores, CPU model, memory, Python and platform."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gb": mem_gb,
            "python": platform.python_version(), "platform": platform.platform()}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class IngestOnce(TypedDict):
    """What one cold ingest (``ingest_once``) measured."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    rows: int
    workbooks: int
    cached: int


def ingest_once(raw: Path, processed: Path) -> IngestOnce:
    """One cold ingest of ``raw`` in this process (a fresh one): its wall-clock and CPU seconds
    (its pool workers' included), its peak memory, the rows and workbooks read."""
    from ntm_analysis.catalogue import load_catalogue
    from ntm_analysis.ingest import load_raw_dir
    from ntm_analysis.load import header_roles

    load_catalogue()
    header_roles()  # package data read once per process, not per workbook
    start, times = time.perf_counter(), _cpu_now()
    report = load_raw_dir(raw, processed_dir=processed)
    seconds = time.perf_counter() - start
    cpu = _cpu_since(times)  # this process and its pool workers
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb(),
            "rows": len(report.result.indicators), "workbooks": len(report.digests),
            "cached": len(report.cached)}


def _in_new_process(args: list[str], what: str) -> Any:
    """This script run with the hidden option ``args`` in a new interpreter: the JSON object
    it prints last. A failure stops the benchmark, naming ``what`` failed."""
    import subprocess

    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark: the {what} run failed:\n{proc.stderr.strip()}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cold_ingest(raw: Path, processed: Path) -> IngestOnce:
    """``ingest_once`` in a new interpreter, after emptying the cache: every repeat is the
    first ingest of its process, on a cold cache, as ``ntm ingest`` runs."""
    for f in processed.rglob("*.parquet"):
        f.unlink()
    once: IngestOnce = _in_new_process(["--ingest-once", str(raw), str(processed)], "ingest")
    if once["cached"]:  # the figure is a cold read: a workbook from the cache would flatter it
        raise SystemExit(f"benchmark: {once['cached']} workbook(s) came from the cache; "
                         "the ingest figure must be a cold read")
    return once


def _raw_read(paths: list[Path]) -> tuple[float, float, int]:
    """Only read every cell and merged range of ``paths`` with python-calamine (the floor):
    wall-clock and CPU seconds, and the number of cells."""
    import python_calamine as pc

    start, times = time.perf_counter(), _cpu_now()
    cells = 0
    for p in paths:
        wb = pc.CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            sheet = wb.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            _ = sheet.merged_cell_ranges
            cells += sum(len(r) for r in rows)
        wb.close()
    return time.perf_counter() - start, _cpu_since(times), cells


def _median_ratio(values: list[float], floors: list[float]) -> float:
    """The median of ``values[i] / floors[i]`` (rounded to 2 places)."""
    from statistics import median

    return round(median(v / max(f, 1e-9) for v, f in zip(values, floors, strict=True)), 2)


def bench_ingest(raw: Path, work: Path, repeat: int = 3) -> dict[str, object]:
    from statistics import median

    from ntm_analysis.ingest import find_workbooks

    paths = find_workbooks(raw)
    processed = work / "processed"
    ingests, reads = [], []
    for _ in range(max(1, repeat)):  # interleaved: a slow spell of the host hits both
        ingests.append(_cold_ingest(raw, processed))
        reads.append(_raw_read(paths))
    seconds = [i["seconds"] for i in ingests]
    cpu = [i["cpu_seconds"] for i in ingests]
    raw_seconds = [r[0] for r in reads]
    raw_cpu = [r[1] for r in reads]
    import pandas as pd

    start = time.perf_counter()
    for p in paths:
        pd.read_excel(p, sheet_name=None, header=None, engine="openpyxl")
    openpyxl_seconds = time.perf_counter() - start
    return {
        "workbooks": len(paths), "rows": ingests[-1]["rows"], "repeat": len(ingests),
        "seconds": round(median(seconds), 3), "raw_calamine_seconds": round(median(raw_seconds), 3),
        "openpyxl_pandas_seconds": round(openpyxl_seconds, 3),
        "peak_rss_mb": round(max(i["peak_rss_mb"] for i in ingests), 1),
        "cells": reads[-1][2],
        # CPU seconds (ingest: its process and its pool workers), which a busy machine does
        # not inflate as it does wall-clock time; the raw read is serial, the ingest may use
        # two cores, so the wall ratio can be better than the CPU ratio
        "cpu_seconds": round(median(cpu), 3),
        "raw_calamine_cpu_seconds": round(median(raw_cpu), 3),
        # each repeat's ingest over the raw read that followed it; the median of those
        "ratio": _median_ratio(seconds, raw_seconds),
        "cpu_ratio": _median_ratio(cpu, raw_cpu),
        "seconds_runs": [round(x, 3) for x in seconds],
        "raw_calamine_seconds_runs": [round(x, 3) for x in raw_seconds],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


class AttainmentOnce(TypedDict):
    """What one first ``compute_attainment`` call (``attainment_once``) measured."""

    rows: int
    seconds: float
    cpu_seconds: float
    output_rows: int


def attainment_once(raw: Path, processed: Path, rows: int) -> AttainmentOnce:
    """The first ``compute_attainment`` call of this process (a fresh one), as a report makes
    it, on ``rows`` indicator rows: the province of ``raw`` (read from the warm cache in
    ``processed``) observed over as many years as it takes."""
    import pandas as pd

    from ntm_analysis.attainment import compute_attainment
    from ntm_analysis.ingest import load_raw_dir
    from ntm_analysis.schema import Ind

    indicators = load_raw_dir(raw, processed_dir=processed).result.indicators
    copies = max(1, -(-rows // max(len(indicators), 1)))
    # the same province observed over many years: distinct units × years, realistic texts
    big = pd.concat([indicators.assign(**{Ind.year: indicators[Ind.year] + i})
                     for i in range(copies)], ignore_index=True).iloc[:rows]
    big = big.reset_index(drop=True)
    start, cpu = time.perf_counter(), time.process_time()
    att = compute_attainment(big)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"rows": len(big), "seconds": seconds, "cpu_seconds": cpu, "output_rows": len(att)}


def bench_attainment(raw: Path, processed: Path, rows: int,
                     repeat: int = 3) -> dict[str, object]:
    """``attainment_once`` ``repeat`` times, each in a new interpreter: the median seconds and
    CPU seconds, and each run's (``seconds_runs``, ``cpu_seconds_runs``)."""
    from statistics import median

    runs: list[AttainmentOnce] = [
        _in_new_process(["--attainment-once", str(raw), str(processed), str(rows)], "attainment")
        for _ in range(max(1, repeat))]
    seconds = [r["seconds"] for r in runs]
    cpu = [r["cpu_seconds"] for r in runs]
    return {"rows": runs[0]["rows"], "repeat": len(runs),
            "seconds": round(median(seconds), 3), "cpu_seconds": round(median(cpu), 3),
            "seconds_runs": [round(x, 3) for x in seconds],
            "cpu_seconds_runs": [round(x, 3) for x in cpu],
            "output_rows": runs[0]["output_rows"]}


#: Additions of the reference loop (about 0.1 s of one core on our machine).
REFERENCE_ADDITIONS = 2_000_000


def reference_loop(additions: int = REFERENCE_ADDITIONS) -> float:
    """Seconds a fixed pure-Python loop takes now: the host's speed at this moment.

    On a shared virtual machine the same work takes up to twice as long in a slow spell of the
    host as in a fast one, CPU time included; the loop, timed before and after each part,
    tells the reader of a figure which spell it was measured in.
    """
    start = time.perf_counter()
    total = 0
    for i in range(additions):
        total += i
    return time.perf_counter() - start


def _cpu_now() -> float:
    """CPU seconds used so far by this process and its finished (waited-for) descendants.

    From ``getrusage`` (microsecond resolution; ``os.times`` counts in 10 ms ticks, too coarse
    for the quick benchmark's fraction of a second).
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _cpu_since(before: float) -> float:
    """CPU seconds used since ``before`` (a ``_cpu_now()``) by this process and descendants."""
    return _cpu_now() - before


def bench_batch(raw: Path, work: Path, reports: int, workers: int,
                notebook: Path, fork_kernels: bool = True,
                repeat: int = 1, strict: bool = True) -> dict[str, object]:
    from statistics import median

    from ntm_analysis.batch import plan_from_raw_dir, run_batch
    from ntm_analysis.ingest import CACHE_DIR
    from ntm_analysis.money_cache import MONEY_GLOB

    plan = plan_from_raw_dir(raw, processed_dir=work / "processed")
    plan.runs = plan.runs[:reports]

    def one(label: str, n: int, spares: bool, forks: bool) -> tuple[float, float]:
        # each run starts from the same cache: the plan's packs, and no workbook's budget and
        # income tables (which the first run would otherwise leave for the others to read)
        for entry in (work / "processed" / CACHE_DIR).glob(MONEY_GLOB):
            entry.unlink()
        start, times = time.perf_counter(), _cpu_now()
        result = run_batch(plan, notebook=notebook, out_dir=work / f"batch_{label}", workers=n,
                           resume=False, spare_kernels=spares, fork_kernels=forks)
        seconds, cpu = time.perf_counter() - start, _cpu_since(times)
        failed = [o for o in result.outcomes if o.status != "ok"]
        if failed:
            raise SystemExit(f"batch run failed: {failed[0].run_id}: {failed[0].error}")
        return seconds, cpu

    # "serial" is one worker as a batch runs it by default: its spare kernel starts (and
    # imports) while the previous report runs, on the second core. The two batches are run
    # ``repeat`` times as pairs, taking turns at going first, so that a slow spell of the host
    # slows both of a pair and a drift over the pairs favours neither; the figures are the
    # medians, the speed-up the median of the pairs' ratios. "strict_serial" (once) is one
    # worker without spare kernels, one report strictly after the other, with plain kernels
    # (no fork server): the reference of every change to how kernels start; without
    # ``strict`` it is not run and its figures are None.
    runs: dict[str, list[tuple[float, float]]] = {"parallel": [], "serial": []}
    for i in range(max(1, repeat)):
        order = [("parallel", workers), ("serial", 1)]
        for label, n in order[::-1] if i % 2 else order:
            runs[label].append(one(label, n, True, fork_kernels))
    strict_seconds, strict_cpu = one("strict_serial", 1, False, False) if strict else (None, None)
    par = [s for s, _ in runs["parallel"]]
    ser = [s for s, _ in runs["serial"]]
    par_cpu = [c for _, c in runs["parallel"]]
    ser_cpu = [c for _, c in runs["serial"]]
    n_runs = max(len(plan.runs), 1)
    seconds = median(par)
    return {"reports": len(plan.runs), "workers": workers, "repeat": len(par),
            "seconds": round(seconds, 3),
            "serial_seconds": round(median(ser), 3),
            "strict_serial_seconds": _rounded(strict_seconds),
            "seconds_per_report": round(seconds / n_runs, 3),
            "speedup": _median_ratio(ser, par),
            "strict_speedup": _ratio(strict_seconds, seconds, 2),
            "speedup_basis": "speedup: the median over the pairs of each pair's serial seconds "
                             "(1 worker, spare kernels on, as a batch runs by default) over its "
                             "parallel seconds; "
                             "strict_speedup: strict_serial_seconds (1 worker, no spare kernel, "
                             "plain kernels, once) over the median seconds",
            "seconds_runs": [round(x, 3) for x in par],
            "serial_seconds_runs": [round(x, 3) for x in ser],
            "cpu_seconds_runs": [round(c, 3) for c in par_cpu],
            "serial_cpu_seconds_runs": [round(c, 3) for c in ser_cpu],
            "fork_kernels": fork_kernels,
            # CPU seconds of the batch (this process, its workers and their kernels): what a
            # report costs whatever else the machine is doing (medians)
            "cpu_seconds_per_report": round(median(par_cpu) / n_runs, 3),
            "serial_cpu_seconds_per_report": round(median(ser_cpu) / n_runs, 3),
            # cores kept busy (CPU seconds over seconds, median of the batches): the speed-up is
            # about their ratio times the serial batch's CPU over the parallel one's
            "cores_busy": _cores_busy(par, par_cpu),
            "serial_cores_busy": _cores_busy(ser, ser_cpu),
            "strict_serial_cpu_seconds_per_report": _ratio(strict_cpu, n_runs),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "notebook": notebook.name}


def _rounded(value: float | None, digits: int = 3) -> float | None:
    """``round(value, digits)``; None (a part not run) stays None."""
    return None if value is None else round(value, digits)


def _ratio(value: float | None, by: float, digits: int = 3) -> float | None:
    """``value / by`` rounded; None (a part not run) stays None, a zero ``by`` divides by 1e-9."""
    return None if value is None else round(value / max(by, 1e-9), digits)


def wants_strict_serial(*, quick: bool, asked: bool | None) -> bool:
    """Whether the batch part times the strictly serial batch: as ``--strict-serial`` or
    ``--no-strict-serial`` asks, else at full size only (in the quick size it takes about
    twice as long as a 1-worker batch: 30 s of the two minutes on our host).

    Examples
    --------
    >>> wants_strict_serial(quick=False, asked=None), wants_strict_serial(quick=True, asked=None)
    (True, False)
    >>> wants_strict_serial(quick=True, asked=True), wants_strict_serial(quick=False, asked=False)
    (True, False)
    """
    return not quick if asked is None else asked


def _cores_busy(seconds: list[float], cpu_seconds: list[float]) -> float:
    """Median over batches of the cores each kept busy on average (its CPU over its time).

    >>> _cores_busy([10.0, 12.0, 9.0], [19.0, 21.6, 18.0])
    1.9
    """
    from statistics import median

    return round(median(c / max(s, 1e-9) for s, c in zip(seconds, cpu_seconds, strict=True)),
                 2)


def byte_compile() -> bool:
    """Byte-compile the package's modules (those not compiled yet): True if all compiled.

    A regular ``pip install`` leaves the package compiled; an editable one (``make install``,
    ``pip install -e .``) relies on Python writing ``__pycache__`` on first import, which
    ``PYTHONDONTWRITEBYTECODE`` (set on our machine) turns off: then every process the
    benchmark starts (the batch's kernel template, its workers) would compile every module it
    imports from source again, about 0.15 s at each batch's start. Compiled first, the figures
    are those of an installed package. Stale files are never used: Python checks each one
    against its source.
    """
    import compileall

    import ntm_analysis

    return bool(compileall.compile_dir(Path(ntm_analysis.__file__).parent, quiet=1))


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced size (under 2 minutes)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--communes", type=int, help="override the number of communes")
    parser.add_argument("--attainment-rows", type=int, help="override the attainment rows")
    parser.add_argument("--reports", type=int, help="override the number of batch reports")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--notebook", type=Path, default=READINESS_NOTEBOOK,
                        help="notebook of the batch (default: the readiness report"
                             " notebooks/10_readiness.ipynb)")
    parser.add_argument("--no-fork-kernels", action="store_true",
                        help="batch kernels started as new interpreters, not forked from the "
                             "worker's warm template (the reference before the fork server)")
    parser.add_argument("--strict-serial", action=argparse.BooleanOptionalAction, default=None,
                        help="also time the strictly serial batch (1 worker, plain kernels, no"
                             " spare kernel; once): by default at full size, not with --quick")
    parser.add_argument("--work", type=Path, default=None, help="keep generated files here")
    parser.add_argument("--repeat", type=int, default=3,
                        help="cold ingests (each in a new process) and raw reads, interleaved,"
                             " and pairs of batches (2 workers, 1 worker), taking turns at"
                             " going first; the figures are their medians (default: 3)")
    parser.add_argument("--ingest-once", nargs=2, type=Path, metavar=("RAW", "PROCESSED"),
                        help=argparse.SUPPRESS)  # one cold ingest, as JSON (the repeats' run)
    parser.add_argument("--attainment-once", nargs=3, metavar=("RAW", "PROCESSED", "ROWS"),
                        help=argparse.SUPPRESS)  # one first attainment call, as JSON
    args = parser.parse_args(argv)
    if args.ingest_once:
        once = ingest_once(*args.ingest_once)
        print(json.dumps(once))
        return dict(once)
    if args.attainment_once:
        raw_arg, processed_arg, rows_arg = args.attainment_once
        first = attainment_once(Path(raw_arg), Path(processed_arg), int(rows_arg))
        print(json.dumps(first))
        return dict(first)
    size = dict(SIZES["quick" if args.quick else "full"])
    for key in ("communes", "attainment_rows", "reports"):
        if getattr(args, key) is not None:
            size[key] = getattr(args, key)
    notebook = args.notebook.resolve()
    from ntm_analysis.synth import write_province

    def log(msg: str) -> None:
        if not args.json:
            print(msg, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="ntm-bench-") as tmp:
        work = args.work or Path(tmp)
        raw = work / "raw"
        log(f"generating {size['communes']} commune workbooks in {raw} ...")
        start = time.perf_counter()
        if not (raw.is_dir() and len(list(raw.glob("*.xlsx"))) == size["communes"]):
            write_province(raw, communes=size["communes"], seed=2024, workers=args.workers)
        log(f"  {time.perf_counter() - start:.1f} s")
        loops = [reference_loop()]
        out: dict[str, object] = {"size": "quick" if args.quick else "full", **size,
                                  "machine": machine(), "byte_compiled": byte_compile(),
                                  "host": {"reference_additions": REFERENCE_ADDITIONS,
                                           "reference_loop_seconds": loops}}
        (work / "processed").mkdir(parents=True, exist_ok=True)
        log(f"ingest ({args.repeat} cold runs, each in a new process) ...")
        out["ingest"] = bench_ingest(raw, work, args.repeat)
        log(f"  {out['ingest']}")
        loops.append(reference_loop())
        log(f"attainment ({args.repeat} first calls, each in a new process) ...")
        out["attainment"] = bench_attainment(raw, work / "processed", size["attainment_rows"],
                                             args.repeat)
        log(f"  {out['attainment']}")
        loops.append(reference_loop())
        if size["reports"] > 0:
            strict = wants_strict_serial(quick=args.quick, asked=args.strict_serial)
            log(f"batch with {notebook.name} ({args.repeat} pairs of batches"
                f"{', then one strict serial' if strict else ''}) ...")
            out["batch"] = bench_batch(raw, work, size["reports"], args.workers, notebook,
                                       fork_kernels=not args.no_fork_kernels,
                                       repeat=args.repeat, strict=strict)
            log(f"  {out['batch']}")
            loops.append(reference_loop())
        loops[:] = [round(x, 3) for x in loops]
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    return out


if __name__ == "__main__":
    main()
