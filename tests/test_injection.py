"""Hostile workbook text through the real readiness report: shown as text, never run.

A copy of the sample commune and hamlet workbooks gets markup, template and formula payloads in
unit, criterion and indicator names, values and notes; ``build_report`` runs the real notebook;
headless Chromium loads the HTML with a probe that records whether any payload ran, and a
control page (the same probe beside one unescaped payload) proves the probe sees execution.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from browser import render_dom, require_chromium

from ntm_analysis.load import load_workbooks
from ntm_analysis.run import build_report

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
SVG = '"><svg onload="window.__pwned=1">'
FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd", "@SUM(A1)", "-2+3"]
PROBE = ("<script>setTimeout(function(){document.body.setAttribute('data-pwned',"
         "String(window.__pwned||0))},300)</script>")


def _text(ws, ref: str, value: str) -> None:  # type: ignore[no-untyped-def]
    ws[ref] = value
    ws[ref].data_type = "s"  # keep '=…' a string in the input as a commune office would type it


def hostile_workbooks(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.load_workbook(RAW / "kim_phuong_2024_xa_kieu_mau.xlsx")
    ws = wb.worksheets[0]
    _text(ws, "B9", f"Sản xuất {{{{7*7}}}} {SCRIPT}")
    _text(ws, "B10", f"{SVG} vùng sản xuất")
    _text(ws, "F10", SCRIPT)
    for ref, payload in zip(["D11", "D12", "D13", "D14"], FORMULAS, strict=True):
        _text(ws, ref, payload)
    _text(ws, "F11", FORMULAS[0])
    commune = folder / "hostile_xa.xlsx"
    wb.save(commune)
    wb = openpyxl.load_workbook(RAW / "kim_phuong_2024_xom_kieu_mau.xlsx")
    ws = wb.worksheets[0]
    _text(ws, "D6", f"Xóm Cạm {SCRIPT}")
    _text(ws, "F6", IMG)
    hamlets = folder / "hostile_xom.xlsx"
    wb.save(hamlets)
    return [commune, hamlets]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path, Path]:
    base = tmp_path_factory.mktemp("injection")
    paths = hostile_workbooks(base / "in")
    result = build_report(paths, out_dir=base / "run")
    assert result.html_path is not None
    return paths, Path(result.html_path), base / "run"


def _probe_dom(html: str, folder: Path, name: str) -> str:
    page = folder / name
    page.write_text(html.replace("</body>", PROBE + "</body>", 1), encoding="utf-8")
    return render_dom(page)


@pytest.mark.slow
def test_report_shows_hostile_text_and_runs_none(report: tuple[list[Path], Path, Path],
                                                 tmp_path: Path) -> None:
    require_chromium()
    paths, html_path, _ = report
    units = set(load_workbooks(paths).indicators["unit"].dropna())
    assert f"Xóm {IMG}" in units  # the loader kept the name as typed
    html = html_path.read_text(encoding="utf-8")
    control = _probe_dom(html.replace("</body>", IMG + "</body>", 1), tmp_path, "control.html")
    assert 'data-pwned="1"' in control  # the probe sees a payload that runs
    dom = _probe_dom(html, tmp_path, "report.html")
    assert 'data-pwned="0"' in dom
    assert "<svg" not in dom and "onerror=" not in dom.replace(
        'onerror="window.__pwned=1"&gt;', "")
    assert "<script>window.__pwned" not in dom
    # the text is shown: in bullets (Markdown), table cells and column headers
    assert dom.count('Xóm &lt;img src=x onerror="window.__pwned=1"&gt;') >= 3
    assert 'col_heading level0 col2" id=' in dom
    assert "<li>Xóm &lt;img src=x onerror=" in dom  # attainment sentence
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in dom
    assert "@SUM(A1)" in dom  # the issues table shows the value not understood


@pytest.mark.slow
def test_excel_tables_keep_formula_text_as_text(report: tuple[list[Path], Path, Path]) -> None:
    _, _, run = report
    seen: set[str] = set()
    for table in sorted((run / "tables").glob("*.xlsx")):
        wb = openpyxl.load_workbook(table)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    value = cell.value
                    if isinstance(value, str) and value[:1] in "=+-@":
                        assert cell.data_type == "s", (table.name, cell.coordinate, value)
                    for payload in FORMULAS:
                        if isinstance(value, str) and payload in value:
                            seen.add(payload)
    assert {'=HYPERLINK("http://x","y")', "+cmd", "@SUM(A1)"} <= seen


def test_chart_labels_keep_the_text_literally() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from ntm_analysis.charts import plot_unit_attainment

    summary = pd.DataFrame({"unit": [f"Xóm {IMG}", f"Xóm $x$ {SCRIPT}"], "level": "hamlet",
                            "criteria_met": [3, 4], "criteria_total": [10, 10],
                            "indicators_met": [20, 25], "indicators_total": [31, 31]})
    ax = plot_unit_attainment(summary, lang="vi")
    labels = [t.get_text() for t in ax.get_yticklabels()] + [
        t.get_text() for t in ax.get_xticklabels()]
    assert any(f"Xóm {IMG}" in label for label in labels), labels


@pytest.mark.slow
def test_batch_index_shows_hostile_names_and_runs_none(tmp_path: Path) -> None:
    """The batch's index page in headless Chromium: unit and parent names, a failed run's
    error (a tooltip), a report link and an unread workbook's file name and problem, all
    from workbooks or the file system, are shown as text; no payload runs."""
    import pandas as pd

    from ntm_analysis.batch import UnreadFile, render_index

    require_chromium()
    row = {"parent": f"Huyện {SVG}", "rank": 1, "unit": f"Xã {IMG}", "level": "commune",
           "year": 2024, "criteria_met": 3, "criteria_total": 6, "indicators_met": 25,
           "indicators_total": 35, "run_id": "xa_2024", "status": "failed",
           "report": f'xa_2024/"{SVG}.html', "error": f"ValueError: {SCRIPT}", "seconds": 1.0,
           "commune": f"Xã {IMG}", "criteria_set": "xa_kieu_mau"}
    html = render_index(pd.DataFrame([row]), lang="vi",
                        unread=[UnreadFile(f"{SCRIPT}.xlsx", f"problem {IMG}")])
    control = _probe_dom(html.replace("</body>", IMG + "</body>", 1), tmp_path, "control.html")
    assert 'data-pwned="1"' in control  # the probe sees a payload that runs
    dom = _probe_dom(html, tmp_path, "index.html")
    assert 'data-pwned="0"' in dom
    assert "<svg" not in dom and "<img" not in dom
    assert 'Xã &lt;img src=x onerror="window.__pwned=1"&gt;' in dom
    assert "Huyện \"&gt;&lt;svg onload=" in dom
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;.xlsx" in dom
    assert 'problem &lt;img src=x onerror="window.__pwned=1"&gt;' in dom
