"""The benchmark script runs end to end at a tiny size and prints the documented JSON keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_tiny_json(tmp_path) -> None:
    from statistics import median

    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--json", "--communes", "2",
         "--attainment-rows", "5000", "--reports", "0", "--repeat", "2", "--work", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=True)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    ingest = out["ingest"]
    assert set(ingest) >= {"workbooks", "rows", "seconds", "raw_calamine_seconds",
                           "openpyxl_pandas_seconds", "peak_rss_mb", "cpu_seconds",
                           "raw_calamine_cpu_seconds", "ratio", "cpu_ratio"}
    assert ingest["workbooks"] == 2 == len(list((tmp_path / "raw").glob("*.xlsx")))
    # two cold ingests, each in a process of its own, interleaved with two raw reads
    assert ingest["repeat"] == 2 == len(ingest["seconds_runs"])
    assert len(ingest["raw_calamine_seconds_runs"]) == 2
    assert min(ingest["seconds_runs"]) <= ingest["seconds"] <= max(ingest["seconds_runs"])
    assert ingest["rows"] > 0 and ingest["peak_rss_mb"] > 0
    assert ingest["cpu_seconds"] > 0 and ingest["raw_calamine_cpu_seconds"] >= 0
    attainment = out["attainment"]
    assert attainment["rows"] == 5000 and attainment["output_rows"] >= 5000
    # two first calls, each in a new process; the figures are their medians
    assert attainment["repeat"] == 2 == len(attainment["seconds_runs"])
    assert attainment["seconds"] == pytest.approx(median(attainment["seconds_runs"]), abs=0.001)
    assert attainment["cpu_seconds"] == pytest.approx(median(attainment["cpu_seconds_runs"]),
                                                      abs=0.001)
    assert attainment["cpu_seconds"] > 0
    assert out["machine"]["cores"] >= 1
    assert out["byte_compiled"] is True  # the package's modules are compiled before timing
    assert "batch" not in out  # --reports 0
    # the reference loop: at the start, after the ingest and after the attainment
    loops = out["host"]["reference_loop_seconds"]
    assert len(loops) == 3 and all(0 < x < 60 for x in loops)
    assert out["host"]["reference_additions"] > 0
    # generated input stays in the work folder, nothing in the repository
    assert not (ROOT / "raw").exists()


def _bench_module() -> ModuleType:
    """``benchmarks/run.py`` imported as a module (it is a script, not in the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_speedups_are_medians_of_the_pairs_ratios() -> None:
    """Each pair is divided first, then the median taken: one slow spell of the host slows
    both of a pair, which a ratio of the medians would not cancel."""
    median_ratio = _bench_module()._median_ratio
    # serial, parallel per pair: ratios 1.0, 5.0 and 0.5 (median 1.0); the medians' ratio is 2.0
    assert median_ratio([1.0, 10.0, 4.0], [1.0, 2.0, 8.0]) == 1.0
    assert median_ratio([3.4, 3.5], [2.0, 1.9]) == round((3.4 / 2.0 + 3.5 / 1.9) / 2, 2)
    with pytest.raises(ValueError):  # runs and floors come in pairs
        median_ratio([1.0, 2.0], [1.0])


def test_benchmark_batch_pairs_json(tmp_path) -> None:
    """The batch part: pairs of batches (2 workers, 1 worker) taking turns, then one strict
    serial batch; the figures are the pairs' medians, the speed-up the median of their ratios."""
    from statistics import median

    notebook = ROOT / "tests" / "data" / "notebooks" / "batch_fixture.ipynb"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--json", "--communes", "3",
         "--attainment-rows", "1000", "--reports", "2", "--workers", "2", "--repeat", "2",
         "--notebook", str(notebook), "--work", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=True)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    batch = out["batch"]
    assert len(out["host"]["reference_loop_seconds"]) == 4  # and one after the batch
    assert batch["reports"] == 2 and batch["workers"] == 2
    assert batch["repeat"] == 2 == len(batch["seconds_runs"]) == len(batch["serial_seconds_runs"])
    pairs = list(zip(batch["serial_seconds_runs"], batch["seconds_runs"], strict=True))
    assert batch["speedup"] == pytest.approx(median(s / p for s, p in pairs), abs=0.006)
    assert batch["seconds"] == pytest.approx(median(batch["seconds_runs"]), abs=0.001)
    assert batch["serial_seconds"] == pytest.approx(median(batch["serial_seconds_runs"]),
                                                    abs=0.001)
    assert batch["strict_serial_seconds"] > 0 and batch["cpu_seconds_per_report"] > 0
    # the cores each batch kept busy: its CPU over its time, never more than the machine has
    for key, label in (("cores_busy", ""), ("serial_cores_busy", "serial_")):
        runs = list(zip(batch[f"{label}seconds_runs"], batch[f"{label}cpu_seconds_runs"],
                        strict=True))
        assert batch[key] == pytest.approx(median(c / s for s, c in runs), abs=0.006)
        assert 0 < batch[key] <= (os.cpu_count() or 1) + 0.1
        assert batch[f"{label}cpu_seconds_per_report"] == pytest.approx(
            median(c for _, c in runs) / batch["reports"], abs=0.001)
    assert batch["notebook"] == notebook.name
    # every batch wrote its reports: the last pair's, and the strict serial one's
    for label in ("parallel", "serial", "strict_serial"):
        manifests = list((tmp_path / f"batch_{label}").glob("*/manifest.json"))
        assert len(manifests) == 2, label


def test_benchmark_docstring_examples() -> None:
    import doctest

    result = doctest.testmod(_bench_module())
    assert result.attempted > 0 and result.failed == 0


def test_benchmark_batch_without_the_strict_serial_batch(tmp_path) -> None:
    """``--no-strict-serial`` (the quick size's default) times the pairs only: the strict
    figures are null and no strictly serial batch ran."""
    notebook = ROOT / "tests" / "data" / "notebooks" / "batch_fixture.ipynb"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--json", "--communes", "2",
         "--attainment-rows", "1000", "--reports", "1", "--workers", "2", "--repeat", "1",
         "--no-strict-serial", "--notebook", str(notebook), "--work", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=True)
    batch = json.loads(proc.stdout.strip().splitlines()[-1])["batch"]
    assert batch["strict_serial_seconds"] is None and batch["strict_speedup"] is None
    assert batch["strict_serial_cpu_seconds_per_report"] is None
    assert batch["speedup"] > 0 and batch["repeat"] == 1
    assert len(list((tmp_path / "batch_parallel").glob("*/manifest.json"))) == 1
    assert len(list((tmp_path / "batch_serial").glob("*/manifest.json"))) == 1
    assert not (tmp_path / "batch_strict_serial").exists()
