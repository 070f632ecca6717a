"""The loader on hand-built appendix workbooks of every layout variant (issue 2, item 3)."""

from __future__ import annotations

import json
import math
from itertools import chain
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from workbooks import (
    COMMUNE_SET,
    HAMLET_SET,
    SMART,
    SMART_SET,
    UNIT_A,
    UNIT_B,
    UNIT_NUMERIC,
    Cell,
    Spec,
    catalogue_rows,
    cells_for,
    counts,
    expected_rows,
    save,
)

from ntm_analysis.attainment import compute_attainment
from ntm_analysis.cli import cli
from ntm_analysis.load import LoadResult, load_workbook, load_workbooks, role_of, unit_names
from ntm_analysis.schema import Att, Ind, Iss, Severity

KEYS = ["unit", "level", "year", "criteria_set", "criterion_no", "indicator_no", "value",
        "self_assessment", "source_sheet", "source_row"]

TITLE_SMART = ["ỦY BAN NHÂN DÂN XÃ KIM PHƯỢNG", "Phụ biểu số 03",
               "BIỂU RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024", "XÓM PHAI ĐÁ - XÃ KIM PHƯỢNG"]


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Key columns as plain Python values, in a stable order."""
    out = frame[KEYS].astype(object).where(frame[KEYS].notna(), None)
    out = out.sort_values(["source_sheet", "unit", "source_row"], kind="stable")
    return [{k: (int(v) if k in ("year", "source_row") and v is not None else v)
             for k, v in r.items()} for r in out.to_dict("records")]


def summary_json(*paths: Path) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["summary", *map(str, paths), "--json"])
    assert result.exit_code == 0, result.output + str(result.exception)
    return json.loads(result.stdout)


def counts_of(summary: list[dict[str, object]]) -> dict[str, tuple[object, ...]]:
    return {s["unit"]: (s["criteria_met"], s["criteria_total"], s["indicators_met"],
                        s["indicators_total"]) for s in summary}


def check(tmp_path: Path, spec: Spec, *, units: list[str], level: str, year: int | None,
          criteria_set: str | None, file_name: str = "phu_bieu.xlsx") -> pd.DataFrame:
    path = tmp_path / file_name
    rows_out = save(path, [spec])[spec.sheet]
    result = load_workbook(path)
    assert result.errors.empty, result.errors.to_dict("records")
    expected = expected_rows(spec, rows_out, units=units, level=level, year=year,
                             criteria_set=criteria_set)
    assert records(result.indicators) == sorted(
        expected, key=lambda r: (r["source_sheet"], r["unit"], r["source_row"]))
    got = counts_of(summary_json(path))
    assert got == {u: counts(spec.rows, cells) for u, (_, cells) in zip(units, spec.units,
                                                                          strict=True)}
    return result.indicators


# --------------------------------------------------------------------------- one unit per sheet

SINGLE_CASES = {
    # title rows name the unit, year and set; two-row header under "Kết quả rà soát"; (1) (2) row
    "title-rows-two-row-header": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, column_numbers=True),
        units=["Xóm Phai Đá"], year=2024),
    # no title at all: hamlet named only by the sheet, year by the file name; one-row header
    "sheet-name-only": dict(
        spec=Spec(SMART, [(None, UNIT_A)], sheet="Cạm Phước", header=1, words={
            "number": "STT", "name": "Nội dung tiêu chí/chỉ tiêu",
            "target": "Yêu cầu đạt chuẩn", "result": "Thực trạng", "assessment": "Tự đánh giá"}),
        units=["Xóm Cạm Phước"], year=2024, file_name="ra_soat_2024.xlsx"),
    # three header rows: group over (result, "Đánh giá" over "Đạt" | "Chưa đạt" x marks)
    "three-row-header-marks": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, header=3, assessment="marks",
                  words={"result": "Kết quả thực hiện", "assessment": "Kết quả đánh giá"}),
        units=["Xóm Phai Đá"], year=2024),
    # criteria I, II…; indicators restarting 1, 2, 3; other header words
    "roman-restart": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, criteria="roman",
                  numbers="restart", words={"name": "Tiêu chí / chỉ tiêu", "target": "Mục tiêu",
                                            "result": "Kết quả",
                                            "assessment": "Kết quả đánh giá"}),
        units=["Xóm Phai Đá"], year=2024),
    # "Tiêu chí 1: …" rows and "1.1. …" prefixes in the name column; no number column values
    "named-criteria-prefix": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, criteria="named",
                  numbers="prefix", header=1,
                  words={"name": "Nội dung tiêu chí/chỉ tiêu",
                         "target": "Chỉ tiêu theo quy định", "result": "Kết quả thực hiện",
                         "assessment": "Tự đánh giá"}),
        units=["Xóm Phai Đá"], year=2024),
    # criteria as vertically merged cells, indicators unnumbered, x marks, NFD text
    "merged-criteria-unnumbered-marks-nfd": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, criteria="merged",
                  numbers="none", assessment="marks", nfd=True,
                  words={"criterion": "Tên tiêu chí", "name": "Nội dung chỉ tiêu"}),
        units=["Xóm Phai Đá"], year=2024),
    # criteria merged, indicators "1.1" in the number column
    "merged-criteria-dotted": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, criteria="merged",
                  numbers="dotted", header=1, column_numbers=True,
                  words={"criterion": "Tiêu chí", "name": "Nội dung"}),
        units=["Xóm Phai Đá"], year=2024),
    # numeric cells: 1.1 floats in TT, 1/2/3 ints for criteria, fractions for %, 1/0 yes/no;
    # header at column B, row 8
    "numeric-cells-offset": dict(
        spec=Spec(SMART, [(None, UNIT_NUMERIC)], titles=TITLE_SMART, top=3, left=2,
                  numbers="float", column_numbers=True),
        units=["Xóm Phai Đá"], year=2024),
    # self-assessment words in capitals and odd spacing; only "Tên tiêu chí" names the rows
    "assessment-case-spacing": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, assess_style="upper", header=1,
                  words={"name": "Tên tiêu chí", "target": "Chỉ tiêu theo quy định"}),
        units=["Xóm Phai Đá"], year=2024),
    "assessment-lower-spaced": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, assess_style="spaced",
                  words={"number": "STT", "result": "Thực trạng"}),
        units=["Xóm Phai Đá"], year=2024),
    # criteria I, II… with indicators "1.1" in the number column
    "roman-dotted": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, criteria="roman",
                  column_numbers=True),
        units=["Xóm Phai Đá"], year=2024),
    # merged criteria with indicators restarting 1, 2, 3
    "merged-criteria-restart": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, criteria="merged",
                  numbers="restart", header=1,
                  words={"criterion": "Tên tiêu chí", "name": "Nội dung tiêu chí/chỉ tiêu",
                         "target": "Yêu cầu đạt chuẩn", "result": "Thực trạng",
                         "assessment": "Tự đánh giá"}),
        units=["Xóm Phai Đá"], year=2024),
    # "Tiêu chí 1: …" rows above indicators numbered "1.1" in the number column
    "named-criteria-dotted": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, criteria="named"),
        units=["Xóm Phai Đá"], year=2024),
    # a "thôn" named in the title keeps its own word
    "thon-in-title": dict(
        spec=Spec(SMART, [(None, UNIT_A)],
                  titles=["BIỂU RÀ SOÁT TIÊU CHÍ THÔN THÔNG MINH NĂM 2024",
                          "Thôn Nà Ca, xã Tân Lập"]),
        units=["Thôn Nà Ca"], year=2024),
    # the sheet carries the full unit name; the title only the commune
    "sheet-with-prefix-title-commune": dict(
        spec=Spec(SMART, [(None, UNIT_B)], sheet="Xóm Nà Ca",
                  titles=["UBND XÃ KIM PHƯỢNG", "KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH"],
                  numbers="prefix"),
        units=["Xóm Nà Ca"], year=2024, file_name="ra_soat_nam_2024.xlsx"),
    # criteria rows 1, 2… with unnumbered indicators
    "arabic-criteria-unnumbered": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, numbers="none"),
        units=["Xóm Phai Đá"], year=2024),
    # criteria rows I, II… with unnumbered indicators, NFD text, one-row header
    "roman-criteria-unnumbered-nfd": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, numbers="none",
                  criteria="roman", nfd=True, header=1),
        units=["Xóm Phai Đá"], year=2024),
    # titles merged across the table; criterion names merged across the whole row;
    # a "Đơn vị tính" column
    "merged-titles-and-criterion-rows": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART, merge_titles=True,
                  merge_criterion_rows=True, unit_column=True, column_numbers=True,
                  words={"number": "Số TT", "name": "Nội dung tiêu chí"}),
        units=["Xóm Phai Đá"], year=2024),
    # a note and signature below the table are not data
    "footer-rows": dict(
        spec=Spec(SMART, [(None, UNIT_A)], titles=TITLE_SMART,
                  footer=["Ghi chú: số liệu minh họa.", "Người lập biểu", "TM. UBND XÃ"]),
        units=["Xóm Phai Đá"], year=2024),
}


@pytest.mark.parametrize("case", list(SINGLE_CASES), ids=list(SINGLE_CASES))
def test_single_unit_layouts(tmp_path: Path, case: str) -> None:
    kw = SINGLE_CASES[case]
    check(tmp_path, kw["spec"], units=kw["units"], level="hamlet", year=kw["year"],
          criteria_set=SMART_SET, file_name=kw.get("file_name", "phu_bieu.xlsx"))


def test_numeric_fraction_values_are_judged_as_percentages(tmp_path: Path) -> None:
    spec = Spec(SMART, [(None, UNIT_NUMERIC)], titles=TITLE_SMART)
    path = tmp_path / "pb.xlsx"
    save(path, [spec])
    att = compute_attainment(load_workbook(path).indicators)
    row = att[att[Ind.indicator_no] == "1.1"].iloc[0]
    assert (row["value"], row["status"], row["status_basis"]) == (86.0, "met", "value")
    assert not att["discrepancy"].any()


# --------------------------------------------------------------------------- wide tables

def test_wide_table_of_hamlets(tmp_path: Path) -> None:
    spec = Spec(SMART, [("Xóm Cạm Phước", UNIT_A), ("Xóm Bản Lác", UNIT_B)],
                titles=["ỦY BAN NHÂN DÂN XÃ KIM PHƯỢNG",
                        "TỔNG HỢP KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"],
                column_numbers=True)
    ind = check(tmp_path, spec, units=["Xóm Cạm Phước", "Xóm Bản Lác"], level="hamlet",
                year=2024, criteria_set=SMART_SET)
    assert set(ind[Ind.commune]) == {"Kim Phượng"}


def test_wide_table_of_hamlets_with_marks_and_no_prefix(tmp_path: Path) -> None:
    spec = Spec(SMART, [("Cạm Phước", UNIT_A), ("Bản Lác", UNIT_B)], header=2,
                titles=["KẾT QUẢ RÀ SOÁT XÓM THÔNG MINH NĂM 2024"],
                words={"number": "STT", "result": "Kết quả", "assessment": "Đánh giá"})
    check(tmp_path, spec, units=["Xóm Cạm Phước", "Xóm Bản Lác"], level="hamlet", year=2024,
          criteria_set=SMART_SET)


def test_wide_table_with_marks_per_unit(tmp_path: Path) -> None:
    spec = Spec(SMART, [("Xóm Cạm Phước", UNIT_A), ("Xóm Bản Lác", UNIT_B)], header=3,
                assessment="marks", criteria="roman", numbers="restart",
                titles=["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"])
    check(tmp_path, spec, units=["Xóm Cạm Phước", "Xóm Bản Lác"], level="hamlet", year=2024,
          criteria_set=SMART_SET)


def test_wide_table_of_communes(tmp_path: Path) -> None:
    rows = catalogue_rows(COMMUNE_SET)
    a = cells_for(COMMUNE_SET, {"1.2", "3.4", "5.1"})
    b = cells_for(COMMUNE_SET, {"2.6"})
    spec = Spec(rows, [("Xã Tân Lập", a), ("Xã Hợp Tiến", b)], criteria="roman",
                titles=["KẾT QUẢ RÀ SOÁT CÁC TIÊU CHÍ XÃ NÔNG THÔN MỚI KIỂU MẪU NĂM 2024"])
    check(tmp_path, spec, units=["Tân Lập", "Hợp Tiến"], level="commune", year=2024,
          criteria_set=COMMUNE_SET)


# --------------------------------------------------------------------------- several sheets

def test_commune_workbook_with_one_sheet_per_hamlet(tmp_path: Path) -> None:
    rows = catalogue_rows(HAMLET_SET)
    title = ["ỦY BAN NHÂN DÂN XÃ KIM PHƯỢNG",
             "KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU NĂM 2024"]
    specs = [
        Spec(rows, [(None, cells_for(HAMLET_SET, {"1.1", "4.4", "10.1"}))], sheet="Cạm Phước",
             titles=title),
        Spec(rows, [(None, cells_for(HAMLET_SET, {"6.3"}))], sheet="Bản Lác", titles=title,
             criteria="roman", numbers="restart", header=1),
        Spec(rows, [(None, cells_for(HAMLET_SET, set()))], sheet="Xóm Ao Sen", titles=title,
             criteria="merged", numbers="none", assessment="marks"),
    ]
    path = tmp_path / "kim_phuong_xom.xlsx"
    rows_out = save(path, specs)
    result = load_workbook(path)
    assert result.errors.empty
    expected = []
    for spec, unit in zip(specs, ["Xóm Cạm Phước", "Xóm Bản Lác", "Xóm Ao Sen"], strict=True):
        expected += expected_rows(spec, rows_out[spec.sheet], units=[unit], level="hamlet",
                                  year=2024, criteria_set=HAMLET_SET)
    assert records(result.indicators) == sorted(
        expected, key=lambda r: (r["source_sheet"], r["unit"], r["source_row"]))
    assert set(result.indicators[Ind.commune]) == {"Kim Phượng"}
    assert counts_of(summary_json(path)) == {
        "Xóm Cạm Phước": counts(rows, specs[0].units[0][1]),
        "Xóm Bản Lác": counts(rows, specs[1].units[0][1]),
        "Xóm Ao Sen": counts(rows, specs[2].units[0][1]),
    }


def test_tables_beside_a_budget_sheet_and_a_blank_sheet(tmp_path: Path) -> None:
    path = tmp_path / "bao_cao_2024.xlsx"
    specs = [Spec(SMART, [(None, UNIT_A)], sheet="Phai Đá", titles=TITLE_SMART),
             Spec(SMART, [(None, UNIT_B)], sheet="Xóm Nà Ca",
                  titles=["BIỂU RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"])]
    save(path, specs)
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("Kinh phí")
    ws.append(["TT", "Nội dung", "Tổng kinh phí (triệu đồng)", "Nguồn vốn"])
    ws.append([1, "Đường giao thông", "1.250,5", "Ngân sách tỉnh"])
    wb.create_sheet("Sheet3")
    wb.save(path)
    result = load_workbook(path)
    assert result.errors.empty
    assert sorted(result.indicators[Ind.unit].unique()) == ["Xóm Nà Ca", "Xóm Phai Đá"]
    codes = dict(zip(result.issues[Iss.source_sheet], result.issues[Iss.code], strict=True))
    assert codes["Kinh phí"] == "budget_sheet"
    assert counts_of(summary_json(path)) == {"Xóm Phai Đá": counts(SMART, UNIT_A),
                                            "Xóm Nà Ca": counts(SMART, UNIT_B)}


def test_named_sheets_only(tmp_path: Path) -> None:
    path = tmp_path / "pb_2024.xlsx"
    save(path, [Spec(SMART, [(None, UNIT_A)], sheet="Phai Đá", titles=TITLE_SMART),
                Spec(SMART, [(None, UNIT_B)], sheet="Nà Ca", titles=TITLE_SMART[2:3])])
    result = load_workbook(path, sheets=["Nà Ca"])
    assert list(result.indicators[Ind.unit].unique()) == ["Xóm Nà Ca"]


# --------------------------------------------------------------------------- text details

def test_stray_spaces_and_numbers_as_text(tmp_path: Path) -> None:
    cells = [Cell(f"  {c.value}  " if isinstance(c.value, str) else c.value, c.expected,
                  c.assessment, c.met) for c in UNIT_A]
    spec = Spec(SMART, [(None, cells)], titles=[f"  {t}  " for t in TITLE_SMART],
                words={"number": " STT ", "result": "Hiện  trạng", "assessment": "Tự  đánh giá "})
    check(tmp_path, spec, units=["Xóm Phai Đá"], level="hamlet", year=2024,
          criteria_set=SMART_SET)


def test_missing_assessment_is_empty_not_guessed(tmp_path: Path) -> None:
    cells = [Cell(c.value, c.expected, None, c.met) for c in UNIT_A]
    spec = Spec(SMART, [(None, cells)], titles=TITLE_SMART)
    check(tmp_path, spec, units=["Xóm Phai Đá"], level="hamlet", year=2024,
          criteria_set=SMART_SET)


@pytest.mark.parametrize(("text", "role"), [
    ("TT", "number"), ("STT", "number"), ("Tên tiêu chí", "criterion"), ("Nội dung", "name"),
    ("Tiêu chí / chỉ tiêu", "name"), ("Nội dung tiêu chí/chỉ tiêu", "name"),
    ("Chỉ tiêu theo quy định", "target"), ("Yêu cầu đạt chuẩn", "target"),
    ("Chỉ tiêu", "target"), ("Mục tiêu", "target"), ("Hiện trạng", "result"),
    ("Thực trạng", "result"), ("Kết quả", "result"), ("Kết quả thực hiện", "result"),
    ("Đánh giá", "assessment"), ("Tự đánh giá", "assessment"),
    ("Kết quả đánh giá", "assessment"), ("Ghi chú", "note"), ("Đạt", "mark_met"),
    ("Chưa đạt", "mark_not_met"), ("HIỆN TRẠNG NĂM 2024", "result"),
    ("Xóm Cạm Phước", None),
])
def test_header_words_map_to_roles(text: str, role: str | None) -> None:
    assert role_of(text) == role


@pytest.mark.parametrize(("title", "names"), [
    ("XÓM PHAI ĐÁ - XÃ KIM PHƯỢNG", [("Xóm", "Phai Đá"), ("Xã", "Kim Phượng")]),
    ("KẾT QUẢ RÀ SOÁT XÃ NÔNG THÔN MỚI KIỂU MẪU NĂM 2024", []),
    ("Thôn Nà Ca, xã Tân Lập, huyện Định Hóa", [("Thôn", "Nà Ca"), ("Xã", "Tân Lập")]),
    # a unit after words that only look like one ("xã NTM kiểu mẫu"), and two units without a
    # dash between them: found, not lost or run together
    ("KẾT QUẢ THỰC HIỆN TIÊU CHÍ XÃ NTM KIỂU MẪU XÃ KIM PHƯỢNG", [("Xã", "Kim Phượng")]),
    ("BIỂU TỔNG HỢP TIÊU CHÍ XÃ NTM KIỂU MẪU CỦA XÃ KIM PHƯỢNG NĂM 2024",
     [("Xã", "Kim Phượng")]),
    ("XÂY DỰNG XÃ NÔNG THÔN MỚI NÂNG CAO XÃ TÂN DƯƠNG", [("Xã", "Tân Dương")]),
    ("XÓM BẢN LÁC XÃ KIM PHƯỢNG", [("Xóm", "Bản Lác"), ("Xã", "Kim Phượng")]),
    ("XÓM CỐC PHƯỜNG XÃ KIM PHƯỢNG", [("Xóm", "Cốc Phường"), ("Xã", "Kim Phượng")]),
    ("Xóm Cốc Phường - xã Kim Phượng", [("Xóm", "Cốc Phường"), ("Xã", "Kim Phượng")]),
    # hamlets of the South, the Central Highlands and Khmer areas; a province, district or
    # city whose name starts with one of those words names none
    ("ẤP BÌNH AN - XÃ TÂN PHÚ", [("Ấp", "Bình An"), ("Xã", "Tân Phú")]),
    ("BUÔN KO SIÊR - XÃ EA TU", [("Buôn", "Ko Siêr"), ("Xã", "Ea Tu")]),
    ("PLEI ỐP - XÃ IA KRING", [("Plei", "Ốp"), ("Xã", "Ia Kring")]),
    ("Bon Bu Prăng, xã Quảng Trực", [("Bon", "Bu Prăng"), ("Xã", "Quảng Trực")]),
    ("SÓC TRÀ ÔN - XÃ VĨNH HẢI, TỈNH SÓC TRĂNG", [("Sóc", "Trà Ôn"), ("Xã", "Vĩnh Hải")]),
    ("XÃ MINH PHÚ, HUYỆN SÓC SƠN", [("Xã", "Minh Phú")]),
    ("XÃ HÒA PHÚ, THÀNH PHỐ BUÔN MA THUỘT", [("Xã", "Hòa Phú")]),
])
def test_unit_names_in_titles(title: str, names: list[tuple[str, str]]) -> None:
    assert unit_names(title) == names


# --------------------------------------------------------------------------- validation errors

def _write(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Phụ biểu"
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


@pytest.mark.parametrize(("sheets", "duplicates"), [
    ({"Xóm Phai Đá": ["1.1", "1.2"], "Xóm Ao Sen": ["1.1", "1.2"]}, 0),
    ({"Xóm Phai Đá": ["1.1", "1.1"], "Xóm Ao Sen": ["1.1", "1.2"]}, 2),  # within a sheet
    ({"Xóm Phai Đá": ["1.1", "1.2"], "XÓM PHAI ĐÁ (2)": ["1.2", "1.3"]}, 2),  # across sheets
])
def test_duplicate_check_by_blocks_of_rows_is_the_check_by_rows(
        tmp_path: Path, sheets: dict[str, list[str]], duplicates: int) -> None:
    """The loaders' blocks of rows (a unit's rows on a sheet) tell distinct keys apart as the
    rows' keys do, and duplicates are still reported, within a sheet or across sheets."""
    from ntm_analysis.load import _distinct_keys, _load_records, load_workbook_tables

    wb = openpyxl.Workbook()
    del wb["Sheet"]
    for name, numbers in sheets.items():
        ws = wb.create_sheet(name)
        for row in [["BIỂU RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"], ["XÃ KIM PHƯỢNG"], [],
                    ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"],
                    ["1", "Hạ tầng số", None, None, None],
                    *[[no, f"Chỉ tiêu {no}", "≥ 80%", "86%", "Đạt"] for no in numbers]]:
            ws.append(row)
    path = tmp_path / "units.xlsx"
    wb.save(path)
    blocks: list[tuple[tuple[object, ...], bool]] = []
    rows, _ = _load_records(path, blocks=blocks)
    assert len(blocks) == len(sheets)
    assert _distinct_keys(rows, blocks) is _distinct_keys(rows) is (duplicates == 0)
    _, issues = load_workbook_tables(path)
    assert issues.column(Iss.code).to_pylist().count("duplicate_indicator") == duplicates


