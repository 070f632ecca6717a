"""The real readiness notebook on a commune that is not the sample: synthetic, no smart hamlet."""

from __future__ import annotations

from pathlib import Path

import pytest

from ntm_analysis.run import build_report
from ntm_analysis.synth import write_province


@pytest.mark.slow
def test_readiness_report_for_a_synthetic_commune_without_smart_hamlet(tmp_path: Path) -> None:
    communes = write_province(tmp_path / "raw", communes=1, hamlets=(3, 3), seed=11)
    paths = sorted((tmp_path / "raw").glob("*.xlsx"))
    assert len(paths) == 1
    result = build_report(paths, out_dir=tmp_path / "run", year=2024, lang="vi")
    assert result.ok, result.manifest.get("error")
    html = result.html_path.read_text(encoding="utf-8") if result.html_path else ""
    assert communes[0].name in html
    # every hamlet of the workbook is in the report; the smart-hamlet chart is drawn, empty
    assert all(h in html for h in communes[0].hamlets)
    assert (tmp_path / "run" / "figures" / "smart_hamlet_heatmap.png").exists()
