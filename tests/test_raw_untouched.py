"""The whole flow never writes to the raw folder: every hash is unchanged, no file appears."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ntm_analysis.cli import cli

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_full_flow_leaves_raw_files_untouched(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    before = _hashes(raw)
    assert len([n for n in before if n.endswith(".xlsx")]) >= 5
    workbooks = sorted(str(p) for p in raw.glob("*.xlsx"))
    runner = CliRunner()
    steps = [
        ["ingest", str(raw), "--out", str(tmp_path / "processed")],
        ["summary", *workbooks],
        ["report", str(raw), "--out", str(tmp_path / "report"), "--year", "2024"],
        ["funding", *workbooks],
        ["income", *workbooks],
    ]
    for args in steps:
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (args[0], result.output, result.stderr)
        assert "Traceback" not in result.output + result.stderr
    assert (tmp_path / "processed").is_dir() and any((tmp_path / "report").glob("*.html"))
    # a second ingest (the cached path) must not write there either
    assert runner.invoke(cli, steps[0]).exit_code == 0
    after = _hashes(raw)
    assert after == before  # same files, same bytes: nothing changed, nothing new
