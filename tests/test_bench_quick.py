"""The benchmark script runs end to end at a tiny size and prints the documented JSON keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_tiny_json(tmp_path) -> None:
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
    assert out["attainment"]["rows"] == 5000
    assert out["attainment"]["cpu_seconds"] > 0
    assert out["machine"]["cores"] >= 1
    assert out["byte_compiled"] is True  # the package's modules are compiled before timing
    assert "batch" not in out  # --reports 0
    # generated input stays in the work folder, nothing in the repository
    assert not (ROOT / "raw").exists()
