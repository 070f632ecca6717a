"""Every notebook of the suite runs through the runner on the sample data: manifest and HTML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ntm_analysis.run import run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_its_defaults_and_writes_a_complete_run_folder(
        notebook: Path, tmp_path: Path) -> None:
    result = run_notebook(notebook, parameters={}, out_dir=tmp_path / "run")
    assert result.ok
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    assert manifest["status"] == "ok"
    assert manifest["notebook"].endswith(notebook.name)
    # the inputs are the sample workbooks, each with its hash
    inputs = {Path(i["path"]).name: i["sha256"] for i in manifest["inputs"]}
    assert "kim_phuong_2024_xa_kieu_mau.xlsx" in inputs or "kim_phuong_2024_thu_nhap.xlsx" in inputs
    assert all(len(h) == 64 for h in inputs.values())
    written = {Path(f["path"]).name for f in manifest["files"]}
    assert f"{notebook.stem}.html" in written
    html = result.html_path.read_text(encoding="utf-8") if result.html_path else ""
    assert "<html" in html
    assert "from ntm_analysis" not in html and "import " not in html  # no code cells
    assert "data:image/png;base64" in html
    assert "<script src=" not in html


@pytest.mark.slow
@pytest.mark.parametrize("notebook", ["10_readiness", "20_hamlet_gaps"])
def test_an_indicator_the_catalogue_does_not_know_runs_through_the_reports(
        notebook: str, tmp_path: Path) -> None:
    """Indicator 9.9, in no catalogue and with no name, unmet: its catalogue status and name
    are missing (NA), which stopped the hamlet gaps report ('boolean value of NA is
    ambiguous'); both reports list it."""
    import openpyxl

    raw = tmp_path / "raw"
    raw.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Xóm Ao Sen"
    for row in [["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NTM KIỂU MẪU NĂM 2024"],
                ["XÓM AO SEN - XÃ KIM PHƯỢNG"],
                ["TT", "Nội dung tiêu chí", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá"],
                ["1", "Quy hoạch"], ["1.1", "Có quy hoạch chi tiết xóm", "Có", "Có", "Đạt"],
                ["9", None], ["9.9", None, "≥ 90%", "50%", "Chưa đạt"]]:
        ws.append(row)
    wb.save(raw / "ao_sen.xlsx")
    result = run_notebook(ROOT / "notebooks" / f"{notebook}.ipynb",
                          parameters={"raw_dir": str(raw),
                                      "processed_dir": str(tmp_path / "processed")},
                          out_dir=tmp_path / "run")
    assert result.ok, result.manifest.get("error")
    html = result.html_path.read_text(encoding="utf-8") if result.html_path else ""
    assert "9.9" in html
