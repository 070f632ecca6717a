"""`ntm summary FILE` on every file of the defect corpus: a located message, never a traceback.

The test is parametrized over the folder listing, so a file added to
``tests/data/with-problems/`` is covered without editing this file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ntm_analysis.cli import cli

CORPUS = Path(__file__).resolve().parent / "data" / "with-problems"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.suffix.lower() in (".xlsx", ".xls",
                                                                            ".xlsm", ".ods"))
#: Files that must be refused (exit non-zero); every other file loads with warnings at most.
ERRORS = {
    "csv-renamed.xlsx", "duplicate-indicator-numbers.xlsx", "empty-file.xlsx",
    "empty-workbook.xlsx", "excel-2003-xml.xls", "header-without-rows.xlsx",
    "html-renamed.xls", "missing-result-column.xlsx", "no-header-found.xlsx",
    "not-a-workbook-random-bytes.xlsx", "password-protected.xlsx", "pdf-renamed.xlsx",
    "png-renamed.xlsx", "truncated-workbook.xlsx", "valid-minimal.xlsx",
    "word-document-renamed.xlsx", "xml-entity-expansion.xlsx",
    "xml-external-entity-utf16.xlsx", "xml-external-entity.xlsx", "zip-bomb.xlsx",
    "zip-not-a-workbook.xlsx",
}
#: Files that load and must say what is wrong with them as a warning.
WARNS = {
    "assessment-not-understood.xlsx": "self-assessment not understood",
    "conflicting-marks.xlsx": "both 'Đạt' and 'Chưa đạt' are marked",
    "conflicting-word-and-marks.xlsx": "the assessment column says 'Đạt'",
    "dates-where-numbers-belong.xlsx": "found a date",
    "excel-errors.xlsx": "holds the Excel error #DIV/0!",
    "excel-errors.xls": "holds the Excel error #DIV/0!",
    "excel-errors.ods": "holds the Excel error #DIV/0!",
    "formulas-without-cached-values.xlsx": "has no saved result",
    "hidden-rows.xlsx": "hidden row(s) hold data",
    "hidden-sheet.xlsx": "hidden sheet was read",
    "legacy-tcvn3.xlsx": "typed in the legacy TCVN3 (ABC, .VnTime fonts) encoding were "
                         "converted to Unicode",
    "legacy-vni.xlsx": "typed in the legacy VNI (VNI-Times fonts) encoding were converted to "
                       "Unicode",
    "merged-cells-across-data-area.xlsx": "spans data rows",
    "numbers-stored-as-text.xlsx": "found a letter O among the digits",
    "percent-fractions-mixed.xlsx": "found a fraction",
    "unknown-unit-name.xlsx": "no unit name found",
    "very-long-cells.xlsx": "characters: expected at most 1,000",
}


def test_the_expectation_tables_name_existing_files() -> None:
    assert len(FILES) >= 25
    assert set(FILES) >= ERRORS and set(WARNS) <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_summary_on_every_corpus_file(name: str) -> None:
    result = CliRunner().invoke(cli, ["summary", str(CORPUS / name)])
    err = result.stderr
    everything = result.output + err
    assert "Traceback" not in everything
    assert "unexpected" not in err, err  # the last-resort handler means a crash was caught
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    lines = [line for line in err.splitlines() if line.strip()]
    if result.exit_code != 0:
        assert name in ERRORS or name not in WARNS, err
        assert result.exit_code in (2, 3, 4, 5), (result.exit_code, err)
        errors = [line for line in lines if line.startswith("error: ")]
        assert errors, err
        for line in errors:
            assert line.startswith(f"error: {name}"), line
        assert len(errors) <= 2
        assert all(line.startswith(("error: ", "warning: ")) for line in lines), err
    else:
        assert name not in ERRORS, f"{name} was expected to be refused:\n{result.output}"
        assert all(line.startswith(f"warning: {name}") for line in lines), err
        assert result.stdout.startswith("unit"), result.stdout
    if name in WARNS:
        assert result.exit_code == 0
        assert any(WARNS[name] in line for line in lines), err
    if name in ERRORS:
        assert result.exit_code != 0


def test_warnings_locate_the_sheet_and_row() -> None:
    result = CliRunner().invoke(cli, ["summary", str(CORPUS / "hidden-rows.xlsx")])
    assert "warning: hidden-rows.xlsx, sheet 'Phụ biểu 02', row 11: " in result.stderr


@pytest.mark.parametrize(("name", "code"), [
    ("legacy-vni.xlsx", 0), ("zip-bomb.xlsx", 3), ("password-protected.xlsx", 3),
    ("merged-cells-across-data-area.xlsx", 0),
])
def test_summary_as_a_real_process(name: str, code: int) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-m", "ntm_analysis", "summary", str(CORPUS / name)],
                          capture_output=True, text=True, encoding="utf-8", env=env,
                          timeout=120, check=False)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith(("error: " if code else "warning: ") + name), proc.stderr


#: File-level defects → the issue code that lets a report say, in its language, what is wrong.
FILE_CODES = {
    "empty-file.xlsx": "file_empty",
    "truncated-workbook.xlsx": "file_damaged",
    "password-protected.xlsx": "file_password",
    "zip-bomb.xlsx": "file_refused",
    "xml-external-entity.xlsx": "file_refused",
    "csv-renamed.xlsx": "not_a_workbook",
    "html-renamed.xls": "not_a_workbook",
    "pdf-renamed.xlsx": "not_a_workbook",
    "word-document-renamed.xlsx": "not_a_workbook",
    "zip-not-a-workbook.xlsx": "not_a_workbook",
}


def test_a_file_that_is_no_workbook_is_explained_in_the_reports_language() -> None:
    """The report's quality table shows the code's description, not one line for every kind of
    unreadable file; the loader's English detail stays in the issues table."""
    from ntm_analysis.i18n import issue_label
    from ntm_analysis.load import load_workbooks
    from ntm_analysis.report_data import issues_view
    from ntm_analysis.schema import Iss

    issues = load_workbooks([CORPUS / name for name in FILE_CODES]).issues
    assert dict(zip(issues[Iss.source_file], issues[Iss.code], strict=True)) == FILE_CODES
    assert issues[Iss.problem].str.contains("expected an Excel workbook|password|zip bomb|"
                                            "damaged|not an Excel workbook|XML attack").all()
    shown = issues_view(issues, lang="vi").set_index(Iss.source_file)[Iss.problem]
    assert shown["empty-file.xlsx"].startswith("Tệp rỗng (0 byte)")
    assert "mật khẩu" in shown["password-protected.xlsx"]
    assert shown["html-renamed.xls"].startswith("Tệp không phải sổ Excel")
    assert len({issue_label(code, "vi") for code in FILE_CODES.values()}) == 5