def test_error_no_indicator_table(tmp_path: Path) -> None:
    path = _write(tmp_path / "no_table.xlsx", [["Báo cáo tình hình"], ["Nội dung văn bản"]])
    result = load_workbook(path)
    assert result.indicators.empty
    assert list(result.errors[Iss.code]) == ["no_table"]


def test_error_no_result_or_assessment_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "no_result.xlsx", [
        ["BIỂU RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"], [],
        ["TT", "Nội dung", "Chỉ tiêu", "Ghi chú"],
        ["1", "Hạ tầng số", None, None],
        ["1.1", "Tỷ lệ hộ có Internet", "≥ 80%", None],
    ])
    result = load_workbook(path)
    codes = list(result.errors[Iss.code])
    assert codes in (["no_result_column"], ["no_table"])
    assert result.errors[Iss.source_file].tolist() == ["no_result.xlsx"]


def test_error_same_indicator_twice(tmp_path: Path) -> None:
    path = _write(tmp_path / "duplicate.xlsx", [
        ["BIỂU RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"], ["XÓM PHAI ĐÁ"], [],
        ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"],
        ["1", "Hạ tầng số", None, None, None],
        ["1.1", "Tỷ lệ hộ có Internet", "≥ 80%", "86%", "Đạt"],
        ["1.1", "Tỷ lệ hộ có Internet", "≥ 80%", "86%", "Đạt"],
    ])
    result = load_workbook(path)
    errors = result.errors
    assert list(errors[Iss.code]) == ["duplicate_indicator"] * 2
    assert sorted(errors[Iss.source_row]) == [6, 7]
    assert (errors[Iss.severity] == Severity.error).all()


