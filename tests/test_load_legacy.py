"""The loader reads TCVN3 and VNI workbooks like Unicode ones and says which cells it converted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from openpyxl.styles import Font

from ntm_analysis.errors import InputError
from ntm_analysis.legacy import TCVN3, VNI, fix_grid, from_unicode, workbook_font_encoding
from ntm_analysis.load import load_workbook
from ntm_analysis.schema import Ind, Iss

CORPUS = Path(__file__).resolve().parent / "data" / "with-problems"
#: The table the corpus generator (make_corpus.legacy_workbook) encodes, cell for cell.
ROWS = [
    ["TT", "Tên chỉ tiêu", "Kết quả rà soát", "Tự đánh giá"],
    ["1", "Thu nhập bình quân đầu người", "52,5 triệu đồng", "Đạt"],
    ["2", "Tỷ lệ hộ nghèo đa chiều", "3,2%", "Chưa đạt"],
    ["3", "Xóm Cạm Phước có nhà văn hóa", "Có", "Đạt"],
]
#: Columns that come from the cells (provenance's file name differs between the twins).
COMPARED = [Ind.source_sheet, Ind.source_row, Ind.unit, Ind.criterion_no, Ind.indicator_no,
            Ind.indicator_name, Ind.target_text, Ind.value_text, Ind.value, Ind.value_unit,
            Ind.self_assessment, Ind.note]


def _write(path: Path, rows: list[list[str]], *, encoding: str | None = None,
           font: str = "Times New Roman") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Xa"
    for r, row in enumerate(rows, start=1):
        for c, text in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c,
                           value=from_unicode(text, encoding) if encoding else text)
            cell.font = Font(name=font)
    wb.save(path)
    return path


def _legacy_warnings(issues: pd.DataFrame) -> pd.DataFrame:
    return issues[issues[Iss.code] == "legacy_encoding"].reset_index(drop=True)


@pytest.mark.parametrize(("name", "label"), [
    ("legacy-tcvn3.xlsx", "TCVN3 (ABC, .VnTime fonts)"),
    ("legacy-vni.xlsx", "VNI (VNI-Times fonts)"),
])
def test_corpus_legacy_file_loads_like_its_unicode_twin(tmp_path: Path, name: str,
                                                        label: str) -> None:
    twin = load_workbook(_write(tmp_path / "unicode.xlsx", ROWS))
    legacy = load_workbook(CORPUS / name)
    assert len(twin.indicators) == len(ROWS) - 1
    pd.testing.assert_frame_equal(legacy.indicators[COMPARED], twin.indicators[COMPARED])
    assert legacy.indicators[Ind.indicator_name].tolist() == [r[1] for r in ROWS[1:]]
    assert legacy.indicators[Ind.self_assessment].tolist() == ["met", "not_met", "met"]
    # the twin has no legacy warning; the legacy file has exactly one for its sheet
    assert _legacy_warnings(twin.issues).empty
    warnings = _legacy_warnings(legacy.issues)
    assert len(warnings) == 1
    row = warnings.iloc[0]
    assert (row[Iss.source_file], row[Iss.source_sheet], row[Iss.severity]) == (
        name, "Xa", "warning")
    # every non-ASCII cell of ROWS is named: B1:D1, B2:D2, B3, D3, B4:D4 (C3 '3,2%' is ASCII)
    assert row[Iss.problem] == (
        f"11 cell(s) typed in the legacy {label} encoding were converted to Unicode (expected "
        f"Unicode text; e.g. '{from_unicode(ROWS[0][1], 'tcvn3' if 'TCVN3' in label else 'vni')}'"
        f" read as '{ROWS[0][1]}'): cells B1:D1, B2:D2, B3, D3, B4:D4")


@pytest.mark.parametrize("encoding", [TCVN3, VNI])
def test_legacy_header_words_are_matched_after_conversion(tmp_path: Path,
                                                          encoding: str) -> None:
    """Without conversion 'HiÖn tr¹ng' would not be recognised as the result column.

    The title is in capitals: TCVN3 has no codes for toned capitals ('PH¦îNG'), so a word
    written in capitals comes back in capitals.
    """
    rows = [["XÃ KIM PHƯỢNG - NĂM 2024", "", "", ""],
            ["TT", "Nội dung", "Hiện trạng", "Tự đánh giá"], *ROWS[1:]]
    path = _write(tmp_path / "t.xlsx", rows, encoding=encoding)
    result = load_workbook(path)
    assert result.errors.empty
    assert result.indicators[Ind.value_text].tolist() == ["52,5 triệu đồng", "3,2%", "Có"]
    assert set(result.indicators[Ind.year]) == {2024}
    assert set(result.indicators[Ind.unit]) == {"Kim Phượng"}


def test_one_warning_per_sheet_however_many_cells(tmp_path: Path) -> None:
    rows = [ROWS[0]] + [[str(i), f"Chỉ tiêu số {i} của xóm", "Có", "Đạt"]
                        for i in range(1, 301)]
    path = _write(tmp_path / "big.xlsx", rows, encoding=TCVN3, font=".VnTime")
    result = load_workbook(path)
    warnings = _legacy_warnings(result.issues)
    assert len(warnings) == 1
    problem = warnings.iloc[0][Iss.problem]
    assert problem.startswith("903 cell(s) typed in the legacy TCVN3")
    assert problem.endswith("… and 271 more")  # 301 rows listed as ranges, 30 shown
    assert len(result.indicators) == 300
    assert set(result.indicators[Ind.self_assessment]) == {"met"}


def test_short_cells_follow_the_sheet_encoding() -> None:
    # 'Cã' alone is undecidable (a name?); beside sure TCVN3 cells it is 'Có'
    fix = fix_grid([[from_unicode("Kết quả rà soát", TCVN3), from_unicode("Có", TCVN3)]])
    assert fix.rows == [["Kết quả rà soát", "Có"]]
    alone = fix_grid([[from_unicode("Có", TCVN3)]])
    assert alone.rows == [[from_unicode("Có", TCVN3)]] and not alone.converted


def test_declared_legacy_font_decides_short_cells(tmp_path: Path) -> None:
    # 'Cã' and 'Tá' read as Vietnamese either way; a declared .VnTime font settles it
    cells = [[from_unicode("Có", TCVN3), from_unicode("Tỏ", TCVN3)]]
    assert cells == [["Cã", "Tá"]]
    assert fix_grid(cells).rows == cells
    assert fix_grid(cells, font_encoding=TCVN3).rows == [["Có", "Tỏ"]]
    # ... but not in a sheet whose other cells are plainly Unicode
    mixed = [["Có", "Kết quả"]]
    assert fix_grid(mixed, font_encoding=TCVN3).rows == mixed
    path = _write(tmp_path / "font.xlsx", [["Có", "Tỏ"]], encoding=TCVN3, font=".VnTime")
    assert workbook_font_encoding(path) == TCVN3
    assert workbook_font_encoding(_write(tmp_path / "plain.xlsx", [["Có"]])) is None


def test_unsure_cells_are_named_and_kept(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    path = _write(tmp_path / "u.xlsx", rows)
    wb_rows = [["TT", "Tên", "Kết quả", "Đánh giá"], ["1", "xyz ¤¤ ®®q", "5", "Đạt"]]
    fix = fix_grid(wb_rows)
    assert fix.rows == wb_rows and fix.unsure == [(1, 1)]
    from openpyxl import load_workbook as open_wb

    wb = open_wb(path)
    wb.active["B3"] = "xyz ¤¤ ®®q"
    wb.save(path)
    result = load_workbook(path)
    warnings = _legacy_warnings(result.issues)
    assert warnings[Iss.problem].tolist() == [
        "1 cell(s) hold characters of a legacy Vietnamese encoding (TCVN3 or VNI) but could "
        "not be read in either: expected Unicode text; kept as written: cells B3"]
    assert "xyz ¤¤ ®®q" in result.indicators[Ind.indicator_name].tolist()


def test_input_grid_is_not_modified() -> None:
    rows = [[from_unicode("Chưa đạt", TCVN3)]]
    before = [list(r) for r in rows]
    fix_grid(rows)
    assert rows == before


def _all_grids() -> list[list[list[object]]]:
    from ntm_analysis.cells import read_sheets

    root = Path(__file__).parents[1]
    paths = sorted((root / "data" / "raw").glob("*.xlsx")) + sorted(
        (root / "tests" / "data" / "with-problems").glob("*.xlsx"))
    grids = []
    for path in paths:
        try:
            grids += [g.rows for g in read_sheets(path)]
        except InputError:
            continue  # the corpus's unreadable files
    return grids


@pytest.mark.parametrize("font_encoding", [None, TCVN3, VNI])
def test_sheet_wide_test_gives_what_judging_every_cell_gives(font_encoding: str | None) -> None:
    from ntm_analysis.legacy import _fix_cells

    grids = _all_grids() + [
        [["TT", 1.0, None], ["Có", "Kết quả", 2]],  # Latin-1 Vietnamese beside numbers
        [[from_unicode("Kết quả rà soát", VNI), 3.5]],  # a VNI pair among numbers
        [["xyz ¤¤ ®®q", "Đạt"]],  # an unsure cell
        [["Cã", "Tá"]], [["café", "naïve"]], [[""]], [],
    ]
    assert len(grids) > 30
    for rows in grids:
        fast, full = fix_grid(rows, font_encoding=font_encoding), _fix_cells(rows, font_encoding)
        assert (fast.rows, fast.converted, fast.unsure) == (full.rows, full.converted,
                                                             full.unsure), rows[:3]
