"""Tests for ntm_analysis.odsxml: what calamine does not say about an ``.ods`` sheet.

``excel-errors.ods`` (written by ``make_corpus.py`` in LibreOffice's markup) holds a #DIV/0!
error cell with an empty string as its value, as LibreOffice saves it, a #N/A saved with a
number beside it (calamine reads that number as the value), a hidden row, and the repeated empty
rows and columns LibreOffice pads a sheet with. The smaller cases are ``content.xml`` texts.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from ntm_analysis.attainment import compute_attainment
from ntm_analysis.budget import load_budget
from ntm_analysis.load import load_workbook
from ntm_analysis.odsxml import scan_content, scan_ods
from ntm_analysis.schema import Att, Ind, Iss
from ntm_analysis.sheetxml import SheetExtras, scan_sheets

CORPUS = Path(__file__).resolve().parent / "data" / "with-problems"
ODS = CORPUS / "excel-errors.ods"
SHEET = "Phụ biểu 02"
NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"')


def test_calamine_reads_one_error_as_empty_and_the_other_as_a_zero() -> None:
    """Why the scan exists."""
    rows = CalamineWorkbook.from_path(str(ODS)).get_sheet_by_name(SHEET).to_python()
    assert (rows[9][3], rows[11][3]) == ("", 0.0)


def test_the_scan_finds_the_errors_and_the_hidden_row() -> None:
    expected = {SHEET: SheetExtras(hidden_rows=[11], error_cells=[
        (10, 4, "#DIV/0!", "=D11/0"), (12, 4, "#N/A", "=NA()")],
        merged=[((0, 0), (0, 5)), ((1, 0), (1, 5)), ((2, 0), (2, 5))])}  # the title rows
    assert scan_ods(ODS) == expected
    assert scan_sheets(ODS) == expected  # what the loaders call, for any format


def test_the_loader_warns_and_the_zero_is_not_used() -> None:
    result = load_workbook(ODS)
    issues = result.issues[result.issues[Iss.severity] == "warning"]
    assert list(zip(issues[Iss.source_row], issues[Iss.code], issues[Iss.value].fillna(""),
                    strict=True)) == [
        (11, "hidden_rows", ""), (10, "excel_error", "#DIV/0!"), (12, "excel_error", "#N/A")]
    ind = result.indicators.set_index(Ind.indicator_no)
    assert ind.loc[["2.1", "2.3"], Ind.value].isna().all()  # 2.3 was a real 0
    att = compute_attainment(result.indicators, add_missing=False).set_index(Ind.indicator_no)
    # 2.3 was "not met" against "≥ 70%" with a value of 0 the sheet never held
    assert att.loc[["2.1", "2.3"], Att.status].tolist() == ["met", "met"]
    assert att.loc[["2.1", "2.3"], Att.status_basis].tolist() == ["self_assessment"] * 2


def _content(rows: str, name: str = "Xa") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS}>'
            f'<office:body><office:spreadsheet><table:table table:name="{name}">{rows}'
            "</table:table></office:spreadsheet></office:body></office:document-content>")


def _cell(text: str, span: str = "") -> str:
    return (f'<table:table-cell {span} office:value-type="string"><text:p>{text}</text:p>'
            "</table:table-cell>")


def _write_ods(path: Path, rows: list[str], sheet: str) -> Path:
    """An .ods of one sheet whose rows hold the given cells' markup."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", _content("".join(
            f"<table:table-row>{r}</table:table-row>" for r in rows), sheet))
        zf.writestr("META-INF/manifest.xml", zipfile.ZipFile(ODS).read("META-INF/manifest.xml"))
    return path


def _error(shown: str = "#VALUE!", formula: str = "of:=[.A1]+1", repeat: int = 1) -> str:
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return (f'<table:table-cell table:formula="{formula}"{repeated} office:value-type="string" '
            f'office:string-value="" calcext:value-type="error"><text:p>{shown}</text:p>'
            "</table:table-cell>")


def test_positions_count_repeated_and_covered_cells() -> None:
    text = _content(
        '<table:table-row table:number-rows-repeated="3"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell table:number-columns-repeated="2"/>'
        '<table:table-cell table:number-columns-spanned="2"><text:p>a</text:p>'
        '</table:table-cell><table:covered-table-cell/>' + _error() + "</table:table-row>"
        '<table:table-row table:visibility="filter" table:number-rows-repeated="2">'
        + _error("#REF!", "of:=#REF!", repeat=2) + "</table:table-row>")
    assert scan_content(text) == {"Xa": SheetExtras(hidden_rows=[5, 6], error_cells=[
        (4, 5, "#VALUE!", "=A1+1"), (5, 1, "#REF!", "=#REF!"), (5, 2, "#REF!", "=#REF!"),
        (6, 1, "#REF!", "=#REF!"), (6, 2, "#REF!", "=#REF!")],
        merged=[((3, 2), (3, 3))])}


def test_hidden_columns_count_repeated_column_declarations() -> None:
    text = _content(
        '<table:table-column table:number-columns-repeated="2"/>'
        '<table:table-column table:visibility="collapse" table:number-columns-repeated="2"/>'
        "<table:table-column/>"
        '<table:table-column table:visibility="collapse" '
        'table:number-columns-repeated="16379"/>'
        "<table:table-row><table:table-cell/></table:table-row>")
    assert scan_content(text) == {"Xa": SheetExtras(hidden_columns=[3, 4, *range(6, 257)])}


