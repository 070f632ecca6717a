"""``ntm demo``, the Quickstart's main job (``make demo``), run as a user runs it: a new process
in a fresh copy of the project (its notebooks and bundled sample workbooks, nothing built yet)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Report 46/BC-UBND's counts (criteria met, indicators met) of each unit, as it published them:
#: the bundled sample workbooks are built to reproduce them.
REPORT_46 = {
    "Kim Phượng": ("3/6", "25/35"),
    "Xóm Cạm Phước": ("3/10", "23/31"),
    "Xóm Bản Lác": ("3/10", "23/31"),
    "Xóm Ao Sen": ("3/10", "22/31"),
    "Xóm Phai Đá": ("1/3", "6/10"),
}


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.slow
def test_demo_runs_the_main_job_on_the_sample_data_from_a_fresh_copy(tmp_path: Path) -> None:
    project = tmp_path / "ntm"
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    shutil.copytree(ROOT / "data" / "raw", project / "data" / "raw")
    raw_before = _hashes(project / "data" / "raw")
    env = {**os.environ, "NTM_PROJECT_ROOT": str(project)}
    demo = subprocess.run([sys.executable, "-m", "ntm_analysis", "demo"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert demo.returncode == 0, demo.stderr
    assert "Traceback" not in demo.stdout + demo.stderr

    # the attainment summary: one row a unit, with the report's counts
    rows = {}
    for line in demo.stdout.splitlines():
        found = re.match(r"^(\S.*?)\s{2,}(commune|hamlet)\s+(\d{4})\s+(\d+/\d+)\s+(\d+/\d+)\s",
                         line)
        if found:
            rows[found[1]] = found[4], found[5]
    assert rows == REPORT_46

    # the readiness report of the commune, in the run folder the command names
    (html_line,) = [line for line in demo.stdout.splitlines()
                    if line.startswith("readiness report: ")]
    html = Path(html_line.removeprefix("readiness report: "))
    assert html == project / "outputs" / "2024" / "kim-phuong" / "10_readiness.html"
    page = html.read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>") and "Kim Phượng" in page
    # the page title is the report's own heading (a browser tab, a bookmark), not "10_readiness"
    assert "<title>Kim Phượng: sẵn sàng công nhận xã NTM kiểu mẫu năm 2024?</title>" in page
    manifest = json.loads((html.parent / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["status"], manifest["error"]) == ("ok", None)
    assert manifest["parameters"]["commune"] == "Kim Phượng"
    assert manifest["parameters"]["lang"] == "vi"
    # every file of the raw folder is an input of the run, with its hash
    assert {f["path"]: f["sha256"] for f in manifest["inputs"]} == {
        f"data/raw/{name}": digest for name, digest in raw_before.items()}

    # the tidy tables in data/processed hold every unit's rows; raw data is never written
    indicators = pd.read_parquet(project / "data" / "processed" / "indicators.parquet")
    assert set(indicators["unit"].dropna()) >= {name for name in REPORT_46 if "Xóm" in name}
    assert _hashes(project / "data" / "raw") == raw_before
    left = [p for p in project.rglob(".*") if p.is_file()]
    assert left == [], left  # no temporary file anywhere

    # every file made has the permissions any program's plain write would give it (the umask's),
    # so the report can be shared with the group or a web server as the user's files are
    mask = os.umask(0o022)
    os.umask(mask)
    made = [p for folder in ("outputs", "data/processed") for p in (project / folder).rglob("*")
            if p.is_file()]
    assert len(made) > 30
    assert {p.relative_to(project).as_posix(): oct(p.stat().st_mode & 0o777) for p in made
            if p.stat().st_mode & 0o777 != 0o666 & ~mask} == {}
