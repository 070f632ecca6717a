"""Write the loader-level defect workbooks of ``tests/data/with-problems/``: one defect per file.

Each workbook is a small, otherwise valid appendix table ("phụ biểu") of Xóm Bản Lác with exactly
one thing wrong, named after the defect. Run it again after changing a defect:

    python tests/data/with-problems/make_loader_corpus.py

The expected messages live in ``tests/test_defects.py`` (``CASES``); the file-level defects (not a
workbook, encodings, passwords, XML attacks) are written by another script in this folder.
"""

from __future__ import annotations

import datetime as dt
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

HERE = Path(__file__).resolve().parent

TITLE = ["ỦY BAN NHÂN DÂN XÃ KIM PHƯỢNG",
         "KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU NĂM 2024",
         "XÓM BẢN LÁC - XÃ KIM PHƯỢNG"]
HEADER = ["TT", "Nội dung tiêu chí/chỉ tiêu", "Chỉ tiêu theo quy định", "Hiện trạng",
          "Tự đánh giá", "Ghi chú"]
#: The table body: criterion rows (number, name) and indicator rows (6 cells).
BODY: list[list[Any]] = [
    ["1", "Quy hoạch"],
    ["1.1", "Có quy hoạch chi tiết xóm", "Có", "Có", "Đạt", None],
    ["1.2", "Có bảng tên xóm", "Đạt", "Đạt", "Đạt", None],
    ["2", "Giao thông"],
    ["2.1", "Đường trục xóm được cứng hóa", "100%", "100%", "Đạt", None],
    ["2.2", "Đường ngõ, xóm sạch và đảm bảo đi lại", "≥ 90%", "86,5%", "Chưa đạt", None],
    ["2.3", "Tỷ lệ đường có rãnh thoát nước", "≥ 70%", "78%", "Đạt", None],
]
#: Excel row of the header (title rows, then one blank row).
HEADER_ROW = len(TITLE) + 2
#: Excel row of the first body row.
FIRST_ROW = HEADER_ROW + 1


def body() -> list[list[Any]]:
    """Return a fresh copy of the body rows."""
    return [list(r) for r in BODY]


def sheet(wb: openpyxl.Workbook, name: str = "Phụ biểu 02", *, title: list[str] | None = None,
          header: list[str] | None = None, rows: list[list[Any]] | None = None) -> Worksheet:
    """Fill the active sheet (or a new one) with title, header and body; return it."""
    ws = wb.active if wb.active is not None and wb.active.max_row == 1 and \
        wb.active["A1"].value is None and wb.active.title.startswith("Sheet") else \
        wb.create_sheet()
    ws.title = name
    for i, line in enumerate(TITLE if title is None else title, start=1):
        ws.cell(i, 1, line).font = Font(bold=True)
    for c, text in enumerate(HEADER if header is None else header, start=1):
        ws.cell(HEADER_ROW, c, text).font = Font(bold=True)
    for r, row in enumerate(body() if rows is None else rows, start=FIRST_ROW):
        for c, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(r, c, value)
    return ws


# --------------------------------------------------------------------------- the defects


def empty_workbook(wb: openpyxl.Workbook) -> None:
    """A workbook whose only sheet has no cells at all."""
    wb.active.title = "Phụ biểu 02"


def no_header_found(wb: openpyxl.Workbook) -> None:
    """The table has no header row: the data starts right under the title."""
    ws = sheet(wb, header=["", "", "", "", "", ""])
    ws.delete_rows(HEADER_ROW)


def missing_result_column(wb: openpyxl.Workbook) -> None:
    """The header names number, content and target, but no result and no assessment column."""
    rows = [r[:3] for r in body()]
    sheet(wb, header=HEADER[:3], rows=rows)


def missing_assessment_column(wb: openpyxl.Workbook) -> None:
    """Values but no self-assessment column (statuses come from the values alone)."""
    rows = [r[:4] for r in body()]
    sheet(wb, header=HEADER[:4], rows=rows)


def duplicate_indicator_numbers(wb: openpyxl.Workbook) -> None:
    """Indicator 2.2 appears twice (a row copied and not renumbered)."""
    rows = body()
    rows[6][0] = "2.2"
    sheet(wb, rows=rows)


def indicator_under_no_criterion(wb: openpyxl.Workbook) -> None:
    """Indicators written above the first criterion row, unnumbered."""
    rows = [["", "Xóm có nhà văn hóa", "Có", "Có", "Đạt", None], *body()]
    sheet(wb, rows=rows)


def merged_cells_across_data_area(wb: openpyxl.Workbook) -> None:
    """One 'Hiện trạng' value merged down over three indicator rows."""
    ws = sheet(wb)
    first = FIRST_ROW + 4
    ws.merge_cells(start_row=first, start_column=4, end_row=first + 2, end_column=4)