def test_a_copy_of_a_workbook_names_both_files(tmp_path: Path) -> None:
    rows = [
        ["BIỂU RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"], ["XÓM PHAI ĐÁ"], [],
        ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"],
        ["1", "Hạ tầng số", None, None, None],
        ["1.1", "Tỷ lệ hộ có Internet", "≥ 80%", "86%", "Đạt"],
    ]
    first = _write(tmp_path / "phai_da.xlsx", rows)
    copy = _write(tmp_path / "phai_da (1).xlsx", rows)
    errors = load_workbooks([first, copy]).errors
    assert list(errors[Iss.code]) == ["duplicate_indicator"] * 2
    assert sorted(errors[Iss.source_file]) == ["phai_da (1).xlsx", "phai_da.xlsx"]
    problem = errors[Iss.problem].iloc[0]
    assert "(phai_da.xlsx Phụ biểu!6; phai_da (1).xlsx Phụ biểu!6)" in problem
    assert "remove the copy" in problem


SMART_HEADER = ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá"]


def _smart_table(hamlet: str | None, internet: str, phones: str) -> list[list[object]]:
    title = [["BIỂU TỰ ĐÁNH GIÁ TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"],
             [f"XÓM {hamlet} - XÃ KIM PHƯỢNG"]] if hamlet else []
    return [*title, SMART_HEADER, ["1", "Hạ tầng số", None, None, None],
            ["1.1", "Tỷ lệ hộ có Internet", "≥ 80%", internet, "Đạt"],
            ["1.2", "Tỷ lệ người dùng điện thoại thông minh", "≥ 70%", phones, "Chưa đạt"]]


def test_tables_stacked_in_one_sheet_are_read_each_with_its_title(tmp_path: Path) -> None:
    """A copy of the table for each hamlet, one below the other: each hamlet its own rows (its
    title and header were read as data rows, and both hamlets' indicators as one's twice)."""
    path = _write(tmp_path / "stacked.xlsx", [*_smart_table("PHAI ĐÁ", "86%", "65%"), [],
                                              *_smart_table("NA MỌN", "90%", "72%")])
    result = load_workbook(path)
    got = result.indicators
    assert list(zip(got[Ind.unit], got[Ind.indicator_no], got[Ind.value_text],
                    got[Ind.source_row], strict=True)) == [
        ("Xóm Phai Đá", "1.1", "86%", 5), ("Xóm Phai Đá", "1.2", "65%", 6),
        ("Xóm Na Mọn", "1.1", "90%", 12), ("Xóm Na Mọn", "1.2", "72%", 13)]
    assert set(got[Ind.year]) == {2024} and set(got[Ind.commune]) == {"Kim Phượng"}
    assert list(zip(result.issues[Iss.code], result.issues[Iss.source_row], strict=True)) == [
        ("stacked_tables", 10)]
    assert "(headers on rows 3, 10)" in result.issues[Iss.problem].iloc[0]


def test_a_header_repeated_on_a_new_page_continues_the_table(tmp_path: Path) -> None:
    rows = _smart_table("PHAI ĐÁ", "86%", "65%")
    rows.insert(5, SMART_HEADER)  # before 1.2, as a printed page's header
    result = load_workbook(_write(tmp_path / "pages.xlsx", rows))
    got = result.indicators
    assert list(zip(got[Ind.unit], got[Ind.indicator_no], got[Ind.source_row],
                    strict=True)) == [("Xóm Phai Đá", "1.1", 5), ("Xóm Phai Đá", "1.2", 7)]
    assert set(got[Ind.year]) == {2024}
    (problem,) = result.issues[Iss.problem]
    assert problem.endswith("the header on row(s) 6 has no title above it and continues the "
                            "first table (its unit and year)")


def test_a_group_of_columns_per_year_is_read_as_each_year(tmp_path: Path) -> None:
    """'Kết quả năm 2023' | 'Kết quả năm 2024' over (Hiện trạng, Đánh giá) pairs: both years of
    the one commune (only 2023's were read, with no year and no word of the others); and a
    title starting with header words ("KẾT QUẢ THỰC HIỆN …") is a title, not the header."""
    path = tmp_path / "two_years.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Phụ biểu 01"
    for row in [
        ["KẾT QUẢ THỰC HIỆN TIÊU CHÍ XÃ NTM KIỂU MẪU XÃ KIM PHƯỢNG"],
        ["TT", "Nội dung", "Chỉ tiêu", "Kết quả năm 2023", None, "Kết quả năm 2024", None],
        [None, None, None, "Hiện trạng", "Đánh giá", "Hiện trạng", "Đánh giá"],
        ["1", "Sản xuất - Thu nhập - Hộ nghèo", None, None, None, None, None],
        ["1.1", "Có mô hình sản xuất ứng dụng công nghệ cao", "≥ 01 mô hình", "Chưa có",
         "Chưa đạt", "01 mô hình", "Đạt"],
        ["1.2", "Tỷ lệ hộ nghèo", "≤ 1%", "1,5%", "Chưa đạt", "0,8%", "Đạt"],
    ]:
        ws.append(row)
    ws.merge_cells("D2:E2")
    ws.merge_cells("F2:G2")
    wb.save(path)
    result = load_workbook(path)
    got = result.indicators.sort_values([Ind.year, Ind.indicator_no])
    assert list(zip(got[Ind.unit], got[Ind.year], got[Ind.indicator_no], got[Ind.value_text],
                    got[Ind.self_assessment], got[Ind.source_row], strict=True)) == [
        ("Kim Phượng", 2023, "1.1", "Chưa có", "not_met", 5),
        ("Kim Phượng", 2023, "1.2", "1,5%", "not_met", 6),
        ("Kim Phượng", 2024, "1.1", "01 mô hình", "met", 5),
        ("Kim Phượng", 2024, "1.2", "0,8%", "met", 6)]
    assert result.issues.empty  # a year for every row, a unit from the title
    # headings naming units and a year are a table of those units, in that year
    ws["A1"] = "KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NTM KIỂU MẪU NĂM 2024 - XÃ KIM PHƯỢNG"
    ws["D2"], ws["F2"] = "Xóm Ao Sen (2024)", "Xóm Bản Lác (2024)"
    wb.save(path)
    got = load_workbook(path).indicators
    assert sorted(set(zip(got[Ind.unit], got[Ind.year], strict=True))) == [
        ("Xóm Ao Sen", 2024), ("Xóm Bản Lác", 2024)]


@pytest.mark.parametrize(("written", "why"), [
    ("Cơ bản đạt", "('Cơ bản đạt', basically met, is not 'Đạt': left empty, the value decides)"),
    # the same said the other way round: it read as "Đạt"
    ("Đạt (cơ bản)", "('Cơ bản đạt', basically met, is not 'Đạt': left empty, the value "
                     "decides)"),
    # left as the template offers it: it read as "Đạt"
    ("Đạt/Chưa đạt", "(both are written: the template's choice was never made; left empty, "
                     "the value decides)"),
])
def test_an_assessment_that_is_not_dat_is_none_and_is_said_so(
        tmp_path: Path, written: str, why: str) -> None:
    rows = _smart_table("PHAI ĐÁ", "86%", "65%")
    rows[4][4] = written
    result = load_workbook(_write(tmp_path / "partly.xlsx", rows))
    assert result.indicators[Ind.self_assessment].isna().tolist() == [True, False]
    (issue,) = result.issues.itertuples()
    assert (issue.source_row, issue.code, issue.value) == (5, "bad_assessment", written)
    assert issue.problem.endswith(why)


def test_no_year_anywhere_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "phu_bieu.xlsx"
    save(path, [Spec(SMART, [(None, UNIT_A)], sheet="Phai Đá", header=1)])
    result = load_workbook(path)
    assert result.errors.empty
    assert "no_year" in set(result.issues[Iss.code])
    assert result.indicators[Ind.year].isna().all()
    assert load_workbook(path, year=2023).indicators[Ind.year].eq(2023).all()


@pytest.mark.parametrize(("title", "file_name", "year"), [
    # a period names no single year: the file name's, or none (it was 2021, silently)
    ("XÃ NTM KIỂU MẪU GIAI ĐOẠN 2021-2025 - XÃ KIM PHƯỢNG", "xa.xlsx", None),
    ("XÃ NTM KIỂU MẪU GIAI ĐOẠN 2021 – 2025 - XÃ KIM PHƯỢNG", "xa_2024.xlsx", 2024),
    ("XÃ NTM KIỂU MẪU NĂM 2021-2025 - XÃ KIM PHƯỢNG", "xa_2024.xlsx", 2024),
    ("XÃ NTM KIỂU MẪU NĂM 2024 (GIAI ĐOẠN 2021-2025) - XÃ KIM PHƯỢNG", "xa.xlsx", 2024),
])
def test_a_period_of_years_is_not_the_tables_year(tmp_path: Path, title: str, file_name: str,
                                                  year: int | None) -> None:
    result = load_workbook(_write(tmp_path / file_name, [
        [title], ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"], ["1", "Quy hoạch"],
        ["1.1", "Có quy hoạch", "Có", "Có", "Đạt"]]))
    (got,) = result.indicators[Ind.year].tolist()
    assert pd.isna(got) if year is None else got == year
    assert ("no_year" in set(result.issues[Iss.code])) == (year is None)


