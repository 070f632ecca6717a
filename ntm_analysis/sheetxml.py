"""What python-calamine does not report about an ``.xlsx`` sheet: hidden rows, stale formulas,
Excel errors.

calamine reads cell values fast but says nothing about row visibility, it reads a formula that
was never calculated (openpyxl and some generators save formulas without a cached result) as an
empty cell, and an Excel error (``#DIV/0!``, ``#REF!``, ``#N/A``: a formula that failed, or its
result pasted as a value) as an empty cell too. All three would lose information silently, so
this module scans each sheet's XML part directly, as text: no XML parser runs (so no entity
expansion can happen), parts larger than ``MAX_PART_BYTES`` are skipped, and any failure only
means "nothing extra known" (the scan is advisory; the cell values come from
``cells.read_sheets``).
"""

from __future__ import annotations

import functools
import logging
import os
import posixpath
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

log = logging.getLogger(__name__)

#: Largest uncompressed sheet part that is scanned (bytes).
MAX_PART_BYTES = 64 * 1024 * 1024

_SHEET = re.compile(r"<(?:\w+:)?sheet\b([^>]*)/?>")
_REL = re.compile(r"<(?:\w+:)?Relationship\b([^>]*)/?>")
_ATTR = re.compile(r"([\w:]+)\s*=\s*\"([^\"]*)\"")
_ROW = re.compile(r"<(?:\w+:)?row\b([^>]*?)/?>")
_COL = re.compile(r"<(?:\w+:)?col\b([^>]*?)/?>")  # (not <cols>: "s" is no word boundary)
#: Hidden columns beyond this one are not listed (a sheet tidied by hiding every column to the
#: right of its table hides them up to 16,384).
MAX_HIDDEN_COLUMN = 256
_CELL = re.compile(r"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_FORMULA = re.compile(r"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_VALUE = re.compile(r"<(?:\w+:)?v\b[^>]*>(.+?)</(?:\w+:)?v>", re.S)
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'", "&amp;": "&"}


@dataclass
class SheetExtras:
    """Facts about one sheet that the cell values do not carry."""

    hidden_rows: list[int] = field(default_factory=list)  # Excel row numbers (1-based)
    #: cells holding a formula without a cached result: (row 1-based, column 1-based, formula)
    stale_formulas: list[tuple[int, int, str]] = field(default_factory=list)
    #: cells holding an Excel error: (row 1-based, column 1-based, the error, e.g. "#DIV/0!",
    #: the formula that produced it: "=D11/0", "a formula" when shared, "" when pasted)
    error_cells: list[tuple[int, int, str, str]] = field(default_factory=list)
    #: hidden columns (1-based), those of the first ``MAX_HIDDEN_COLUMN`` columns
    hidden_columns: list[int] = field(default_factory=list)
    #: merged ranges ((first row, first column), (last row, last column)), 0-based and
    #: inclusive as calamine gives an ``.xlsx``'s: an ``.ods``'s, which calamine does not give
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.hidden_rows or self.stale_formulas or self.error_cells
                    or self.hidden_columns or self.merged)


def unescape(text: str) -> str:
    """``text`` of an XML part with its five predefined entities replaced (``odsxml`` too).

    >>> unescape("Xóm &amp; 2 &lt;3&gt;")
    'Xóm & 2 <3>'
    """
    return re.sub(r"&(lt|gt|quot|apos|amp);", lambda m: _ENTITIES[m.group(0)], text)


def column_index(letters: str) -> int:
    """Return the 1-based index of a column given by its letters.

    Examples
    --------
    >>> column_index("A"), column_index("Z"), column_index("AA")
    (1, 26, 27)
    """
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(index: int) -> str:
    """Return the letters of a 1-based column index.

    Examples
    --------
    >>> column_letters(1), column_letters(28)
    ('A', 'AB')
    """
    out = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _sheet_parts(zf: zipfile.ZipFile | _PartsReader) -> dict[str, str]:
    """Map sheet name → zip member of its XML part."""
    workbook = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    targets = _rel_targets(zf.read("xl/_rels/workbook.xml.rels"))
    out = {}
    for attrs in _SHEET.findall(workbook):
        a = dict(_ATTR.findall(attrs))
        name = a.get("name")
        if name is None:
            continue
        rid = None
        for k, v in a.items():  # the first attribute named *:id (r:id in any prefix)
            if k.endswith(":id"):
                rid = v
                break
        target = targets.get(rid) if rid is not None else None
        if target is None:
            continue
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
        out[unescape(name) if "&" in name else name] = member
    return out


@functools.lru_cache(maxsize=64)
def _rel_targets(rels: bytes) -> Mapping[str, str]:
    """Map relationship id → target of a workbook's relationships part.

    Workbooks saved by one program from one template share this part byte for byte (it depends
    on the number of sheets, not their names), so its answer is kept for the next workbook.
    """
    targets = {}
    for attrs in _REL.findall(rels.decode("utf-8", "replace")):
        a = dict(_ATTR.findall(attrs))
        if "Id" in a and "Target" in a:
            targets[a["Id"]] = a["Target"]
    return MappingProxyType(targets)


