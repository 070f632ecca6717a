"""Nothing lost: random valid appendix workbooks keep every data row through load, Parquet, Excel.

Hypothesis draws criteria and indicator counts, Vietnamese names, values, self-assessments, layout
variants (``sample.Layout``), one or two units, blank rows inside the table and a note row below
it. The properties:

* every indicator row of the sheet is in the tidy table (by ``source_row``) once per unit, and the
  tidy table holds no other rows;
* every other non-empty row below the header is a criterion (its name is some tidy row's
  ``criterion_name``) or is in the issues table;
* the row counts survive ``ingest.load_raw_dir`` (Parquet) and ``outputs.save_table`` (Excel).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntm_analysis.ingest import INDICATORS_FILE, ISSUES_FILE, load_raw_dir
from ntm_analysis.load import load_workbook
from ntm_analysis.outputs import save_table
from ntm_analysis.sample import Layout, UnitTable, write_appendix
from ntm_analysis.schema import Ind, Iss
from ntm_analysis.text import cell_text

# Words that are neither header words, footer starts nor numbering, so that names stay names.
WORDS = ["đường", "giao thông", "nông thôn", "hộ gia đình", "văn hóa", "môi trường", "nước sạch",
         "trường học", "y tế", "an ninh", "trật tự", "cảnh quan", "vườn mẫu", "sản xuất",
         "thu nhập", "nhà ở", "điện", "chợ", "thể thao", "hợp tác xã", "rác thải", "xanh",
         "sạch", "đẹp", "kiểu mẫu", "thông minh", "dân cư", "ngõ xóm", "bảo hiểm", "lao động"]
HAMLETS = ["Bản Lác", "Cạm Phước", "Ao Sen", "Phai Đá", "Nà Cọ", "Khuổi Chang"]
TARGETS = ["≥ 90%", "100%", "Đạt", "Có", "≥ 70 triệu đồng/người/năm", "Không có hộ nghèo",
           "≥ 01 mô hình", "≥ 1,1 lần"]
VALUES = st.one_of(
    st.none(),
    st.sampled_from(["95%", "86,5%", "Có", "Chưa có", "Đạt", "Chưa đạt", "0 hộ", "02 mô hình",
                     "71 triệu đồng", "1,15 lần", "100%", "  54,03 "]),
    st.integers(min_value=0, max_value=500),
    st.floats(min_value=0, max_value=1000, allow_nan=False).map(lambda x: round(x, 2)),
)
ASSESSMENTS = st.sampled_from(["Đạt", "Chưa đạt", None])


def _name(words: list[str]) -> str:
    text = " ".join(words)
    return text[:1].upper() + text[1:]


@st.composite
def appendices(draw: st.DrawFn) -> dict[str, object]:
    """Draw one appendix: its unit tables, layout and blank-row positions."""
    n_crit = draw(st.integers(1, 4))
    sizes = draw(st.lists(st.integers(1, 4), min_size=n_crit, max_size=n_crit))
    n_names = n_crit + sum(sizes)
    names = draw(st.lists(st.lists(st.sampled_from(WORDS), min_size=2, max_size=4, unique=True)
                          .map(_name), min_size=n_names, max_size=n_names,
                          unique_by=lambda s: s.casefold()))
    units = draw(st.lists(st.sampled_from(HAMLETS), min_size=1, max_size=2, unique=True))
    rows = []
    k = 0
    for c, size in enumerate(sizes, start=1):
        crit_name = names[k]
        k += 1
        for i in range(1, size + 1):
            rows.append({"criterion_no": str(c), "criterion_name": crit_name,
                         "indicator_no": f"{c}.{i}", "indicator_name": names[k],
                         "target_text": draw(st.sampled_from(TARGETS))})
            k += 1
    base = pd.DataFrame(rows)
    tables = []
    for unit in units:
        own = base.copy()
        own["value"] = draw(st.lists(VALUES, min_size=len(base), max_size=len(base)))
        own["assessment"] = draw(st.lists(ASSESSMENTS, min_size=len(base), max_size=len(base)))
        tables.append(UnitTable(f"Xóm {unit}", own))
    criteria = draw(st.sampled_from(["rows", "merged"]))
    layout = Layout(
        criteria=criteria,
        criterion_numbers=draw(st.sampled_from(["arabic", "roman"])),
        indicator_numbers=draw(st.sampled_from(["dotted", "restart", "prefix"])
                               if criteria == "rows" else st.sampled_from(["dotted", "none"])),
        header_rows=draw(st.sampled_from([1, 2])),
        column_numbers=draw(st.booleans()),
        assessment=draw(st.sampled_from(["words", "marks"])),
        nfd=draw(st.booleans()),
        note_row=draw(st.sampled_from([None, "Ghi chú: số liệu minh họa."])),
    )
    # blank rows inside the body only where no merged cells would have to move
    blanks = draw(st.lists(st.integers(0, len(rows) + n_crit), max_size=3)) \
        if criteria == "rows" else []
    return {"tables": tables, "layout": layout, "blanks": blanks}


def _write(path: Path, appendix: dict[str, object]) -> tuple[list[int], list[int]]:
    """Write the workbook; return the Excel rows of the indicators and the first body row."""
    tables: list[UnitTable] = appendix["tables"]  # type: ignore[assignment]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Phụ biểu"
    unit = tables[0].label if len(tables) == 1 else "XÃ KIM PHƯỢNG"
    titles = ["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU NĂM 2024", unit.upper()]
    write_appendix(ws, titles, tables, appendix["layout"])
    names = {cell_text(n) for n in tables[0].rows["indicator_name"]}
    layout: Layout = appendix["layout"]  # type: ignore[assignment]
    two = layout.header_rows == 2 or len(tables) > 1 or layout.assessment == "marks"
    body_start = len(titles) + 2 + (2 if two else 1) + (1 if layout.column_numbers else 0)
    for offset in sorted(appendix["blanks"], reverse=True):  # type: ignore[union-attr]
        ws.insert_rows(body_start + 1 + offset)
    wb.save(path)
    return _indicator_rows(path, names), [body_start]


def _indicator_rows(path: Path, names: set[str]) -> list[int]:
    ws = openpyxl.load_workbook(path).active
    rows = []
    for r in range(1, ws.max_row + 1):
        texts = [cell_text(ws.cell(r, c).value) for c in (2, 3)]
        if any(t in names or t.split(". ", 1)[-1] in names for t in texts):
            rows.append(r)
    return rows


def _non_empty_rows(path: Path, start: int) -> list[int]:
    ws = openpyxl.load_workbook(path).active
    return [r for r in range(start, ws.max_row + 1)
            if any(cell_text(c.value) for c in ws[r])]


#: Examples per run; CI keeps it small, ``NTM_PROPERTY_EXAMPLES=500`` searches harder.
MAX_EXAMPLES = int(os.environ.get("NTM_PROPERTY_EXAMPLES", "15"))


@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(appendices())
def test_every_data_row_is_kept_or_reported(appendix: dict[str, object]) -> None:
    tables: list[UnitTable] = appendix["tables"]  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        raw = root / "raw"
        raw.mkdir()
        path = raw / "phu_bieu_2024.xlsx"
        indicator_rows, (body_start,) = _write(path, appendix)
        assert len(indicator_rows) == len(tables[0].rows)

        result = load_workbook(path)
        tidy, issues = result.indicators, result.issues
        # every indicator row is in the tidy table once per unit, and nothing else is
        assert sorted(tidy[Ind.source_row].tolist()) == sorted(indicator_rows * len(tables))
        assert set(tidy[Ind.unit]) == {t.label for t in tables}
        # every other non-empty row is a criterion or an issue
        criteria = {cell_text(n) for n in tidy[Ind.criterion_name].dropna()}
        issue_rows = set(issues[Iss.source_row].dropna().astype(int))
        ws_rows = _non_empty_rows(path, body_start)
        for r in ws_rows:
            if r in indicator_rows or r in issue_rows:
                continue
            cells = openpyxl.load_workbook(path).active[r]
            texts = {cell_text(c.value) for c in cells if cell_text(c.value)}
            assert any(t in criteria or t.split(". ", 1)[-1] in criteria for t in texts), \
                f"row {r} ({texts}) is neither in the tidy table nor in the issues table"

        # the counts survive Parquet (through the ingest cache) and the Excel export
        processed = root / "processed"
        report = load_raw_dir(raw, processed_dir=processed)
        assert len(report.result.indicators) == len(tidy)
        parquet = pd.read_parquet(processed / INDICATORS_FILE)
        assert len(parquet) == len(tidy)
        assert sorted(parquet[Ind.source_row].tolist()) == sorted(tidy[Ind.source_row].tolist())
        assert len(pd.read_parquet(processed / ISSUES_FILE)) == len(report.result.issues)
        again = load_raw_dir(raw, processed_dir=processed)
        assert again.cached == [path.name] and len(again.result.indicators) == len(tidy)

        xlsx = save_table(parquet, "indicators", out_dir=root / "outputs")
        back = pd.read_excel(xlsx, engine="openpyxl")
        assert len(back) == len(tidy)
        assert sorted(back[Ind.source_row].tolist()) == sorted(tidy[Ind.source_row].tolist())