def test_wide_table_three_header_rows_written_cell_by_cell(tmp_path: Path) -> None:
    """A group header over the unit names over each unit's (result, assessment) pair."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    ws["A1"] = "TỔNG HỢP KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"
    ws.merge_cells("A1:H1")
    for col, word in zip("ABCH", ["STT", "Nội dung", "Yêu cầu đạt chuẩn", "Ghi chú"],
                         strict=True):
        ws[f"{col}3"] = word
        ws.merge_cells(f"{col}3:{col}5")
    ws["D3"] = "Kết quả rà soát"
    ws.merge_cells("D3:G3")
    ws["D4"], ws["F4"] = "Xóm Cạm Phước", "Xóm Bản Lác"
    ws.merge_cells("D4:E4")
    ws.merge_cells("F4:G4")
    ws["D5"], ws["E5"], ws["F5"], ws["G5"] = "Hiện trạng", "Đánh giá", "Hiện trạng", "Đánh giá"
    r = 6
    rows_of: dict[str, int] = {}
    for k, crit in enumerate(dict.fromkeys(row.criterion_no for row in SMART)):
        ws.cell(r, 1, ["I", "II", "III"][k])
        ws.cell(r, 2, next(row.criterion_name for row in SMART if row.criterion_no == crit))
        r += 1
        for i, row in enumerate(SMART):
            if row.criterion_no != crit:
                continue
            ws.cell(r, 1, row.indicator_no)
            ws.cell(r, 2, row.indicator_name)
            ws.cell(r, 3, row.target)
            ws.cell(r, 4, UNIT_A[i].value)
            ws.cell(r, 5, UNIT_A[i].assessment)
            ws.cell(r, 6, UNIT_B[i].value)
            ws.cell(r, 7, UNIT_B[i].assessment)
            rows_of[row.indicator_no] = r
            r += 1
    path = tmp_path / "tong_hop.xlsx"
    wb.save(path)
    result = load_workbook(path)
    assert result.errors.empty
    expected = [
        {"unit": unit, "level": "hamlet", "year": 2024, "criteria_set": SMART_SET,
         "criterion_no": row.criterion_no, "indicator_no": row.indicator_no,
         "value": cells[i].expected, "self_assessment": cells[i].self_assessment,
         "source_sheet": "Tổng hợp", "source_row": rows_of[row.indicator_no]}
        for unit, cells in (("Xóm Bản Lác", UNIT_B), ("Xóm Cạm Phước", UNIT_A))
        for i, row in enumerate(SMART)
    ]
    assert records(result.indicators) == expected
    assert counts_of(summary_json(path)) == {"Xóm Cạm Phước": counts(SMART, UNIT_A),
                                            "Xóm Bản Lác": counts(SMART, UNIT_B)}


def test_result_column_headed_ket_qua_ra_soat_in_a_one_row_header(tmp_path: Path) -> None:
    """'Kết quả rà soát' usually heads a group; alone in a one-row header it is the result."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Biểu 01"
    ws.append(["BẢNG RÀ SOÁT XÓM THÔNG MINH NĂM 2025"])
    ws.append(["Xóm Nà Ca - xã Tân Lập"])
    ws.append(["STT", "Tên tiêu chí", "Nội dung tiêu chí", "Chỉ tiêu", "Kết quả rà soát",
               "Đánh giá"])
    ws.append([1, "Hạ tầng số"])
    ws.append(["1.1", None, "Tỷ lệ hộ có Internet cáp quang", "≥ 80%", "86%", "Đạt"])
    ws.append(["1.2", None, "Phủ sóng 4G/5G", "100%", "95%", "Chưa đạt"])
    path = tmp_path / "ket_qua_ra_soat.xlsx"
    wb.save(path)
    ind = load_workbook(path).indicators
    assert ind["value_text"].tolist() == ["86%", "95%"]
    assert ind["value"].tolist() == [86.0, 95.0]
    assert ind["self_assessment"].tolist() == ["met", "not_met"]
    assert ind["unit"].unique().tolist() == ["Xóm Nà Ca"]


def test_fractions_in_percent_formatted_cells_are_info_not_warnings(tmp_path: Path) -> None:
    """A column of 0.95-style cells (Excel's % format) is normal; mixed with '95%' it is a slip."""
    def write(values: list[object], name: str) -> Path:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Xóm A"
        ws.append(["BIỂU RÀ SOÁT XÓM THÔNG MINH NĂM 2024 - XÓM A"])
        ws.append(["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"])
        ws.append(["1", "Hạ tầng số"])
        for i, v in enumerate(values, start=1):
            ws.append([f"1.{i}", f"Chỉ tiêu {i}", "≥ 80%", v, None])
            if isinstance(v, float):
                ws.cell(ws.max_row, 4).number_format = "0%"
        path = tmp_path / name
        wb.save(path)
        return path

    formatted = load_workbook(write([0.85, 0.9], "formatted.xlsx")).issues
    assert set(formatted.loc[formatted["code"] == "percent_fraction", "severity"]) == {"info"}
    mixed = load_workbook(write([0.85, "90%"], "mixed.xlsx")).issues
    assert set(mixed.loc[mixed["code"] == "percent_fraction", "severity"]) == {"warning"}


