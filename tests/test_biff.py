"""Tests for ntm_analysis.biff: what calamine does not say about an old ``.xls`` sheet.

``excel-errors.xls`` is a real BIFF8 workbook written by xlwt (``make_corpus.py``): a formula
whose saved result is #DIV/0!, a #N/A typed as a value, a hidden row. The smaller cases are
record streams built here byte by byte after MS-XLS, to reach the branches no writer at hand
produces (a name in one-byte characters, a chart sheet, a truncated stream).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from ntm_analysis.attainment import compute_attainment
from ntm_analysis.biff import ERRORS, is_ole2, scan_biff, scan_stream
from ntm_analysis.load import load_workbook
from ntm_analysis.schema import Att, Ind, Iss
from ntm_analysis.sheetxml import SheetExtras, scan_sheets

CORPUS = Path(__file__).resolve().parent / "data" / "with-problems"
XLS = CORPUS / "excel-errors.xls"
SHEET = "Phụ biểu 02"


def test_calamine_reads_the_errors_as_empty_cells() -> None:
    """Why the scan exists: the reader hides both errors."""
    rows = CalamineWorkbook.from_path(str(XLS)).get_sheet_by_name(SHEET).to_python()
    assert (rows[9][3], rows[11][3]) == ("", "")


def test_the_scan_finds_the_errors_and_the_hidden_row() -> None:
    expected = {SHEET: SheetExtras(hidden_rows=[11], error_cells=[
        (10, 4, "#DIV/0!", "a formula"), (12, 4, "#N/A", "")])}
    assert scan_biff(XLS) == expected
    assert scan_sheets(XLS) == expected  # what the loaders call, for any format
    assert is_ole2(XLS) and not is_ole2(CORPUS / "excel-errors.xlsx")


def test_the_loader_warns_of_each_as_in_an_xlsx() -> None:
    result = load_workbook(XLS)
    issues = result.issues[result.issues[Iss.severity] == "warning"]
    assert list(zip(issues[Iss.source_row], issues[Iss.code], issues[Iss.value].fillna(""),
                    strict=True)) == [
        (11, "hidden_rows", ""), (10, "excel_error", "#DIV/0!"), (12, "excel_error", "#N/A")]
    assert issues[Iss.problem].iloc[1] == (
        "cell D10 holds the Excel error #DIV/0! from a formula: expected a value (correct the "
        "formula or the cell in Excel and save it again); the cell was read as empty")
    att = compute_attainment(result.indicators, add_missing=False).set_index(Ind.indicator_no)
    assert att.loc[["2.1", "2.3"], Att.status_basis].tolist() == ["self_assessment"] * 2


def _record(rtype: int, body: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(body)) + body


def _stream(name: bytes, flags: int, sheet_records: list[bytes], kind: int = 0) -> bytes:
    """A workbook stream: globals (BOF, one BOUNDSHEET, EOF), then the sheet's substream."""
    bof = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
    eof = _record(0x000A, b"")

    def boundsheet(position: int) -> bytes:
        count = len(name) // (2 if flags & 1 else 1)
        return _record(0x0085, struct.pack("<IBBBB", position, 0, kind, count, flags) + name)

    head = bof + boundsheet(0) + eof
    position = len(head)  # (BOUNDSHEET's length does not depend on the position)
    sheet_bof = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0, 0, 0, 0))
    return bof + boundsheet(position) + eof + sheet_bof + b"".join(sheet_records) + eof


def _boolerr(row: int, col: int, code: int, is_error: int = 1) -> bytes:
    return _record(0x0205, struct.pack("<HHHBB", row, col, 15, code, is_error))


def _formula(row: int, col: int, result: bytes) -> bytes:
    return _record(0x0006, struct.pack("<HHH", row, col, 15) + result + b"\0" * 6 + b"\x1e\x01")


def _colinfo(first: int, last: int, flags: int) -> bytes:
    return _record(0x007D, struct.pack("<HHHHHH", first, last, 2340, 15, flags, 0))


def _row(row: int, flags: int) -> bytes:
    return _record(0x0208, struct.pack("<HHHHHHHH", row, 0, 5, 255, 0, 0, flags, 15))


def test_records_built_after_the_specification() -> None:
    stream = _stream(b"Xa", 0, [
        _row(3, 0x0020), _row(4, 0x0000),
        _boolerr(4, 2, 0x17), _boolerr(5, 2, 1, is_error=0),  # #REF!, and TRUE (no error)
        _formula(6, 3, b"\x02\x00\x24\x00\x00\x00\xff\xff"),  # #NUM!
        _formula(7, 3, b"\x01\x00\x01\x00\x00\x00\xff\xff"),  # a formula giving TRUE
        _formula(8, 3, struct.pack("<d", 0.95)),  # a number
        _boolerr(9, 1, 0x63),  # a code Excel does not write
        _colinfo(3, 4, 0x0001), _colinfo(5, 5, 0x0000),  # D:E hidden, F not
        _colinfo(9, 16383, 0x0001),  # J to the sheet's end: listed to MAX_HIDDEN_COLUMN only
    ])
    assert scan_stream(stream) == {"Xa": SheetExtras(hidden_rows=[4], error_cells=[
        (5, 3, "#REF!", ""), (7, 4, "#NUM!", "a formula"), (10, 2, "#ERROR", "")],
        hidden_columns=[4, 5, *range(10, 257)])}


def test_a_chart_sheet_and_a_sheet_with_nothing_to_say_are_left_out() -> None:
    assert scan_stream(_stream(b"Bi\xea\x30", 0, [_boolerr(1, 1, 0x07)], kind=0x02)) == {}
    assert scan_stream(_stream(b"Xa", 0, [_row(1, 0)])) == {}


@pytest.mark.parametrize("cut", [3, 20, 40, 60, 70])
def test_a_truncated_or_damaged_stream_says_what_it_read_or_nothing(cut: int) -> None:
    stream = _stream(b"Xa", 0, [_boolerr(4, 2, 0x07)])
    got = scan_stream(stream[:cut])
    assert got in ({}, {"Xa": SheetExtras(error_cells=[(5, 3, "#DIV/0!", "")])})
    assert scan_stream(b"\xff" * 64) == {}


def test_what_is_not_a_biff8_workbook_gives_nothing(tmp_path: Path) -> None:
    assert scan_biff(tmp_path / "missing.xls") == {}
    (tmp_path / "rac.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert scan_biff(tmp_path / "rac.xls") == {}
    assert scan_biff(CORPUS / "valid-minimal.xlsx") == {}
    assert set(ERRORS.values()) >= {"#DIV/0!", "#N/A", "#REF!", "#VALUE!", "#NAME?", "#NUM!",
                                    "#NULL!"}