def _may_hold_extras(data: bytes) -> bool:
    """Cheap byte test: False when the part can hold no hidden row, formula or error cell.

    Only a part containing the word ``hidden``, a formula element or an error cell's type
    (``t="e"``) needs the full scan; most sheets have none, and a plain substring search is far
    cheaper than the regular expressions of ``_scan_part``.

    Examples
    --------
    >>> _may_hold_extras(b'<row r="1"><c r="A1"><v>1</v></c></row>')
    False
    >>> _may_hold_extras(b'<row r="2" hidden="1"/>'), _may_hold_extras(b'<c><f>A1</f></c>')
    (True, True)
    >>> _may_hold_extras(b'<c r="D9" t="e"><v>#N/A</v></c>')
    True
    """
    import numpy as np

    view = np.frombuffer(data, dtype=np.uint8)
    # "hidden" holds "dd", which sheet XML hardly ever does otherwise: two byte-wise numpy
    # passes rule it out faster than a substring search for "hidden" itself
    d = view == 0x64
    if (d[1:] & d[:-1]).any() and b"hidden" in data:
        return True
    if b't="e"' in data or b"t='e'" in data:  # an error cell (6 ms over 9 MB of sheets)
        return True
    # "<f" or ":f": one pass over the bytes for the letter f (rare in sheet XML), then a look at
    # the byte before each, instead of two substring searches that stop at every "<"
    before = view[(view[1:] == 0x66).nonzero()[0]]  # the byte before each "f" (not the 1st)
    return bool(((before == 0x3C) | (before == 0x3A)).any())


def _scan_part(text: str) -> SheetExtras:
    extras = SheetExtras()
    for m in _ROW.finditer(text):
        a = dict(_ATTR.findall(m.group(1)))
        if a.get("hidden") in ("1", "true") and a.get("r", "").isdigit():
            extras.hidden_rows.append(int(a["r"]))
    cols_end = text.find("sheetData")  # the <cols> element comes before the cells
    for m in _COL.finditer(text, 0, cols_end if cols_end >= 0 else len(text)):
        a = dict(_ATTR.findall(m.group(1)))
        if a.get("hidden") in ("1", "true") and a.get("min", "").isdigit() and \
                a.get("max", "").isdigit():
            extras.hidden_columns.extend(
                range(int(a["min"]), min(int(a["max"]), MAX_HIDDEN_COLUMN) + 1))
    if "<f" in text or ":f" in text or 't="e"' in text or "t='e'" in text:
        for m in _CELL.finditer(text):
            body = m.group(2) or ""
            f = _FORMULA.search(body)
            head = m.group(1)
            if f is None and 't="e"' not in head and "t='e'" not in head:
                continue  # most cells: a plain value (the attributes are not parsed)
            attrs = dict(_ATTR.findall(head.replace("'", '"')))
            error = attrs.get("t") == "e"
            if f is None and not error:
                continue
            value = _VALUE.search(body)
            if value is not None and not error:
                continue
            rm = _CELL_REF.match(attrs.get("r", ""))
            if rm is None:
                continue
            formula = unescape(f.group(1) or "").strip() if f is not None else ""
            row, col = int(rm.group(2)), column_index(rm.group(1))
            if value is None:
                if f is not None:
                    extras.stale_formulas.append(
                        (row, col, f"={formula}" if formula else "(shared formula)"))
            else:
                code = unescape(value.group(1)).strip()
                extras.error_cells.append((row, col, code, f"={formula}" if formula else
                                           "a formula" if f is not None else ""))
    return extras


def without_error_values(rows: list[list[Any]],
                         extras: SheetExtras | None) -> list[list[Any]]:
    """``rows`` with each of ``extras``' error cells empty ("", as calamine gives an empty
    cell): an ``.ods`` saves a failed formula with a number beside its error (``=1/0`` as 0),
    which calamine reads as the cell's value. The rows changed are copies; the others are the
    same lists.

    >>> without_error_values([["TT", 0.0]], SheetExtras(error_cells=[(1, 2, "#DIV/0!", "")]))
    [['TT', '']]
    """
    if not extras or not extras.error_cells:
        return rows
    out = rows
    for row, col, *_ in extras.error_cells:
        r, c = row - 1, col - 1
        if r < len(out) and c < len(out[r]) and out[r][c] not in ("", None):
            if out is rows:
                out = list(rows)
            out[r] = list(out[r])
            out[r][c] = ""
    return out


def hidden_rows_problem(rows: list[int]) -> str:
    """What an issue says of hidden rows (Excel row numbers) that hold data.

    >>> hidden_rows_problem([11, 12])[:49]
    '2 hidden row(s) hold data and were read: 11, 12 ('
    """
    shown = ", ".join(str(r) for r in rows[:10]) + (" …" if len(rows) > 10 else "")
    return (f"{len(rows)} hidden row(s) hold data and were read: {shown} (expected visible "
            "rows; unhide them in Excel to check)")