def test_chi_tieu_column_names_indicators_when_a_target_column_follows(tmp_path: Path) -> None:
    """'Tiêu chí' (merged down) | 'Chỉ tiêu' (indicator names) | 'Yêu cầu đạt chuẩn' (targets)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Xóm Nà Ca"
    ws.append(["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"])
    ws.append(["TT", "Tiêu chí", "Chỉ tiêu", "Yêu cầu đạt chuẩn", "Hiện trạng", "Đánh giá"])
    ws.append([1, "Hạ tầng số", "Tỷ lệ hộ có Internet cáp quang", "≥ 80%", "86%", "Đạt"])
    ws.append([None, None, "Phủ sóng 4G/5G", "100%", "95%", "Chưa đạt"])
    ws.merge_cells("A3:A4")
    ws.merge_cells("B3:B4")
    ws.append([2, "Xã hội số", "Người dân dùng điện thoại thông minh", "≥ 70%", "62%", "Chưa đạt"])
    path = tmp_path / "chi_tieu.xlsx"
    wb.save(path)
    ind = load_workbook(path).indicators
    assert ind["indicator_name"].tolist() == ["Tỷ lệ hộ có Internet cáp quang", "Phủ sóng 4G/5G",
                                              "Người dân dùng điện thoại thông minh"]
    assert ind["target_text"].tolist() == ["≥ 80%", "100%", "≥ 70%"]
    assert ind["criterion_no"].tolist() == ["1", "1", "2"]
    assert ind["indicator_no"].tolist() == ["1.1", "1.2", "2.1"]
    assert ind["criterion_name"].tolist() == ["Hạ tầng số", "Hạ tầng số", "Xã hội số"]


def test_national_motto_header_is_not_a_commune(tmp_path: Path) -> None:
    """Official documents open with "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM": 'XÃ HỘI' is no commune."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "PB01"
    ws.append(["UBND XÃ TÂN LẬP", None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
    ws.append(["BAN CHỈ ĐẠO XÂY DỰNG NTM", None, None, "Độc lập - Tự do - Hạnh phúc"])
    ws.append(["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÃ NÔNG THÔN MỚI KIỂU MẪU NĂM 2024 "
               "(tổng hợp từ các xóm trên địa bàn xã)"])
    ws.append(["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"])
    ws.append([1, "Sản xuất - Thu nhập - Hộ nghèo"])
    ws.append(["1.1", "Vùng sản xuất hàng hóa tập trung", "Có", "Có", "Đạt"])
    path = tmp_path / "quoc_hieu.xlsx"
    wb.save(path)
    ind = load_workbook(path).indicators
    assert ind[["unit", "commune", "level"]].drop_duplicates().values.tolist() == [
        ["Tân Lập", "Tân Lập", "commune"]]


def test_cell_judgements_are_shared_only_between_equal_cells(tmp_path: Path) -> None:
    """The loader judges each distinct combination of a row's cells once per process; the
    issues still name each sheet's own header, and the answers are those of a cold cache."""
    import datetime as dt

    from ntm_analysis import load

    assert len({load._cell_key(v) for v in (1, 1.0, True, "1")}) == 4
    assert load._cell_key(0.0) != load._cell_key(-0.0)
    wb = openpyxl.Workbook()
    for title, result_word in (("Xóm Ao Sen", "Hiện trạng"), ("Xóm Nà Ca", "Kết quả")):
        ws = wb.create_sheet(title)
        ws.append([f"KẾT QUẢ RÀ SOÁT {title.upper()} NĂM 2024"])
        ws.append(["TT", "Nội dung", "Chỉ tiêu", result_word, "Tự đánh giá"])
        ws.append(["1", "Quy hoạch", None, None, None])
        for i, (value, word) in enumerate([(0.5, "Đạt"), (True, "Đạt"), (1, "tốt"),
                                           ("9O%", "Đạt"), (dt.datetime(2024, 5, 1), "Đạt"),
                                           ("n/a?", "Chưa đạt"), (0.5, "Đạt"),
                                           ("Xem thuyết minh", "Đạt")], start=1):
            ws.append([f"1.{i}", f"Chỉ tiêu {i}", "≥ 50%", value, word])
    cold = _read_cold_then_warm(wb, tmp_path / "judged.xlsx")
    assert len(load._JUDGED) >= 6  # every combination came from the cache the second time
    issues = cold.issues
    assert set(issues[Iss.column]) >= {"Hiện trạng", "Kết quả", "Tự đánh giá"}
    codes = issues.groupby(Iss.source_sheet)[Iss.code].apply(sorted).to_dict()
    assert codes["Xóm Ao Sen"] == codes["Xóm Nà Ca"]
    assert {"percent_fraction", "letter_in_number", "date_value", "text_value",
            "bad_assessment"} <= set(codes["Xóm Ao Sen"])


def test_text_only_sheets_share_judgements_by_their_texts(tmp_path: Path) -> None:
    """Sheets of text cells only are judged by their texts; two layouts with the same texts in
    differently named (and placed) columns still get their own issues and values."""
    from ntm_analysis import load

    wb = openpyxl.Workbook()
    layouts = {"Xóm Ao Sen": ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá"],
               "Xóm Nà Ca": ["TT", "Nội dung", "Kết quả", "Đánh giá", "Chỉ tiêu"]}
    for title, header in layouts.items():
        ws = wb.create_sheet(title)
        ws.append([f"KẾT QUẢ RÀ SOÁT {title.upper()} NĂM 2024"])
        ws.append(header)
        ws.append(["1", "Quy hoạch", "", "", ""])
        for i, (value, word) in enumerate([("0,5", "Đạt"), ("9O%", "Đạt"), ("abc", "tốt"),
                                           ("0,5", "Đạt")], start=1):
            cells = {"Chỉ tiêu": "≥ 50%", "Hiện trạng": value, "Kết quả": value,
                     "Tự đánh giá": word, "Đánh giá": word}
            ws.append([f"1.{i}", f"Chỉ tiêu {i}", *(cells[h] for h in header[2:])])
    cold = _read_cold_then_warm(wb, tmp_path / "texts.xlsx")
    assert any(shape[0] == "texts" and answers
               for shape, answers in load._JUDGED_TEXTS.items())
    by_sheet = cold.issues.groupby(Iss.source_sheet)[Iss.column].apply(set).to_dict()
    assert {"Hiện trạng", "Tự đánh giá"} <= by_sheet["Xóm Ao Sen"]
    assert {"Kết quả", "Đánh giá"} <= by_sheet["Xóm Nà Ca"]
    values = cold.indicators.groupby(Ind.source_sheet)[Ind.value_text].apply(list).to_dict()
    assert values["Xóm Ao Sen"] == values["Xóm Nà Ca"]


def test_sheets_of_one_template_share_a_layout_and_others_get_their_own(tmp_path: Path) -> None:
    """A layout is remembered by the header area that decided it: titles naming other units
    share it, while a header with its columns in another order, or one row lower, gets its own
    and its values come from its own columns, cold or warm."""
    from ntm_analysis import load

    header = ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá"]
    swapped = ["TT", "Nội dung", "Chỉ tiêu", "Tự đánh giá", "Hiện trạng"]
    sheets = {"Xóm Ao Sen": (header, 0), "Xóm Nà Ca": (header, 0),
              "Xóm Bản Chang": (swapped, 0), "Xóm Cốc Phường": (header, 1)}
    wb = openpyxl.Workbook()
    for title, (columns, extra_titles) in sheets.items():
        ws = wb.create_sheet(title)
        ws.append(["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU NĂM 2024"])
        ws.append([f"{title.upper()} - XÃ KIM PHƯỢNG"])  # a title without header words
        for _ in range(extra_titles):
            ws.append(["(kèm theo báo cáo số 12/BC-UBND)"])
        ws.append(columns)
        ws.append(["1", "Quy hoạch", "", "", ""])
        for i, (value, word) in enumerate([("80%", "Đạt"), ("Chưa có", "Chưa đạt")], start=1):
            cells = {"Chỉ tiêu": "≥ 50%", "Hiện trạng": value, "Tự đánh giá": word}
            ws.append([f"1.{i}", f"Chỉ tiêu {i}", *(cells[h] for h in columns[2:])])
    cold = _read_cold_then_warm(wb, tmp_path / "template.xlsx")
    assert len(load._LAYOUTS) == 3  # Ao Sen and Nà Ca share one; the other two their own
    ind = cold.indicators
    assert sorted(set(ind[Ind.source_sheet])) == sorted(sheets)
    for sheet in sheets:
        rows = ind[ind[Ind.source_sheet] == sheet]
        assert list(rows[Ind.value_text]) == ["80%", "Chưa có"], sheet
        assert list(rows[Ind.self_assessment]) == ["met", "not_met"], sheet
        assert list(rows[Ind.unit]) == [sheet] * 2
    assert list(ind.loc[ind[Ind.source_sheet] == "Xóm Cốc Phường", Ind.source_row]) == [6, 7]


def _forget_loader_memos() -> None:
    """Empty the loader's per-process memos: what follows is read cold."""
    from ntm_analysis import load

    for memo in (load._LAYOUTS, load._LAYOUT_ENDS, load._CLASSIFIED, load._JUDGED,
                 load._JUDGED_TEXTS, load._CELL_FLAGS):
        memo.clear()


def _read_cold_then_warm(wb: openpyxl.Workbook, path: Path) -> LoadResult:
    """Save ``wb`` (without openpyxl's default sheet) to ``path`` and load it with the loader's
    memos empty, then again with them filled: the two reads must agree. Returns the cold one."""
    del wb["Sheet"]
    wb.save(path)
    _forget_loader_memos()
    cold = load_workbook(path)
    warm = load_workbook(path)
    pd.testing.assert_frame_equal(cold.indicators, warm.indicators)
    pd.testing.assert_frame_equal(cold.issues, warm.issues)
    return cold


def _plain(frame: pd.DataFrame) -> list[dict[str, object]]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def test_sheets_of_one_template_share_their_classification_yet_read_their_own_rows(
        tmp_path: Path) -> None:
    """Sheets of one template are classified once per process; a sheet that differs where it
    matters (a row without figures, a criterion row with figures, merged cells, a footer with
    another signer, numbers, text not in NFC) reads as it does alone and cold."""
    header = ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá", "Ghi chú"]
    base = [["1", "Quy hoạch", "", "", "", ""],
            ["1.1", "Có quy hoạch được duyệt", "Có", "Có", "Đạt", ""],
            ["1.2", "Thực hiện đúng quy hoạch", "Đạt", "Chưa đạt", "Chưa đạt", ""],
            ["2", "Giao thông", "", "", "", ""],
            ["2.1", "Đường trục xóm được cứng hóa", "100%", "92%", "Chưa đạt", ""],
            ["Người lập biểu", "", "", "", "", ""],
            ["", "", "", "Nguyễn Văn An", "", ""]]

    def variant(**changes: tuple[int, int, object]) -> list[list[object]]:
        rows = [list(r) for r in base]
        for r, c, value in changes.values():
            rows[r][c] = value
        return rows

    merged_header = ["TT", "Tiêu chí", "Nội dung chỉ tiêu", "Chỉ tiêu", "Kết quả", "Đánh giá"]
    by_criterion = [["", "1. Quy hoạch", "Có quy hoạch được duyệt", "Có", "Có", "Đạt"],
                    ["", "", "Thực hiện đúng quy hoạch", "Đạt", "Đạt", "Đạt"],
                    ["", "", "", "", "5", ""],
                    ["", "2. Giao thông", "Đường trục xóm được cứng hóa", "100%", "92%", "Đạt"]]
    numbered = [["1.1", *by_criterion[0][1:]], ["1.2", *by_criterion[1][1:]], by_criterion[2],
                by_criterion[3]]
    # (header, rows, merged ranges) per sheet
    sheets: dict[str, tuple[list[str], list[list[object]], list[str]]] = {
        "Xóm Ao Sen": (header, base, []),
        "Xóm Nà Ca": (header, variant(a=(1, 3, "Không"), b=(6, 3, "Trần Thị Bình")), []),
        "Xóm Bản Chang": (header, variant(a=(2, 2, ""), b=(2, 3, ""), c=(2, 4, "")), []),
        "Xóm Cốc Lầu": (header, variant(a=(3, 3, "85%"), b=(3, 4, "Đạt"), c=(4, 0, ""),
                                        d=(4, 1, ""), e=(4, 2, ""), f=(4, 3, ""),
                                        g=(4, 4, "")), []),
        "Xóm Đồng Tâm": (header, variant(a=(4, 3, 0.92), b=(1, 1, "Co\u0301 quy hoạch")), []),
        "Xóm Khuổi Pác": (merged_header, by_criterion, ["B4:B6", "C5:C6", "D5:D6"]),
        "Xóm Nà Mường": (merged_header, [r[:4] + ["" if i == 2 else r[4]] + r[5:]
                                          for i, r in enumerate(by_criterion)],
                         ["B4:B6", "C5:C6", "D5:D6"]),
        # the same texts, once merged and once written out: A6 is "1.2" in both
        "Xóm Pò Tấu": (merged_header, numbered, ["A5:A6", "B4:B6", "C5:C6", "D5:D6"]),
        "Xóm Nà Lừa": (merged_header, [r[:] for r in numbered[:2]] + [["1.2", *numbered[2][1:]]]
                       + numbered[3:], ["B4:B6", "C5:C6", "D5:D6"]),
    }
    wb = openpyxl.Workbook()
    for name, (columns, rows, merges) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU NĂM 2024"])
        ws.append([f"{name.upper()} - XÃ KIM PHƯỢNG"])
        ws.append(columns)
        for row in rows:
            ws.append(row)
        for ref in merges:
            ws.merge_cells(ref)
    del wb["Sheet"]
    path = tmp_path / "template.xlsx"
    wb.save(path)

    alone = []
    for name in sheets:
        _forget_loader_memos()
        alone.append(load_workbook(path, sheets=[name]))
    _forget_loader_memos()
    load_workbook(path)
    together = load_workbook(path)  # every sheet after the first of its template from memos
    assert _plain(together.indicators) == [r for a in alone for r in _plain(a.indicators)]
    assert _plain(together.issues) == [r for a in alone for r in _plain(a.issues)]

    ind, issues = together.indicators, together.issues
    footers = issues[issues[Iss.code] == "footer_row"]
    shown = footers.groupby(Iss.source_sheet)[Iss.value].apply(list).to_dict()
    assert shown["Xóm Ao Sen"] == ["Người lập biểu", "Nguyễn Văn An"]
    assert shown["Xóm Nà Ca"] == ["Người lập biểu", "Trần Thị Bình"]
    rows_of = ind.groupby(Ind.source_sheet)[Ind.source_row].apply(list).to_dict()
    assert rows_of["Xóm Khuổi Pác"] == [4, 5, 6, 7]  # row 6: its own result below a merge
    assert rows_of["Xóm Nà Mường"] == [4, 5, 7]  # row 6: only cells merged from above
    numbers = ind.groupby(Ind.source_sheet)[Ind.indicator_no].apply(list).to_dict()
    assert numbers["Xóm Pò Tấu"] == ["1.1", "1.2", "1.3", "2.1"]  # A6 merged: no number
    assert numbers["Xóm Nà Lừa"] == ["1.1", "1.2", "1.2", "2.1"]  # A6 written out
    assert rows_of["Xóm Ao Sen"] == [5, 6, 8]
    assert rows_of["Xóm Cốc Lầu"] == [5, 6, 7]  # criterion 2 holds figures and no indicator


def test_a_sheet_scan_gives_the_texts_of_reading_every_cell() -> None:
    """The one pass over a sheet's distinct values gives the cell texts, the all-text flag and
    the long-cell flag that reading every cell gives, whatever was judged before."""
    import datetime as dt

    from ntm_analysis import load
    from ntm_analysis.cells import SheetGrid

    grids = [
        SheetGrid("texts", [["TT", "Nội dung", ""], ["1", "Có", "Đạt"]]),
        SheetGrid("bool", [["a", True], ["b", ""]]),
        SheetGrid("one", [["a", 1.0], ["b", ""]]),  # equal to True: judged alike, read apart
        SheetGrid("mixed", [["Xóm  Ao Sen", "Ha\u0300 Nội", 3.0, True],
                            [1, "x" * 1001, "", dt.datetime(2024, 1, 1)],
                            [float("nan"), "Đạt", "", ""], ["short"]]),
        SheetGrid("number under a merge", [["TT", "Nội dung"], ["1", 2.0]],
                  merged=[((0, 1), (1, 1))]),
        SheetGrid("long", [["y" * 1001, ""]]),
    ]
    _forget_loader_memos()
    for grid in grids + grids:  # cold, then from the memo
        cell_by_cell = load._SheetLoader(grid, "f.xlsx", None)
        scanned = load._SheetLoader(grid, "f.xlsx", None, load._scan_sheet(grid.rows))
        assert scanned.texts == cell_by_cell.texts, grid.name
        assert scanned.all_text == cell_by_cell.all_text, grid.name
        assert scanned.long_text == cell_by_cell.long_text, grid.name
    by_name = {g.name: load._SheetLoader(g, "f.xlsx", None, load._scan_sheet(g.rows))
               for g in grids}
    assert by_name["texts"].all_text and by_name["texts"].texts is by_name["texts"].cells
    assert by_name["one"].texts == [["a", "1"], ["b", ""]]
    assert by_name["bool"].texts == [["a", "TRUE"], ["b", ""]]
    assert by_name["number under a merge"].all_text  # the merge covers the number
    assert by_name["long"].long_text and by_name["mixed"].long_text
    assert not by_name["texts"].long_text


#: Pieces of title text: unit words and names, years, punctuation, white space and characters
#: whose folding or case mapping depends on their neighbours (combining marks, sigma, İ, ß).
_TITLE_PIECES = st.sampled_from(
    ["XÓM", "Xóm", "xã", "XÃ", "tổ dân phố", "Bản", "Làng", "các", "Ao", "SEN", "Kim Phượng",
     "NĂM", "năm", "2024", "1.2", "-", "–", ":", "(", ")", "/", "%", " ", "  ", "\t", "\n",
     "\u00a0", "\u0301", "\u0323", "Σ", "σ", "İ", "ß", "Ǆ", "Ａ", "đ", "Đ"])
_TITLE_TEXT = st.lists(_TITLE_PIECES, max_size=10).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TITLE_TEXT, max_size=5), _TITLE_TEXT)
def test_a_titles_key_and_unit_names_come_from_its_lines(cells: list[str], sheet: str) -> None:
    """The loader folds a title and finds its unit names line by line (its cell texts, each
    folded and searched once per process): the same as folding and searching the whole."""
    from ntm_analysis import load
    from ntm_analysis.text import cell_text, fold

    parts = [t for t in map(cell_text, cells) if t]  # the title's texts, as the loader has them
    title = "\n".join(parts)
    assert " ".join(filter(None, map(fold, parts))) == fold(title)
    by_line = list(chain.from_iterable(map(load._line_unit_names,
                                           [*parts, *sheet.splitlines()])))
    assert by_line == unit_names(f"{title}\n{sheet}")