def test_merged_cells_are_found_as_calamine_gives_an_xlsxs() -> None:
    text = _content(
        '<table:table-row><table:table-cell table:number-rows-spanned="2"><text:p>TT</text:p>'
        '</table:table-cell><table:table-cell table:number-columns-spanned="2"><text:p>Xóm A'
        "</text:p></table:table-cell><table:covered-table-cell/></table:table-row>"
        '<table:table-row><table:covered-table-cell/><table:table-cell/><table:table-cell/>'
        "</table:table-row>")
    assert scan_content(text) == {"Xa": SheetExtras(merged=[((0, 0), (1, 0)),
                                                            ((0, 1), (0, 2))])}


def test_a_wide_table_of_hamlets_under_merged_names_is_read_by_hamlet(tmp_path: Path) -> None:
    """calamine gives no merged ranges for an .ods: "Cạm Phước" spanning its (Hiện trạng,
    Đánh giá) pair named the first column only, and each assessment became a unit of no
    name (duplicate errors, values and assessments apart)."""
    cell = _cell
    wide, tall = 'table:number-columns-spanned="2"', 'table:number-rows-spanned="2"'
    rows = [
        cell("TỔNG HỢP KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NTM KIỂU MẪU NĂM 2024 XÃ KIM PHƯỢNG"),
        cell("TT", tall) + cell("Tiêu chí/chỉ tiêu", tall) + cell("Chỉ tiêu", tall)
        + cell("Cạm Phước", wide) + "<table:covered-table-cell/>" + cell("Bản Lác", wide)
        + "<table:covered-table-cell/>",
        '<table:covered-table-cell table:number-columns-repeated="3"/>'
        + "".join(cell(t) for t in ("Hiện trạng", "Đánh giá") * 2),
        cell("1") + cell("Quy hoạch"),
        "".join(cell(t) for t in ("1.1", "Có quy hoạch chi tiết xóm", "Có", "Có", "Đạt",
                                  "Chưa có", "Chưa đạt"))]
    result = load_workbook(_write_ods(tmp_path / "tong_hop.ods", rows, "TH"))
    ind = result.indicators
    assert list(zip(ind[Ind.unit], ind[Ind.value_text], ind[Ind.self_assessment],
                    strict=True)) == [("Xóm Cạm Phước", "Có", "met"),
                                      ("Xóm Bản Lác", "Chưa có", "not_met")]
    assert result.issues.empty


def test_each_sheet_on_its_own_and_a_table_inside_a_cell_skipped() -> None:
    inner = ('<table:table-cell><table:table table:name="trong"><table:table-row>'
             + _error("#N/A") + "</table:table-row></table:table></table:table-cell>")
    text = _content(f"<table:table-row>{inner}{_error()}</table:table-row>").replace(
        "</table:table></office:spreadsheet>",
        '</table:table><table:table table:name="Xóm &amp; 2"><table:table-row>'
        '<table:table-cell/>' + _error("#NAME?", "of:=NOPE()") + "</table:table-row>"
        "</table:table></office:spreadsheet>")
    assert scan_content(text) == {
        "Xa": SheetExtras(error_cells=[(1, 2, "#VALUE!", "=A1+1")]),
        "Xóm & 2": SheetExtras(error_cells=[(1, 2, "#NAME?", "=NOPE()")])}


def test_padding_to_the_sheets_end_is_not_walked_and_plain_sheets_say_nothing() -> None:
    pad = ('<table:table-row table:number-rows-repeated="1048570" table:visibility="collapse">'
           '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>')
    assert scan_content(_content(pad)) == {}
    assert scan_content(_content("<table:table-row><table:table-cell office:value-type="
                                 '"float" office:value="1"/></table:table-row>')) == {}


def test_what_cannot_be_read_gives_nothing(tmp_path: Path) -> None:
    assert scan_ods(tmp_path / "missing.ods") == {}
    damaged = tmp_path / "hong.ods"
    damaged.write_bytes(ODS.read_bytes()[:600])
    assert scan_ods(damaged) == {}
    with zipfile.ZipFile(tmp_path / "khong.ods", "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert scan_ods(tmp_path / "khong.ods") == {}
    assert scan_content("<table:table table:name='x'><table:table-row>" + _error()) == {}


@pytest.mark.parametrize("number", [True, False])
def test_a_budget_amount_holding_an_error_is_warned_of_and_not_counted(
        tmp_path: Path, number: bool) -> None:
    value = ('office:value-type="float" office:value="0"' if number else
             'office:value-type="string" office:string-value=""')

    cell = _cell
    rows = [[cell("ĐVT: triệu đồng")],
            [cell(t) for t in ("TT", "Nội dung", "Tổng kinh phí")],
            [cell("1"), cell("Nhà văn hóa"), '<table:table-cell office:value-type="float" '
             'office:value="850"><text:p>850</text:p></table:table-cell>'],
            [cell("2"), cell("Đường trục xóm"),
             f'<table:table-cell table:formula="of:=[.C3]/0" {value} calcext:value-type='
             '"error"><text:p>#DIV/0!</text:p></table:table-cell>']]
    result = load_budget(_write_ods(tmp_path / "kinh_phi.ods", ["".join(r) for r in rows],
                                    "Kinh phí"))
    # the line with the error has no amount (it was a line of 0 with a number beside the error)
    assert result.lines["content"].tolist() == ["Nhà văn hóa"]
    assert result.lines["total"].tolist() == [850.0]
    errors = result.issues[result.issues[Iss.code] == "excel_error"]
    assert errors[Iss.problem].tolist() == [
        "cell C4 holds the Excel error #DIV/0! from =C3/0: expected a value (correct the "
        "formula or the cell in Excel and save it again); the cell was read as empty"]