def stale_formula_problem(row: int, col: int) -> str:
    """What an issue says of a formula cell without a saved result (Excel row and column).

    >>> stale_formula_problem(6, 3)[:48]
    'formula in cell C6 has no saved result: expected'
    """
    return (f"formula in cell {column_letters(col)}{row} has no saved result: expected a value "
            "(open the file in Excel and save it again); the cell was read as empty")


#: Excel's error values, as a cell shows them.
EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!",
                          "#SPILL!", "#CALC!", "#GETTING_DATA"})


def error_text_problem(error: str, then: str = "not used") -> str:
    """What an issue says of a cell holding an Excel error as its text ("#N/A" pasted as text):
    calamine reads it as that text, not as an error cell.

    >>> error_text_problem("#REF!")[:44]
    'the cell holds the Excel error #REF!: expect'
    """
    return (f"the cell holds the Excel error {error}: expected a value (correct the formula or "
            f"the cell in Excel and save it again); {then}")


def error_cell_problem(row: int, col: int, error: str, formula: str = "") -> str:
    """What an issue says of a cell holding an Excel error (Excel row and column; the error and
    its formula as ``SheetExtras.error_cells`` holds them).

    >>> error_cell_problem(12, 4, "#DIV/0!", "=D10/D11")[:62]
    'cell D12 holds the Excel error #DIV/0! from =D10/D11: expected'
    """
    source = f" from {formula}" if formula else ""
    return (f"cell {column_letters(col)}{row} holds the Excel error {error}{source}: expected "
            "a value (correct the formula or the cell in Excel and save it again); the cell "
            "was read as empty")


def scan_sheets(path: str | os.PathLike[str], *,
                parts: Mapping[str, bytes] | None = None) -> dict[str, SheetExtras]:
    """Return hidden rows, formulas without cached values and error cells per sheet name of an
    ``.xlsx``; of an ``.xls`` or ``.ods``, its hidden rows and error cells
    (``biff.scan_biff``, ``odsxml.scan_ods``).

    Parts that are too large and any unreadable structure give an empty answer, never an
    exception. ``parts`` holds
    decompressed parts already read (by ``sniff.check_workbook_file``); when it has every part
    the scan needs, the zip is not opened again.
    """
    p = Path(path)
    if parts is not None:
        try:
            members = _sheet_parts(_PartsReader(parts))
            if all(m in parts for m in members.values()):
                # one byte test over all the sheets (most workbooks have neither hidden rows
                # nor formulas): a hit only sends each part to its own test and scan below
                sheets = [parts[m] for m in members.values()]
                if not _may_hold_extras(b"".join(d for d in sheets if len(d) <= MAX_PART_BYTES)):
                    return {}
                return _scan_members(p, members, parts.__getitem__, len)
        except KeyError:
            pass  # a part not kept (or missing): the zip itself decides, as without ``parts``
        except Exception as error:  # noqa: BLE001 - advisory scan: never fail a load
            log.debug("%s: sheet XML scan skipped (%s)", p.name, error)
            return {}
    try:
        if not zipfile.is_zipfile(p):
            from ntm_analysis import biff  # (it builds on this module's SheetExtras)

            return biff.scan_biff(p) if biff.is_ole2(p) else {}
        with zipfile.ZipFile(p) as zf:
            if "xl/workbook.xml" not in zf.NameToInfo and "content.xml" in zf.NameToInfo:
                from ntm_analysis import odsxml  # (it builds on this module's SheetExtras)

                return odsxml.scan_ods(p)
            members = _sheet_parts(zf)

            def size(member: str) -> int:
                return zf.getinfo(member).file_size

            return _scan_members(p, members, zf.read, size)
    except Exception as error:  # noqa: BLE001 - advisory scan: never fail a load
        log.debug("%s: sheet XML scan skipped (%s)", p.name, error)
        return {}


class _PartsReader:
    """The ``read`` of a ``ZipFile`` over parts already decompressed (KeyError if not kept)."""

    def __init__(self, parts: Mapping[str, bytes]) -> None:
        self.read = parts.__getitem__


def _scan_members(p: Path, members: dict[str, str], read: Callable[[str], bytes],
                  size: Callable[[Any], int]) -> dict[str, SheetExtras]:
    out: dict[str, SheetExtras] = {}
    for name, member in members.items():
        try:
            n = size(member)
        except KeyError:
            continue
        if n > MAX_PART_BYTES:
            log.debug("%s: sheet %r part too large to scan (%d bytes)", p.name, name, n)
            continue
        data = read(member)
        if not _may_hold_extras(data):
            continue
        extras = _scan_part(data.decode("utf-8", "replace"))
        if extras:
            out[name] = extras
    return out