def test_money_without_a_unit_far_above_a_money_target_is_not_used(tmp_path: Path) -> None:
    """54030000 typed with no unit against "≥ 70 triệu đồng/người/năm" is đồng, not millions:
    the value is not used (a warning says why, the self-assessment decides); written with its
    unit it is converted and judged; a plain count target is not a money one."""
    result = load_workbook(_write(tmp_path / "kp.xlsx", [
        ["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÃ NTM KIỂU MẪU NĂM 2024 XÃ KIM PHƯỢNG"],
        ["TT", "Nội dung tiêu chí", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá"],
        ["1", "Sản xuất - Thu nhập - Hộ nghèo"],
        ["1.1", "Thu nhập bình quân", "≥ 70 triệu đồng/người/năm", 54030000, "Chưa đạt"],
        ["1.2", "Thu nhập xóm", "≥ 70 triệu đồng/người/năm", "72.500.000 đồng", None],
        ["1.3", "Số lao động qua đào tạo", "≥ 20 người", 25000, None]]))
    (issue,) = result.issues[result.issues[Iss.source_row] == 4].itertuples()  # said once
    assert (issue.code, issue.severity) == ("money_unit_missing", "warning")
    assert issue.problem.startswith("expected an amount in triệu đồng/người/năm (the target's "
                                    "unit), found 54,030,000 with no unit (in đồng?)")
    att = compute_attainment(result.indicators, add_missing=False).set_index(Ind.indicator_no)
    assert [(att.loc[n, "status"], att.loc[n, "status_basis"]) for n in ("1.1", "1.2", "1.3")] \
        == [("not_met", "self_assessment"), ("met", "value"), ("met", "value")]


def test_money_in_dong_against_a_target_naming_no_unit_is_not_used(tmp_path: Path) -> None:
    """"54.030.000 đồng" against a bare "≥ 70" met it (54,030,000 ≥ 70): a bare amount is in
    million VND by custom only, so a value in đồng, thousands or billions is not used (a
    warning; the self-assessment decides); in millions it is judged, and a unit column (ĐVT)
    in đồng is the bare target's unit too."""
    result = load_workbook(_write(tmp_path / "kp.xlsx", [
        ["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÃ NTM KIỂU MẪU NĂM 2024 XÃ KIM PHƯỢNG"],
        ["TT", "Nội dung tiêu chí", "ĐVT", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá"],
        ["1", "Sản xuất - Thu nhập - Hộ nghèo"],
        ["1.1", "Thu nhập bình quân", None, "≥ 70", "54.030.000 đồng", None],
        ["1.2", "Thu nhập xóm Cạm Phước", None, "≥ 70", "80.000 nghìn đồng", "Đạt"],
        ["1.3", "Thu nhập xóm Bản Lác", None, "≥ 70", "54,03 triệu đồng", None],
        ["1.4", "Thu nhập xóm Ao Sen", "đồng/người/năm", "≥ 70.000.000", "72.000.000 đồng",
         None]]))
    issues = result.issues[result.issues[Iss.code] == "target_unit_missing"]
    assert list(zip(issues[Iss.source_row], issues[Iss.value], issues[Iss.severity],
                    strict=True)) == [(4, "54.030.000 đồng", "warning"),
                                      (5, "80.000 nghìn đồng", "warning")]
    assert issues.iloc[0][Iss.problem].startswith("the value is in đồng but the target names "
                                                  "no unit")
    att = compute_attainment(result.indicators, add_missing=False).set_index(Ind.indicator_no)
    assert [(att.loc[n, "status"], att.loc[n, "status_basis"]) for n in
            ("1.1", "1.2", "1.3", "1.4")] == [
        ("unknown", "none"), ("met", "self_assessment"), ("not_met", "value"),
        ("met", "value")]


def test_a_value_in_another_unit_than_its_target_is_a_warning(tmp_path: Path) -> None:
    """"120 hộ" against "≥ 90%" and "95%" against "≥ 01 mô hình" cannot be compared: each is a
    warning naming both units, and the self-assessment decides."""
    result = load_workbook(_write(tmp_path / "xom.xlsx", [
        ["BIỂU RÀ SOÁT XÓM THÔNG MINH NĂM 2024 - XÓM PHAI ĐÁ"],
        ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"],
        ["1", "Hạ tầng số"],
        ["1.1", "Tỷ lệ hộ dùng cáp quang", "≥ 90%", "120 hộ", "Đạt"],
        ["1.2", "Mô hình chuyển đổi số", "≥ 01 mô hình", "95%", "Chưa đạt"],
        ["1.3", "Tỷ lệ hộ có điện thoại thông minh", "≥ 80%", "86%", "Đạt"]]))
    issues = result.issues[result.issues[Iss.code] == "unit_mismatch"]
    assert list(zip(issues[Iss.source_row], issues[Iss.value], issues[Iss.problem],
                    strict=True)) == [
        (4, "120 hộ", "expected a value in the target's unit (%), found one in hộ: not "
                      "comparable; the self-assessment decides"),
        (5, "95%", "expected a value in the target's unit (mô hình), found a percentage: not "
                   "comparable; the self-assessment decides")]
    att = compute_attainment(result.indicators, add_missing=False)
    assert list(zip(att[Att.status], att[Att.status_basis], strict=True)) == [
        ("met", "self_assessment"), ("not_met", "self_assessment"), ("met", "value")]


def test_yes_no_and_ratio_values_against_targets_they_cannot_answer(tmp_path: Path) -> None:
    """"Có" against "≥ 90%" says nothing of the share and "75 triệu đồng" is no ratio ("≥ 1,5
    lần"): each is a warning (the first was left unknown without a word, the second met);
    "Không có hộ nghèo" against "≤ 2%" is 0%, judged with no warning."""
    result = load_workbook(_write(tmp_path / "xom.xlsx", [
        ["BIỂU RÀ SOÁT XÓM NTM KIỂU MẪU NĂM 2024 - XÓM CẠM PHƯỚC"],
        ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"],
        ["1", "Thu nhập, hộ nghèo"],
        ["1.1", "Tỷ lệ hộ có nhà vệ sinh hợp vệ sinh", "≥ 90%", "Có", None],
        ["1.2", "Thu nhập so với khi đạt chuẩn", "≥ 1,5 lần", "75 triệu đồng", "Đạt"],
        ["1.3", "Tỷ lệ hộ nghèo", "≤ 2%", "Không có hộ nghèo", None]]))
    issues = result.issues[result.issues[Iss.code] == "unit_mismatch"]
    assert list(zip(issues[Iss.source_row], issues[Iss.problem], strict=True)) == [
        (4, "a yes/no value ('Có') says nothing of a share ('≥ 90%'): the self-assessment "
            "decides"),
        (5, "expected a value in the target's unit (lần), found one in triệu đồng: not "
            "comparable; the self-assessment decides")]
    att = compute_attainment(result.indicators, add_missing=False)
    assert list(zip(att[Att.status], att[Att.status_basis], strict=True)) == [
        ("unknown", "none"), ("met", "self_assessment"), ("met", "value")]


def test_a_result_giving_figures_for_several_years_is_told(tmp_path: Path) -> None:
    """"Năm 2023: 85%, năm 2024: 92%" was 85%, the first year's (not met in a 2024 table): it is
    no one value now, an info naming the years, and the self-assessment decides."""
    result = load_workbook(_write(tmp_path / "xom.xlsx", [
        ["BIỂU RÀ SOÁT XÓM NTM KIỂU MẪU NĂM 2024 - XÓM CẠM PHƯỚC"],
        ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"],
        ["1", "Giáo dục"],
        ["1.1", "Tỷ lệ lao động qua đào tạo", "≥ 90%", "Năm 2023: 85%, năm 2024: 92%", "Đạt"]]))
    (issue,) = result.issues.itertuples()
    assert (issue.code, issue.severity, issue.source_row) == ("text_value", "info", 4)
    assert issue.problem == ("the cell gives figures for 2 years (2023, 2024): expected one "
                             "value, the table's year's; the self-assessment decides")
    att = compute_attainment(result.indicators, add_missing=False)
    assert (att[Att.status].iloc[0], att[Att.status_basis].iloc[0]) == (
        "met", "self_assessment")


def test_the_unit_column_is_the_unit_of_a_value_that_names_none(tmp_path: Path) -> None:
    """A "ĐVT" column gives each row's unit: 54.030.000 under "đồng/người/năm" is 54.03
    million against "≥ 70 triệu" (it was taken for đồng with no unit written: not used, a
    warning); a count under "Hộ" against "≥ 90%" is not comparable (it was silently not
    judged); 0.95 under "%" is Excel's 95% as without the column (it was 0.95%), "0,95%"
    written so stays 0.95%."""
    result = load_workbook(_write(tmp_path / "dvt.xlsx", [
        ["BIỂU TỔNG HỢP KẾT QUẢ THỰC HIỆN BỘ TIÊU CHÍ XÃ NTM KIỂU MẪU XÃ KIM PHƯỢNG NĂM 2024"],
        ["TT", "Tên tiêu chí", "Nội dung tiêu chí", "ĐVT", "Chỉ tiêu", "Hiện trạng",
         "Đánh giá"],
        [1, "Thu nhập", "1.1. Thu nhập bình quân", "Triệu đồng/người/năm", "≥ 70", "54,03",
         "Chưa đạt"],
        [None, None, "1.2. Thu nhập (đồng)", "đồng/người/năm", "≥ 70 triệu", "54.030.000",
         "Chưa đạt"],
        [None, None, "1.3. Tỷ lệ hộ có việc làm", "Hộ", "≥ 90%", "95", "Đạt"],
        [None, None, "1.4. Tỷ lệ lao động qua đào tạo", "%", "≥ 90%", 0.95, "Đạt"],
        [None, None, "1.5. Tỷ lệ hộ nghèo đa chiều", "%", "≥ 90%", "0,95%", "Chưa đạt"],
        # a bare target under "%" is a percentage too (0.95 was 0.95, not met)
        [None, None, "1.6. Tỷ lệ hộ dùng nước sạch", "%", "≥ 90", 0.95, "Đạt"]]))
    issues = result.issues
    assert list(zip(issues[Iss.source_row], issues[Iss.code], strict=True)) == [
        (5, "unit_mismatch"), (6, "percent_fraction"), (8, "percent_fraction")]
    assert issues[Iss.problem].iloc[0] == (
        "expected a value in the target's unit (%), found one in Hộ: not comparable; the "
        "self-assessment decides")
    att = compute_attainment(result.indicators, add_missing=False)
    assert list(zip(att[Ind.indicator_no], att[Att.status], att[Att.status_basis],
                    strict=True)) == [
        ("1.1", "not_met", "value"), ("1.2", "not_met", "value"),
        ("1.3", "met", "self_assessment"), ("1.4", "met", "value"),
        ("1.5", "not_met", "value"), ("1.6", "met", "value")]
    assert att[Att.gap].astype("float64").tolist() == pytest.approx(
        [15.97, 15.97, math.nan, 0.0, 89.05, 0.0], nan_ok=True)


def test_summary_rows_below_the_table_are_footers_not_indicators(tmp_path: Path) -> None:
    """"Tổng số tiêu chí đạt | 3/10" and "Tổng số chỉ tiêu đạt | 22/31" below the table were
    indicators 1.3 and 1.4 (with values, counted in the hamlet's attainment); they are footer
    rows now. A numbered indicator whose name starts alike is still an indicator."""
    result = load_workbook(_write(tmp_path / "tong.xlsx", [
        ["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NTM KIỂU MẪU NĂM 2024"], ["XÓM AO SEN - XÃ KIM PHƯỢNG"],
        ["TT", "Nội dung tiêu chí", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá"],
        ["1", "Quy hoạch"], ["1.1", "Có quy hoạch chi tiết xóm", "Có", "Có", "Đạt"],
        ["1.2", "Tổng số biển chỉ dẫn đạt chuẩn", "≥ 02", "02", "Đạt"],
        [None, "Tổng số tiêu chí đạt", None, "3/10", None],
        [None, "Tổng số chỉ tiêu đạt", None, "22/31", "Chưa đạt"]]))
    assert result.indicators[Ind.indicator_no].tolist() == ["1.1", "1.2"]
    assert list(zip(result.issues[Iss.source_row], result.issues[Iss.code],
                    result.issues[Iss.value], strict=True)) == [
        (7, "footer_row", "Tổng số tiêu chí đạt | 3/10"),
        (8, "footer_row", "Tổng số chỉ tiêu đạt | 22/31 | Chưa đạt")]
    # the same with the summary's words merged across the name and target columns
    path = tmp_path / "tong.xlsx"
    wb = openpyxl.load_workbook(path)
    for ref in ("B7:C7", "B8:C8"):
        wb.active.merge_cells(ref)
    wb.save(path)
    merged = load_workbook(path)
    assert merged.indicators[Ind.indicator_no].tolist() == ["1.1", "1.2"]
    assert merged.issues[Iss.code].tolist() == ["footer_row", "footer_row"]


def test_duplicates_in_a_table_without_a_unit_name_are_errors_not_a_crash(
        tmp_path: Path) -> None:
    """No unit name anywhere and indicator 1.1 twice: each row an error naming "the same
    unit" (the message's unit, missing, stopped the load with 'boolean value of NA is
    ambiguous')."""
    result = load_workbook(_write(tmp_path / "khong_ten.xlsx", [
        ["KẾT QUẢ RÀ SOÁT TIÊU CHÍ NĂM 2024"],
        ["TT", "Nội dung tiêu chí", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá"],
        ["1", "Quy hoạch"], ["1.1", "Có quy hoạch", "Có", "Có", "Đạt"],
        ["1.1", "Có bảng tên", "Có", "Có", "Đạt"]]))
    errors = result.issues[result.issues[Iss.code] == "duplicate_indicator"]
    assert errors[Iss.problem].tolist() == [
        "indicator 1.1 appears more than once for the same unit (Phụ biểu!4, Phụ biểu!5)"] * 2


def _one_row_table(tmp_path: Path, header: list[str], row: list[object]) -> LoadResult:
    return load_workbook(_write(tmp_path / "cot.xlsx", [
        ["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÃ NTM KIỂU MẪU XÃ KIM PHƯỢNG NĂM 2024"], header,
        ["1", "Sản xuất - Thu nhập - Hộ nghèo"], row]))


def test_a_year_in_each_result_columns_own_header_reads_each_as_its_year(
        tmp_path: Path) -> None:
    """"Kết quả thực hiện năm 2023 | Ước thực hiện năm 2024 | Tự đánh giá": the first column
    was read as 2024 (the title's year) and the estimate for 2024 was dropped without a word;
    so were a second year's pair of columns."""
    result = _one_row_table(
        tmp_path, ["TT", "Nội dung tiêu chí", "Chỉ tiêu", "Kết quả thực hiện năm 2023",
                   "Ước thực hiện năm 2024", "Tự đánh giá"],
        ["1.6", "Tỷ lệ lao động có việc làm qua đào tạo", "≥ 80%", "78%", "82%", "Đạt"])
    ind = result.indicators
    assert list(zip(ind[Ind.year], ind[Ind.value_text], ind[Ind.self_assessment].fillna(""),
                    strict=True)) == [(2023, "78%", ""), (2024, "82%", "met")]
    assert result.issues.empty
    pairs = _one_row_table(
        tmp_path, ["TT", "Nội dung tiêu chí", "Chỉ tiêu", "Hiện trạng năm 2022",
                   "Đánh giá năm 2022", "Hiện trạng năm 2023", "Đánh giá năm 2023"],
        ["1.6", "Tỷ lệ lao động", "≥ 80%", "78%", "Chưa đạt", "82%", "Đạt"]).indicators
    assert list(zip(pairs[Ind.year], pairs[Ind.value_text], pairs[Ind.self_assessment],
                    strict=True)) == [(2022, "78%", "not_met"), (2023, "82%", "met")]


@pytest.mark.parametrize("header", ["Kết quả (Đạt/Chưa đạt)", "Kết quả", "Đạt/Chưa đạt",
                                    "Đạt hay không đạt", "Mức độ đạt"])
def test_an_assessment_column_headed_as_offices_head_it(tmp_path: Path, header: str) -> None:
    """"Hiện trạng | Kết quả (Đạt/Chưa đạt)" and "Hiện trạng | Kết quả": the second column is
    the self-assessment (it was a second result column, dropped: no self-assessment at all);
    so is a column headed "Đạt/Chưa đạt" (it was not recognised)."""
    result = _one_row_table(
        tmp_path, ["TT", "Nội dung tiêu chí", "Chỉ tiêu", "Hiện trạng", header],
        ["1.6", "Tỷ lệ lao động", "≥ 80%", "78%", "Chưa đạt"])
    assert result.indicators[Ind.self_assessment].tolist() == ["not_met"]
    assert result.issues.empty


@pytest.mark.parametrize(("target", "result"), [("Mức quy định", "Số liệu"),
                                                 ("Quy định", "Hiện trạng")])
def test_target_and_result_columns_headed_as_offices_head_them(
        tmp_path: Path, target: str, result: str) -> None:
    """"Mức quy định" / "Quy định" head the target, "Số liệu" the result (none was read: the
    indicator had no target, or no value, and the self-assessment alone decided)."""
    loaded = _one_row_table(
        tmp_path, ["TT", "Các tiêu chí", target, result, "Tự đánh giá"],
        ["1.6", "Tỷ lệ lao động", "≥ 80%", "78%", "Đạt"])
    ind = loaded.indicators
    assert (ind[Ind.indicator_name].tolist(), ind[Ind.target_text].tolist(),
            ind[Ind.value_text].tolist()) == (["Tỷ lệ lao động"], ["≥ 80%"], ["78%"])
    att = compute_attainment(ind, add_missing=False)
    assert (att[Att.status].tolist(), att[Att.status_basis].tolist()) == (["not_met"], ["value"])


def test_a_second_result_or_assessment_column_is_said_not_read(tmp_path: Path) -> None:
    result = _one_row_table(
        tmp_path, ["TT", "Nội dung tiêu chí", "Chỉ tiêu", "Hiện trạng", "Hiện trạng (cập nhật)",
                   "Tự đánh giá", "Đánh giá của huyện"],
        ["1.6", "Tỷ lệ lao động", "≥ 80%", "78%", "82%", "Đạt", "Chưa đạt"])
    assert result.indicators[Ind.value_text].tolist() == ["78%"]
    assert list(zip(result.issues[Iss.column], result.issues[Iss.severity],
                    result.issues[Iss.code], strict=True)) == [
        ("Hiện trạng (cập nhật)", "warning", "extra_column_not_read"),
        ("Đánh giá của huyện", "info", "extra_column_not_read")]
    assert result.issues[Iss.problem].tolist() == [
        "a second result column beside 'Hiện trạng' holds data (row 4) and was not read: "
        "expected one result column per unit, or a year in each one's header ('Kết quả năm "
        "2023' | 'Ước thực hiện năm 2024') to read each as its year",
        "a second assessment column beside 'Tự đánh giá' holds data (row 4); the "
        "self-assessment is read from 'Tự đánh giá' alone"]


def test_a_column_the_table_does_not_read_is_named(tmp_path: Path) -> None:
    """"Xã tự đánh giá" is the self-assessment (it was no column: the table had none); the
    district's "Kết quả thẩm tra" beside it, and a column without a header, hold data that is
    not read: each is named (an info row), not dropped without a word."""
    result = load_workbook(_write(tmp_path / "thamtra.xlsx", [
        ["BIỂU THẨM TRA TIÊU CHÍ XÓM NTM KIỂU MẪU NĂM 2024 - XÓM CẠM PHƯỚC, XÃ KIM PHƯỢNG"],
        ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Xã tự đánh giá", "Kết quả thẩm tra",
         None],
        ["1", "Giao thông"],
        ["1.1", "Đường trục xóm được cứng hóa", "100%", "100%", "Đạt", "Đạt", "ok"],
        ["1.2", "Đường ngõ xóm được cứng hóa", "100%", "95%", "Đạt", "Chưa đạt", None]]))
    assert result.indicators[Ind.self_assessment].tolist() == ["met", "met"]
    issues = result.issues
    assert list(zip(issues[Iss.column], issues[Iss.severity], issues[Iss.code],
                    strict=True)) == [("Kết quả thẩm tra", "info", "column_not_read"),
                                      ("G", "info", "column_not_read")]
    assert issues[Iss.problem].tolist() == [
        "column 'Kết quả thẩm tra' holds data on indicator rows (2 rows, 4–5) and is none of "
        "the table's columns (number, name, target, unit, result, assessment, note): not read",
        "column G (no header) holds data on indicator rows (row 4) and is none of the table's "
        "columns (number, name, target, unit, result, assessment, note): not read"]


@pytest.mark.parametrize("own_first", [True, False])
def test_the_districts_verification_beside_the_units_own_columns(tmp_path: Path,
                                                                   own_first: bool) -> None:
    """A verification table: the commune's "Xã tự đánh giá" and the district's "Huyện thẩm
    tra", each over (Hiện trạng, Đánh giá). The unit's own columns are read, left or right of
    the district's (the headers made two units, "Tự Đánh Giá" and "Xóm Huyện thẩm tra"; with
    the district's first, its columns were read as the unit's); the district's are named."""
    own, district = ["Xã tự đánh giá", None], ["Huyện thẩm tra", None]
    own_cells, district_cells = [["100%", "Đạt"], ["95%", "Chưa đạt"]], [["100%", "Đạt"],
                                                                          ["95%", "Đạt"]]
    left, right = (own, district) if own_first else (district, own)
    cells = list(zip(own_cells, district_cells, strict=True)) if own_first else \
        list(zip(district_cells, own_cells, strict=True))
    rows = [
        ["BIỂU THẨM TRA TIÊU CHÍ XÓM NTM KIỂU MẪU NĂM 2024 - XÓM CẠM PHƯỚC, XÃ KIM PHƯỢNG"],
        ["TT", "Nội dung", "Chỉ tiêu", *left, *right],
        [None, None, None, "Hiện trạng", "Đánh giá", "Hiện trạng", "Đánh giá"],
        ["1", "Giao thông"],
        *[[f"1.{i + 1}", f"Đường {i + 1}", "100%", *a, *b] for i, (a, b) in enumerate(cells)],
    ]
    path = _write(tmp_path / "thamtra.xlsx", rows)
    wb = openpyxl.load_workbook(path)
    for cells_range in ("D2:E2", "F2:G2"):
        wb.active.merge_cells(cells_range)
    wb.save(path)
    result = load_workbook(path)
    ind = result.indicators
    assert set(ind[Ind.unit]) == {"Xóm Cạm Phước"}
    assert ind[Ind.self_assessment].tolist() == ["met", "not_met"]  # the commune's own
    issues = result.issues
    assert issues[Iss.column].tolist() == ["Huyện thẩm tra / Hiện trạng",
                                           "Huyện thẩm tra / Đánh giá"]
    assert set(issues[Iss.severity]) == {"info"}
    assert issues[Iss.problem].iloc[1] == (
        "a verification column ('Huyện thẩm tra / Đánh giá') beside the unit's own ('Xã tự "
        "đánh giá / Đánh giá') holds data (2 rows, 5–6); the unit's own are read, the "
        "verification is not")


def test_a_criterion_rows_assessment_against_its_indicators(tmp_path: Path) -> None:
    """A criterion row's own "Đạt" is not read (the criterion's status comes from its
    indicators); it disagreeing with them was said nowhere: a warning now, naming the rows.
    Agreeing, or with no indicators (the row is its own indicator), it says nothing."""
    result = load_workbook(_write(tmp_path / "xom.xlsx", [
        ["BIỂU RÀ SOÁT TIÊU CHÍ XÓM NTM KIỂU MẪU NĂM 2024 - XÓM CẠM PHƯỚC, XÃ KIM PHƯỢNG"],
        ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"],
        ["1", "Giao thông", None, None, "Đạt"],
        ["1.1", "Đường trục xóm được cứng hóa", "100%", "100%", "Đạt"],
        ["1.2", "Đường ngõ xóm được cứng hóa", "100%", "90%", "Chưa đạt"],
        ["2", "Điện", "Đạt", "Đạt", "Đạt"],
        ["3", "Nhà ở", None, None, "Chưa đạt"],
        ["3.1", "Nhà ở đạt chuẩn", "≥ 90%", "95%", "Đạt"],
        ["4", "Văn hóa", None, None, "Đạt"],
        ["4.1", "Nhà văn hóa đạt chuẩn", "Đạt", "Đạt", "Đạt"]]))
    issues = result.issues
    assert list(zip(issues[Iss.source_row], issues[Iss.code], issues[Iss.severity],
                    strict=True)) == [(3, "criterion_assessment_mismatch", "warning"),
                                      (7, "criterion_assessment_mismatch", "warning")]
    assert issues[Iss.problem].tolist() == [
        "the criterion row says 'Đạt' but indicator row(s) 5 say 'Chưa đạt': the criterion's "
        "status comes from its indicators, not from this row",
        "the criterion row says 'Chưa đạt' but its one indicator says 'Đạt': the "
        "criterion's status comes from its indicators, not from this row"]
    assert result.indicators[Ind.indicator_no].tolist() == ["1.1", "1.2", "2.1", "3.1", "4.1"]


def test_a_sheet_summing_up_the_criteria_is_not_read_as_indicators(tmp_path: Path) -> None:
    """"Tên tiêu chí | Số chỉ tiêu | Số chỉ tiêu đạt | Đánh giá" sums up the criteria: its rows
    were indicators "1", "2" under no criterion (each a warning), beside the real ones."""
    path = _write(tmp_path / "tong_hop.xlsx", [
        ["BIỂU TỔNG HỢP KẾT QUẢ THỰC HIỆN TIÊU CHÍ XÃ NTM KIỂU MẪU NĂM 2024 - XÃ KIM PHƯỢNG"],
        ["TT", "Tên tiêu chí", "Số chỉ tiêu", "Số chỉ tiêu đạt", "Đánh giá"],
        [1, "Sản xuất - Thu nhập - Hộ nghèo", 7, 5, "Chưa đạt"],
        [2, "Giáo dục", 3, 3, "Đạt"]])
    result = load_workbook(path)
    assert result.indicators.empty
    (issue,) = result.issues.itertuples()
    assert (issue.code, issue.severity, issue.column) == ("criteria_summary", "info",
                                                         "Số chỉ tiêu")
    # alone, it is no indicator table: the summary says why
    run = CliRunner().invoke(cli, ["summary", str(path)])
    assert run.exit_code == 2 and "sums up the criteria" in run.output


def test_a_hidden_column_the_table_reads_is_a_warning(tmp_path: Path) -> None:
    """A hidden "Hiện trạng" column is read all the same: a warning names it. A hidden column
    outside the table ("Nháp") and the columns hidden to the sheet's end say nothing."""
    path = _write(tmp_path / "an_cot.xlsx", [
        ["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÃ NTM KIỂU MẪU NĂM 2024 XÃ KIM PHƯỢNG"],
        ["TT", "Nội dung tiêu chí", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá", "Ghi chú", "Nháp"],
        ["1", "Sản xuất - Thu nhập - Hộ nghèo"],
        ["1.3", "Có sản phẩm OCOP đạt từ 3 sao trở lên", "≥ 01 sản phẩm", "02 sản phẩm", "Đạt",
         None, "x"],
        ["1.6", "Tỷ lệ lao động có việc làm qua đào tạo", "≥ 80%", "82%", "Đạt", None, "y"]])
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for letter in ("D", "F", "G"):  # F: hidden and empty
        ws.column_dimensions[letter].hidden = True
    ws.column_dimensions.group("H", "XFD", hidden=True)
    wb.save(path)
    result = load_workbook(path)
    unread, issue = result.issues.itertuples()
    assert (issue.source_row, issue.code, issue.severity) == (2, "hidden_columns", "warning")
    assert issue.problem == (
        "1 hidden column(s) of the table hold data and were read: D ('Hiện trạng') (expected "
        "visible columns; unhide them in Excel to check)")
    # "Nháp" is no column of the table: named as not read (an info), hidden or not
    assert (unread.column, unread.code, unread.severity) == ("Nháp", "column_not_read", "info")
    assert result.indicators[Ind.value].tolist() == [2.0, 82.0]


def test_money_in_another_unit_than_its_rows_unit_column_is_converted(tmp_path: Path) -> None:
    """"54.030.000đ" under "ĐVT: Triệu đồng/người/năm" against "≥ 70" (the row's unit) is
    54.03 million: not met (it was 54,030,000 ≥ 70, met); an info row says what was read."""
    result = load_workbook(_write(tmp_path / "dvt.xlsx", [
        ["BIỂU TỔNG HỢP KẾT QUẢ THỰC HIỆN BỘ TIÊU CHÍ XÃ NTM KIỂU MẪU XÃ KIM PHƯỢNG NĂM 2024"],
        ["TT", "Tên tiêu chí", "Nội dung tiêu chí", "ĐVT", "Chỉ tiêu", "Hiện trạng",
         "Đánh giá"],
        [1, "Thu nhập", "1.4. Thu nhập bình quân đầu người", "Triệu đồng/người/năm", "≥ 70",
         "54.030.000đ", None],
        [None, None, "1.5. Thu nhập xóm", "Triệu đồng/người/năm", "≥ 70 triệu đồng",
         "72.500 nghìn đồng", None],
        [None, None, "1.6. Thu nhập xóm", "Triệu đồng/người/năm", "≥ 70", "54,03 tr.đ",
         None]]))
    ind = result.indicators
    assert ind[Ind.value].tolist() == [54.03, 72.5, 54.03]
    assert ind[Ind.value_text].tolist() == ["54.030.000đ", "72.500 nghìn đồng", "54,03 tr.đ"]
    assert list(zip(result.issues[Iss.source_row], result.issues[Iss.code],
                    result.issues[Iss.severity], strict=True)) == [
        (3, "value_unit_converted", "info"), (4, "value_unit_converted", "info")]
    assert result.issues[Iss.problem].iloc[0] == (
        "the value is written in đ, the row's unit (ĐVT) is Triệu đồng/người/năm: read as "
        "54.03 Triệu đồng/người/năm")
    att = compute_attainment(ind, add_missing=False)
    assert att[Att.status].tolist() == ["not_met", "met", "not_met"]


@pytest.mark.parametrize(("block", "merges"), [
    # "Người lập biểu" on the left, the committee's signature under the results
    ([["", "NGƯỜI LẬP BIỂU", "", "TM. ỦY BAN NHÂN DÂN", ""], ["", "", "", "KT. CHỦ TỊCH", ""],
      ["", "", "", "PHÓ CHỦ TỊCH", ""], ["", "Nguyễn Văn An", "", "Hoàng Văn Bình", ""]], []),
    # only the committee's, merged across the result and assessment columns
    ([["", "", "", "TM. ỦY BAN NHÂN DÂN", ""], ["", "", "", "CHỦ TỊCH", ""],
      ["", "", "", "Hoàng Văn Bình", ""]], ["D9:E9", "D10:E10", "D11:E11"]),
    ([["", "", "", "(Ký, ghi rõ họ tên, đóng dấu)", ""]], []),
])
def test_a_signature_block_under_the_results_is_a_footer(
        tmp_path: Path, block: list[list[str]], merges: list[str]) -> None:
    """Signature blocks put "TM. ỦY BAN NHÂN DÂN" or "KT. CHỦ TỊCH" in the result column:
    the rows are footers (info), not an indicator with "TM. ỦY BAN NHÂN DÂN" as its value."""
    path = _write(tmp_path / "ky.xlsx", [
        ["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÃ NTM KIỂU MẪU NĂM 2024 XÃ KIM PHƯỢNG"],
        ["TT", "Nội dung tiêu chí", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá"],
        ["1", "Sản xuất - Thu nhập - Hộ nghèo"],
        ["1.3", "Có sản phẩm OCOP đạt từ 3 sao trở lên", "≥ 01 sản phẩm", "02 sản phẩm",
         "Đạt"],
        ["1.6", "Tỷ lệ lao động có việc làm qua đào tạo", "≥ 80%", "82%", "Đạt"],
        ["2", "Giáo dục - Y tế - Văn hóa"],
        ["2.6", "Tỷ lệ người dân tham gia bảo hiểm y tế", "≥ 95%", "96,5%", "Đạt"],
        [], *block])
    if merges:
        wb = openpyxl.load_workbook(path)
        for ref in merges:
            wb.active.merge_cells(ref)
        wb.save(path)
    result = load_workbook(path)
    assert result.indicators[Ind.indicator_no].tolist() == ["1.3", "1.6", "2.6"]
    footers = result.issues[result.issues[Iss.code] == "footer_row"]
    assert footers[Iss.source_row].tolist() == list(range(9, 9 + len(block)))
    assert set(footers[Iss.severity]) == {"info"}
    assert (result.issues[Iss.code] == "footer_row").all()


def test_a_number_cell_that_lost_its_final_zero_is_read_as_meant(tmp_path: Path) -> None:
    """1.1 … 1.12 typed as numbers: Excel keeps 1.10 as 1.1, which read as a second 1.1 (a
    duplicate error for both rows). After 1.9 it is 1.10, with a warning saying how to write
    it; a 1.1 after 1.1 stays a duplicate."""
    rows: list[list[object]] = [
        ["BIỂU RÀ SOÁT TIÊU CHÍ XÃ NTM KIỂU MẪU NĂM 2024 - XÃ KIM PHƯỢNG"],
        ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"], [1, "Tiêu chí 1"]]
    rows += [[float(f"1.{i}"), f"Chỉ tiêu {i}", "Đạt", "Đạt", "Đạt"] for i in range(1, 13)]
    result = load_workbook(_write(tmp_path / "so.xlsx", rows))
    assert result.indicators[Ind.indicator_no].tolist() == [f"1.{i}" for i in range(1, 13)]
    (issue,) = result.issues.itertuples()
    assert (issue.source_row, issue.code, issue.value, issue.problem) == (
        13, "number_lost_zero", "1.1", "indicator number 1.1 follows 1.9: read as 1.10 (a "
        "number cell drops the final zero; write '1.10' as text)")
    twice = load_workbook(_write(tmp_path / "hai.xlsx", rows[:4] + rows[3:5])).issues
    assert twice[Iss.code].tolist() == ["duplicate_indicator"] * 2


def test_a_title_naming_the_advanced_set_is_judged_by_its_own_targets(
        tmp_path: Path, sample_paths: list[Path]) -> None:
    """The sample commune table titled "XÃ NÔNG THÔN MỚI NÂNG CAO": a set the catalogue does
    not hold. Its numbers matched the model-commune set's, which was taken; now no set is, an
    info row says why, and the counts are the table's own."""
    (commune,) = [p for p in sample_paths if p.name.endswith("xa_kieu_mau.xlsx")]
    wb = openpyxl.load_workbook(commune)
    wb.active["A3"] = "KẾT QUẢ RÀ SOÁT CÁC TIÊU CHÍ XÃ NÔNG THÔN MỚI NÂNG CAO NĂM 2024"
    wb.save(tmp_path / "nang_cao.xlsx")
    advanced = load_workbook(tmp_path / "nang_cao.xlsx")
    assert advanced.indicators[Ind.criteria_set].isna().all()
    info = advanced.issues[advanced.issues[Iss.code] == "set_not_in_catalogue"]
    assert info[Iss.problem].tolist() == [
        "the title names the advanced NTM criteria (nông thôn mới nâng cao), which the "
        "catalogue does not hold: the indicators are judged by the table's own targets and "
        "none is added as missing"]
    model = load_workbook(commune)
    assert set(model.indicators[Ind.criteria_set]) == {"TN_XA_NTM_KIEUMAU_2022_2025"}
    assert len(advanced.indicators) == len(model.indicators)


def test_an_excel_error_typed_as_text_is_a_warning(tmp_path: Path) -> None:
    """"#N/A" kept as text (pasted, or typed after an apostrophe) is no value: a warning names
    the error, not an info "value not understood"; the self-assessment decides."""
    path = _write(tmp_path / "xom.xlsx", [
        ["BIỂU RÀ SOÁT XÓM THÔNG MINH NĂM 2024 - XÓM PHAI ĐÁ"],
        ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"], ["1", "Hạ tầng số"],
        ["1.1", "Tỷ lệ hộ dùng cáp quang", "≥ 90%", "#N/A", "Đạt"]])
    wb = openpyxl.load_workbook(path)
    wb.active["D4"].data_type = "s"  # a text cell, not an error cell
    wb.save(path)
    result = load_workbook(path)
    (issue,) = result.issues.itertuples()
    assert (issue.source_row, issue.code, issue.severity, issue.value) == (
        4, "excel_error", "warning", "#N/A")
    assert result.indicators[Ind.self_assessment].tolist() == ["met"]