def formulas_without_cached_values(wb: openpyxl.Workbook) -> None:
    """A result computed by a formula that was never calculated (no cached value is stored)."""
    ws = sheet(wb)
    ws.cell(FIRST_ROW + 4, 4, "=95/100")


def excel_errors(wb: openpyxl.Workbook) -> None:
    """Two results hold Excel errors: 2.1 a formula whose saved result is #DIV/0! (written into
    the sheet XML by ``_cached_error``, as openpyxl saves no results), 2.3 a #N/A pasted as a
    value."""
    rows = body()
    rows[4][3] = "=D11/0"
    rows[6][3] = "#N/A"  # openpyxl saves an error code as an error cell (t="e")
    sheet(wb, rows=rows)


def _cached_error(xml: bytes) -> bytes:
    """Give ``excel_errors``' formula cell D10 the saved result Excel would: #DIV/0!."""
    cell = b'<c r="D10"><f>D11/0</f><v /></c>'
    assert cell in xml, "openpyxl wrote the formula cell differently"
    return xml.replace(cell, b'<c r="D10" t="e"><f>D11/0</f><v>#DIV/0!</v></c>')


def numbers_stored_as_text(wb: openpyxl.Workbook) -> None:
    """Numbers typed as text with stray spaces and a letter O in place of a zero."""
    rows = body()
    rows[4][3] = "95,6 %"
    rows[5][3] = "  86,5 "
    rows[6][3] = "9O%"
    sheet(wb, rows=rows)


def percent_fractions_mixed(wb: openpyxl.Workbook) -> None:
    """A percentage typed as a fraction (0.95) next to percentages written '86,5%'."""
    rows = body()
    rows[4][3] = 0.95
    sheet(wb, rows=rows)


def dates_where_numbers_belong(wb: openpyxl.Workbook) -> None:
    """Excel turned '2.3' into a date in the result column."""
    rows = body()
    rows[6][3] = dt.datetime(2024, 3, 2)
    sheet(wb, rows=rows)


def hidden_rows(wb: openpyxl.Workbook) -> None:
    """Two indicator rows are hidden; they are still data."""
    ws = sheet(wb)
    for r in (FIRST_ROW + 5, FIRST_ROW + 6):
        ws.row_dimensions[r].hidden = True


def hidden_sheet(wb: openpyxl.Workbook) -> None:
    """The indicator table sits in a hidden sheet (a visible cover sheet holds only a title)."""
    cover = wb.active
    cover.title = "Bìa"
    cover["A1"] = "HỒ SƠ XÓM NÔNG THÔN MỚI KIỂU MẪU"
    ws = sheet(wb)
    ws.sheet_state = "hidden"


def blank_formatted_rows(wb: openpyxl.Workbook) -> None:
    """100,000 blank rows below the table that carry only formatting."""
    ws = sheet(wb)
    fill = PatternFill("solid", fgColor="FFFFCC")
    start = FIRST_ROW + len(BODY) + 1
    for r in range(start, start + 100_000):
        ws.row_dimensions[r].fill = fill
        ws.row_dimensions[r].height = 15


def very_long_cells(wb: openpyxl.Workbook) -> None:
    """A note and an indicator name at Excel's limit of 32,767 characters."""
    rows = body()
    rows[4][5] = ("Đường trục xóm đã được bê tông hóa. " * 1000)[:32_767]
    rows[5][1] = ("Đường ngõ xóm sạch " * 2000)[:32_767]
    sheet(wb, rows=rows)


def conflicting_marks(wb: openpyxl.Workbook) -> None:
    """'Đạt' and 'Chưa đạt' are both marked for indicator 2.2."""
    ws = sheet(wb, header=["TT", "Nội dung tiêu chí/chỉ tiêu", "Chỉ tiêu theo quy định",
                           "Hiện trạng", "Đánh giá", "", "Ghi chú"], rows=[])
    ws.cell(HEADER_ROW + 1, 5, "Đạt")
    ws.cell(HEADER_ROW + 1, 6, "Chưa đạt")
    ws.merge_cells(start_row=HEADER_ROW, start_column=5, end_row=HEADER_ROW, end_column=6)
    for c in (1, 2, 3, 4, 7):
        ws.merge_cells(start_row=HEADER_ROW, start_column=c, end_row=HEADER_ROW + 1, end_column=c)
    for r, row in enumerate(body(), start=FIRST_ROW + 1):
        for c, value in enumerate(row[:4], start=1):
            ws.cell(r, c, value)
        if len(row) > 2:
            ws.cell(r, 5 if row[4] == "Đạt" else 6, "x")
    ws.cell(FIRST_ROW + 1 + 5, 5, "x")  # 2.2: both marked


