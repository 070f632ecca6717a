"""What python-calamine does not report about an old ``.xls`` sheet: Excel errors, hidden rows
and columns.

calamine reads an error cell of an ``.xls`` (``#DIV/0!`` saved by a formula, ``#N/A`` typed) as
an empty cell and says nothing of hidden rows, as it does for ``.xlsx`` (where
``sheetxml.scan_sheets`` reads the sheet XML). Here the workbook stream of a BIFF8 file (Excel
97–2003) is walked record by record: sheet names and positions from the globals' BOUNDSHEET
records, then in each worksheet the BOOLERR (a typed error), FORMULA (a formula whose cached
result is an error), ROW (hidden rows) and COLINFO (hidden columns) records. Like the XML scan
it is advisory: a stream larger than ``MAX_STREAM_BYTES``, a BIFF5 workbook ("Book" stream) or
any unreadable structure gives an empty answer, never an exception. The file is opened as a
compound file by olefile (a dependency, which ``sniff`` already uses to recognise ``.xls``);
nothing is parsed as XML.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterator
from pathlib import Path

from ntm_analysis.sheetxml import MAX_HIDDEN_COLUMN, SheetExtras
from ntm_analysis.text import nfc

log = logging.getLogger(__name__)

#: Largest workbook stream that is scanned (bytes).
MAX_STREAM_BYTES = 64 * 1024 * 1024
#: The start of every compound file (an ``.xls``, ``.doc`` …).
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_BOF, _EOF, _BOUNDSHEET = 0x0809, 0x000A, 0x0085
_BOOLERR, _FORMULA, _ROW, _COLINFO = 0x0205, 0x0006, 0x0208, 0x007D
_ROW_HIDDEN = 0x0020  # ROW's fDyZero: the row's height is zero
_WORKSHEET = 0x00  # BOUNDSHEET's dt for a worksheet (or dialog sheet)
#: BErr codes (MS-XLS 2.5.10) and the error Excel shows.
ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
          0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}
#: Two little-endian 16-bit words: a record's type and length, a cell's row and column.
_TWO_WORDS = struct.Struct("<HH")


def is_ole2(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts like a compound file (an ``.xls`` whatever its name)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(OLE2_MAGIC)) == OLE2_MAGIC
    except OSError:
        return False


def scan_biff(path: str | os.PathLike[str]) -> dict[str, SheetExtras]:
    """Return hidden rows and error cells per sheet name of an ``.xls`` (BIFF8) workbook.

    Anything that is not a readable BIFF8 workbook stream gives an empty answer.
    """
    p = Path(path)
    try:
        import olefile

        with olefile.OleFileIO(str(p)) as ole:
            if not ole.exists("Workbook"):
                return {}  # a BIFF5 (Excel 95) "Book" or no workbook at all: not scanned
            if ole.get_size("Workbook") > MAX_STREAM_BYTES:
                log.debug("%s: workbook stream too large to scan", p.name)
                return {}
            with ole.openstream("Workbook") as fh:
                data = fh.read()
        return scan_stream(data)
    except Exception as error:  # noqa: BLE001 - advisory scan: never fail a load
        log.debug("%s: BIFF scan skipped (%s)", p.name, error)
        return {}


def _records(data: bytes, start: int) -> Iterator[tuple[int, int, int]]:
    """(type, offset of the body, length) of each record from ``start`` to the stream's end."""
    pos, end = start, len(data)
    unpack = _TWO_WORDS.unpack_from
    while pos + 4 <= end:
        rtype, size = unpack(data, pos)
        yield rtype, pos + 4, size
        pos += 4 + size


def _sheet_name(data: bytes, at: int, size: int) -> str | None:
    """The name of a BOUNDSHEET record (a ShortXLUnicodeString after 6 bytes)."""
    if size < 8:
        return None
    count, flags = data[at + 6], data[at + 7]
    start = at + 8
    if flags & 0x01:  # UTF-16
        raw = data[start:start + 2 * count]
        return raw.decode("utf-16-le", "replace") if len(raw) == 2 * count else None
    raw = data[start:start + count]  # "compressed": each character's low byte
    return raw.decode("latin-1") if len(raw) == count else None


def scan_stream(data: bytes) -> dict[str, SheetExtras]:
    """``scan_biff`` of a workbook stream's bytes: the globals' BOUNDSHEET records name each
    worksheet and where its substream starts; each substream is read to its EOF record."""
    sheets: list[tuple[str, int]] = []
    for rtype, at, size in _records(data, 0):
        if rtype == _BOUNDSHEET and size >= 8:
            position = struct.unpack_from("<I", data, at)[0]
            name = _sheet_name(data, at, size)
            if name is not None and data[at + 5] == _WORKSHEET:
                sheets.append((nfc(name), position))
        elif rtype == _EOF:
            break
    out: dict[str, SheetExtras] = {}
    for name, position in sheets:
        extras = _scan_sheet(data, position)
        if extras:
            out[name] = extras
    return out


def _scan_sheet(data: bytes, position: int) -> SheetExtras:
    extras = SheetExtras()
    if position + 4 > len(data) or _TWO_WORDS.unpack_from(data, position)[0] != _BOF:
        return extras  # not where a sheet starts: nothing known
    cell = _TWO_WORDS.unpack_from
    for rtype, at, size in _records(data, position):
        if rtype == _EOF:
            break
        if rtype == _BOOLERR and size >= 8:
            if data[at + 7] == 1:  # fError: the byte before it is the error's code
                row, col = cell(data, at)
                extras.error_cells.append((row + 1, col + 1, _error(data[at + 6]), ""))
        elif rtype == _FORMULA and size >= 14:
            # the cached result (8 bytes after row, column and format): an error is
            # 02 00 <code> 00 00 00 FF FF
            if data[at + 6] == 0x02 and data[at + 12:at + 14] == b"\xff\xff":
                row, col = cell(data, at)
                extras.error_cells.append((row + 1, col + 1, _error(data[at + 8]), "a formula"))
        elif rtype == _ROW and size >= 14:
            row = _TWO_WORDS.unpack_from(data, at)[0]
            if _TWO_WORDS.unpack_from(data, at + 12)[0] & _ROW_HIDDEN:
                extras.hidden_rows.append(row + 1)
        elif rtype == _COLINFO and size >= 10:
            first, last = cell(data, at)  # 0-based, inclusive
            if _TWO_WORDS.unpack_from(data, at + 8)[0] & 0x0001:  # fHidden
                extras.hidden_columns.extend(
                    range(first + 1, min(last + 1, MAX_HIDDEN_COLUMN) + 1))
    return extras


def _error(code: int) -> str:
    return ERRORS.get(code, "#ERROR")
