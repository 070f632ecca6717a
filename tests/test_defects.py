"""The loader-level defect corpus: every defective workbook gives its exact, located message.

The workbooks in ``tests/data/with-problems/`` are written by ``make_loader_corpus.py`` (one
defect per file). Each case lists every error and warning the loader must report, as printed by
``format_issue`` (file, sheet, row/cell, what was expected); ``ntm summary FILE`` prints them as
``error: ...`` (exit code 3) or ``warning: ...`` (exit code 0) and never a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ntm_analysis.cli import cli
from ntm_analysis.errors import ValidationError, format_issue
from ntm_analysis.load import load_workbook
from ntm_analysis.schema import Ind, Iss, Severity

CORPUS = Path(__file__).resolve().parent / "data" / "with-problems"
SHEET = "sheet 'Phụ biểu 02'"
EXPECT_HEADER = "expected a header such as 'Hiện trạng', 'Kết quả' or 'Đánh giá'"

#: file stem → every (severity, message) the loader reports, in order (info rows excluded).
CASES: dict[str, list[tuple[str, str]]] = {
    "empty-workbook": [
        ("error", "empty-workbook.xlsx: the workbook is empty: no sheet has any cells; expected "
                  "an indicator table with a header row such as 'TT', 'Nội dung', 'Hiện trạng'"),
    ],
    "no-header-found": [
        ("error", "no-header-found.xlsx: no recognisable indicator table in sheet(s) "
                  "'Phụ biểu 02' (first 40 rows searched): expected a header row with 'TT', "
                  "'Nội dung' (or 'Tên tiêu chí') and 'Hiện trạng' or 'Đánh giá'"),
    ],
    "missing-result-column": [
        ("error", f"missing-result-column.xlsx, {SHEET}, row 5: the header has no result or "
                  f"assessment column: {EXPECT_HEADER}"),
    ],
    "missing-assessment-column": [
        ("warning", f"missing-assessment-column.xlsx, {SHEET}, row 5: no self-assessment "
                    "column: expected 'Tự đánh giá' or 'Đánh giá' (or 'Đạt' | 'Chưa đạt' "
                    "marks); statuses come from the values alone"),
    ],
    "duplicate-indicator-numbers": [
        ("error", f"duplicate-indicator-numbers.xlsx, {SHEET}, row {row}, column 'TT': "
                  "indicator 2.2 appears more than once for Xóm Bản Lác (Phụ biểu 02!11, "
                  "Phụ biểu 02!12), got '2.2'")
        for row in (11, 12)
    ],
    "indicator-under-no-criterion": [
        ("warning", f"indicator-under-no-criterion.xlsx, {SHEET}, row 6: indicator under no "
                    "criterion: expected a criterion row (1, 2… or I, II…) above it, got "
                    "'Xóm có nhà văn hóa'"),
    ],
    "merged-cells-across-data-area": [
        ("warning", f"merged-cells-across-data-area.xlsx, {SHEET}, row 10, column 'Hiện trạng':"
                    " merged cell D10:D12 spans data rows 10–12: expected one value per row; its"
                    " value was read for each of the 3 rows, got '100%'"),
    ],
    "formulas-without-cached-values": [
        ("warning", f"formulas-without-cached-values.xlsx, {SHEET}, row 10, column "
                    "'Hiện trạng': formula in cell D10 has no saved result: expected a value "
                    "(open the file in Excel and save it again); the cell was read as empty, "
                    "got '=95/100'"),
    ],
    "excel-errors": [
        ("warning", f"excel-errors.xlsx, {SHEET}, row 10, column 'Hiện trạng': cell D10 holds "
                    "the Excel error #DIV/0! from =D11/0: expected a value (correct the formula "
                    "or the cell in Excel and save it again); the cell was read as empty, got "
                    "'#DIV/0!'"),
        ("warning", f"excel-errors.xlsx, {SHEET}, row 12, column 'Hiện trạng': cell D12 holds "
                    "the Excel error #N/A: expected a value (correct the formula or the cell in "
                    "Excel and save it again); the cell was read as empty, got '#N/A'"),
    ],
    "numbers-stored-as-text": [
        ("warning", f"numbers-stored-as-text.xlsx, {SHEET}, row 12, column 'Hiện trạng': "
                    "expected a number, found a letter O among the digits; the value was not "
                    "used, got '9O%'"),
    ],
    "percent-fractions-mixed": [
        ("warning", f"percent-fractions-mixed.xlsx, {SHEET}, row 10, column 'Hiện trạng': "
                    "expected a percentage such as '95%', found a fraction; read as 95%, got "
                    "'0.95'"),
    ],
    "dates-where-numbers-belong": [
        ("warning", f"dates-where-numbers-belong.xlsx, {SHEET}, row 12, column 'Hiện trạng': "
                    "expected a number, a percentage or a yes/no word, found a date, got "
                    "'2024-03-02'"),
    ],
    "hidden-rows": [
        ("warning", f"hidden-rows.xlsx, {SHEET}, row 11: 2 hidden row(s) hold data and were "
                    "read: 11, 12 (expected visible rows; unhide them in Excel to check)"),
    ],
    "hidden-sheet": [
        ("warning", f"hidden-sheet.xlsx, {SHEET}: hidden sheet was read as data (expected "
                    "visible sheets; unhide it in Excel to check)"),
    ],
    "blank-formatted-rows-100k": [],
    "very-long-cells": [
        ("warning", f"very-long-cells.xlsx, {SHEET}, row 10, column 'Ghi chú': cell F10 holds "
                    "32,767 characters: expected at most 1,000 in a table cell (pasted text?); "
                    "kept in full"),
        ("warning", f"very-long-cells.xlsx, {SHEET}, row 11, column 'Nội dung tiêu chí/chỉ "
                    "tiêu': cell B11 holds 32,767 characters: expected at most 1,000 in a table "
                    "cell (pasted text?); kept in full"),
    ],
    "conflicting-marks": [
        ("warning", f"conflicting-marks.xlsx, {SHEET}, row 12, column 'Đạt / Chưa đạt': both "
                    "'Đạt' and 'Chưa đạt' are marked: expected one mark; self-assessment left "
                    "empty"),
    ],
    "conflicting-word-and-marks": [
        ("warning", f"conflicting-word-and-marks.xlsx, {SHEET}, row 11, column 'Tự đánh giá': "
                    "the assessment column says 'Đạt' but the x mark is under 'Chưa đạt': "
                    "expected them to agree; the mark was used, got 'Đạt'"),
    ],
    "unknown-unit-name": [
        ("warning", "unknown-unit-name.xlsx, sheet 'Sheet1': no unit name found in the title or"
                    " sheet name (expected e.g. 'XÃ KIM PHƯỢNG' or 'XÓM PHAI ĐÁ'), got "
                    "'Sheet1'"),
    ],
    "no-year-found": [
        ("warning", f"no-year-found.xlsx, {SHEET}: no year found: expected one such as "
                    "'NĂM 2024' in the title, sheet name or file name; pass --year"),
    ],
    "assessment-not-understood": [
        ("warning", f"assessment-not-understood.xlsx, {SHEET}, row 10, column 'Tự đánh giá': "
                    "self-assessment not understood: expected 'Đạt' or 'Chưa đạt', got 'Tốt'"),
    ],
    "indicator-number-mismatch": [
        ("warning", f"indicator-number-mismatch.xlsx, {SHEET}, row 12, column 'TT': indicator "
                    "number 3.1 does not belong to criterion 2; kept as 3.1, got '3.1'"),
    ],
    "header-without-rows": [
        ("error", f"header-without-rows.xlsx, {SHEET}, row 6: the indicator table has a header "
                  "but no indicator rows"),
    ],
}


def _corpus_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_loader_corpus",
                                                  CORPUS / "make_loader_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _path(stem: str) -> Path:
    return CORPUS / f"{stem}.xlsx"


def _reported(stem: str) -> list[tuple[str, str]]:
    issues = load_workbook(_path(stem)).issues
    shown = issues[issues[Iss.severity] != Severity.info]
    return [(row[Iss.severity], format_issue(row)) for _, row in shown.iterrows()]


def test_every_generated_defect_has_a_case_and_a_file() -> None:
    stems = {name.replace("_", "-") for name in _corpus_module().DEFECTS}
    assert stems == set(CASES)
    assert all(_path(s).is_file() for s in stems)
    assert len(stems) >= 20


@pytest.mark.parametrize("stem", sorted(CASES))
def test_loader_reports_the_exact_located_message(stem: str) -> None:
    assert _reported(stem) == CASES[stem]


@pytest.mark.parametrize("stem", sorted(CASES))
def test_summary_prints_the_message_and_exit_code(stem: str) -> None:
    result = CliRunner().invoke(cli, ["summary", str(_path(stem))])
    expected = CASES[stem]
    errors = [m for s, m in expected if s == Severity.error]
    warnings = [m for s, m in expected if s == Severity.warning]
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert [ln for ln in lines if ln.startswith("warning: ")] == [f"warning: {m}"
                                                                  for m in warnings]
    assert [ln for ln in lines if ln.startswith("error: ")] == [f"error: {m}" for m in errors]
    assert all(ln.startswith(("warning: ", "error: ")) for ln in lines)
    if errors:
        assert result.exit_code == ValidationError.exit_code
        assert 1 <= len(errors) <= 2
    else:
        assert result.exit_code == 0, result.stderr
        assert "unit" in result.stdout.splitlines()[0]


@pytest.mark.parametrize(("stem", "code"), [("missing-result-column", 3),
                                            ("hidden-rows", 0)])
def test_summary_as_a_real_process(stem: str, code: int) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-m", "ntm_analysis", "summary", str(_path(stem))],
                          capture_output=True, text=True, encoding="utf-8", env=env,
                          timeout=120, check=False)
    assert proc.returncode == code
    assert "Traceback" not in proc.stderr
    severity, message = CASES[stem][0]
    assert proc.stderr.splitlines() == [f"{severity}: {message}"]


# --------------------------------------------------------------------------- what was read


def _values(stem: str) -> dict[str, object]:
    ind = load_workbook(_path(stem)).indicators
    return {r[Ind.indicator_no]: r[Ind.value] for _, r in ind.iterrows()}


def test_numbers_as_text_are_read_and_the_letter_o_is_not_guessed() -> None:
    ind = load_workbook(_path("numbers-stored-as-text")).indicators.set_index(Ind.indicator_no)
    assert ind.loc["2.1", Ind.value] == pytest.approx(95.6)
    assert ind.loc["2.1", Ind.value_unit] == "%"
    assert ind.loc["2.2", Ind.value] == pytest.approx(86.5)
    assert ind.loc["2.3", Ind.value] is None or str(ind.loc["2.3", Ind.value]) == "<NA>"
    assert ind.loc["2.3", Ind.value_text] == "9O%"


def test_hidden_rows_and_sheets_are_still_read() -> None:
    assert set(_values("hidden-rows")) == {"1.1", "1.2", "2.1", "2.2", "2.3"}
    assert set(_values("hidden-sheet")) == {"1.1", "1.2", "2.1", "2.2", "2.3"}


def test_conflicting_marks_leave_the_assessment_empty_or_follow_the_mark() -> None:
    both = load_workbook(_path("conflicting-marks")).indicators.set_index(Ind.indicator_no)
    assert str(both.loc["2.2", Ind.self_assessment]) == "<NA>"
    assert both.loc["2.1", Ind.self_assessment] == "met"
    word = load_workbook(_path("conflicting-word-and-marks")).indicators.set_index(
        Ind.indicator_no)
    assert word.loc["2.2", Ind.self_assessment] == "not_met"


def test_stale_formula_is_read_as_empty_not_invented() -> None:
    ind = load_workbook(_path("formulas-without-cached-values")).indicators.set_index(
        Ind.indicator_no)
    assert str(ind.loc["2.1", Ind.value]) == "<NA>"
    assert ind.loc["2.1", Ind.self_assessment] == "met"


def test_excel_errors_are_read_as_empty_and_the_self_assessment_decides() -> None:
    """calamine reads an error cell as empty: the value is not invented, the self-assessment
    (Đạt for both) decides, and the warnings above say which cells."""
    ind = load_workbook(_path("excel-errors")).indicators.set_index(Ind.indicator_no)
    for no in ("2.1", "2.3"):
        assert str(ind.loc[no, Ind.value]) == "<NA>"
        assert ind.loc[no, Ind.self_assessment] == "met"
    assert ind.loc["2.2", Ind.value] == pytest.approx(86.5)


def test_very_long_cells_are_kept_in_full() -> None:
    ind = load_workbook(_path("very-long-cells")).indicators.set_index(Ind.indicator_no)
    assert len(ind.loc["2.1", Ind.note]) == 32_767
    assert len(ind.loc["2.2", Ind.indicator_name]) == 32_767


def test_blank_formatted_rows_are_cheap_and_lose_nothing() -> None:
    path = _path("blank-formatted-rows-100k")
    assert path.stat().st_size < 1_000_000
    start = time.perf_counter()
    ind = load_workbook(path).indicators
    assert time.perf_counter() - start < 15
    assert list(ind[Ind.indicator_no]) == ["1.1", "1.2", "2.1", "2.2", "2.3"]
    assert list(ind[Ind.source_row]) == [7, 8, 10, 11, 12]


def test_corpus_script_reproduces_the_committed_defects(tmp_path: Path) -> None:
    stems = ["hidden-rows", "merged-cells-across-data-area", "numbers-stored-as-text"]
    _corpus_module().write_corpus(tmp_path, [s.replace("-", "_") for s in stems])
    for stem in stems:
        fresh = load_workbook(tmp_path / f"{stem}.xlsx").issues
        committed = load_workbook(_path(stem)).issues
        assert list(fresh[Iss.problem]) == list(committed[Iss.problem])
        assert list(fresh[Iss.source_row]) == list(committed[Iss.source_row])