def conflicting_word_and_marks(wb: openpyxl.Workbook) -> None:
    """A word column 'Tự đánh giá' says 'Đạt' where the x mark says 'Chưa đạt'."""
    ws = sheet(wb, header=["TT", "Nội dung tiêu chí/chỉ tiêu", "Chỉ tiêu theo quy định",
                           "Hiện trạng", "Tự đánh giá", "Đạt", "Chưa đạt", "Ghi chú"], rows=[])
    for r, row in enumerate(body(), start=FIRST_ROW):
        for c, value in enumerate(row[:5], start=1):
            ws.cell(r, c, value)
        if len(row) > 2:
            ws.cell(r, 6 if row[4] == "Đạt" else 7, "x")
    ws.cell(FIRST_ROW + 5, 5, "Đạt")  # 2.2: the word says met, the mark says not met


def unknown_unit_name(wb: openpyxl.Workbook) -> None:
    """No unit in the title and a generic sheet name ('Sheet1')."""
    sheet(wb, "Sheet1", title=["BIỂU TỔNG HỢP KẾT QUẢ RÀ SOÁT TIÊU CHÍ NĂM 2024"])


def no_year_found(wb: openpyxl.Workbook) -> None:
    """Neither the title, the sheet name nor the file name gives a year."""
    sheet(wb, title=["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU",
                     "XÓM BẢN LÁC - XÃ KIM PHƯỢNG"])


def assessment_not_understood(wb: openpyxl.Workbook) -> None:
    """A self-assessment word that is neither 'Đạt' nor 'Chưa đạt'."""
    rows = body()
    rows[4][4] = "Tốt"
    sheet(wb, rows=rows)


def indicator_number_mismatch(wb: openpyxl.Workbook) -> None:
    """Indicator '3.1' listed under criterion 2."""
    rows = body()
    rows[6][0] = "3.1"
    sheet(wb, rows=rows)


def header_without_rows(wb: openpyxl.Workbook) -> None:
    """A header and nothing under it."""
    sheet(wb, rows=[])


DEFECTS: dict[str, Callable[[openpyxl.Workbook], None]] = {
    "empty_workbook": empty_workbook,
    "no_header_found": no_header_found,
    "missing_result_column": missing_result_column,
    "missing_assessment_column": missing_assessment_column,
    "duplicate_indicator_numbers": duplicate_indicator_numbers,
    "indicator_under_no_criterion": indicator_under_no_criterion,
    "merged_cells_across_data_area": merged_cells_across_data_area,
    "formulas_without_cached_values": formulas_without_cached_values,
    "excel_errors": excel_errors,
    "numbers_stored_as_text": numbers_stored_as_text,
    "percent_fractions_mixed": percent_fractions_mixed,
    "dates_where_numbers_belong": dates_where_numbers_belong,
    "hidden_rows": hidden_rows,
    "hidden_sheet": hidden_sheet,
    "blank_formatted_rows_100k": blank_formatted_rows,
    "very_long_cells": very_long_cells,
    "conflicting_marks": conflicting_marks,
    "conflicting_word_and_marks": conflicting_word_and_marks,
    "unknown_unit_name": unknown_unit_name,
    "no_year_found": no_year_found,
    "assessment_not_understood": assessment_not_understood,
    "indicator_number_mismatch": indicator_number_mismatch,
    "header_without_rows": header_without_rows,
}


#: Changes to a defect's first sheet part after openpyxl saved it (what openpyxl cannot write).
PATCHES: dict[str, Callable[[bytes], bytes]] = {"excel_errors": _cached_error}


def _patch_sheet(path: Path, patch: Callable[[bytes], bytes]) -> None:
    """Rewrite ``xl/worksheets/sheet1.xml`` of ``path`` through ``patch``, the other parts as
    they are (same order, names and dates, so the file stays byte-stable)."""
    with zipfile.ZipFile(path) as zin:
        items = [(info, zin.read(info)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            zout.writestr(info, patch(data) if info.filename == "xl/worksheets/sheet1.xml"
                          else data)


def write_corpus(out_dir: Path = HERE, names: list[str] | None = None) -> list[Path]:
    """Write every defect workbook (or those ``names``) into ``out_dir``; return their paths."""
    paths = []
    for name, make in DEFECTS.items():
        if names is not None and name not in names:
            continue
        wb = openpyxl.Workbook()
        make(wb)
        wb.properties.creator = "ntm-analysis defect corpus"
        # fixed timestamps keep the files byte-stable between runs
        wb.properties.created = wb.properties.modified = dt.datetime(2024, 4, 8)
        path = out_dir / f"{name.replace('_', '-')}.xlsx"
        wb.save(path)
        if name in PATCHES:
            _patch_sheet(path, PATCHES[name])
        paths.append(path)
    return paths


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for p in write_corpus(out):
        print(p.relative_to(out.parent) if out == HERE else p)
