"""What python-calamine does not report about an OpenDocument (``.ods``) sheet: error cells,
hidden rows and columns, merged cells.

LibreOffice saves a formula that failed (``=1/0``) as a cell of value type error
(``calcext:value-type="error"``) holding the error as its text and an empty string as its value:
calamine reads an empty cell, without a word. A writer that gives such a cell a number instead
(``office:value-type="float" office:value="0"``) has the number read as the cell's value, a real
0 judged "not met": the loaders empty every error cell found here before they read the sheet
(``sheetxml.without_error_values``). Hidden rows and columns (``table:visibility="collapse"``)
are read without a word too, and merged cells (``table:number-columns-spanned``) are not
reported at all: a hamlet's name spanning its result and assessment columns named only the
first. This module scans ``content.xml`` as text, as ``sheetxml`` scans an
``.xlsx``'s sheet XML: no XML parser runs, a part larger than ``MAX_PART_BYTES`` is skipped, and
any failure only means "nothing extra known". Positions count repeated rows and columns
(``table:number-rows-repeated``, ``table:number-columns-repeated``) and the covered cells of
merges, as calamine does; a table inside a cell is skipped.
"""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path

from ntm_analysis.sheetxml import MAX_HIDDEN_COLUMN, MAX_PART_BYTES, SheetExtras, unescape

log = logging.getLogger(__name__)

_TAG = re.compile(
    r"<(/?)table:(table-row|table-cell|covered-table-cell|table-column|table)(?=[\s/>])([^>]*?)"
    r"(/?)>")
_ATTR = re.compile(r"([\w:.-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
_TEXT = re.compile(r"<text:p\b[^>]*>(.*?)</text:p>", re.S)
_MARKUP = re.compile(r"<[^>]+>")
_REFERENCE = re.compile(r"\[\.([^\]]*)\]")  # "[.D11]", "[.D5:.D9]" in OpenFormula
#: More repeats than this are empty filler (a sheet's last rows or columns repeated to its
#: end): no error or data can be in them, and they are not walked one by one.
_MAX_REPEAT = 1000


def _attrs(text: str) -> dict[str, str]:
    return {k: unescape(v[1:-1]) for k, v in _ATTR.findall(text)}


def _repeat(attrs: dict[str, str], name: str) -> int:
    value = attrs.get(name, "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _shown_formula(formula: str) -> str:
    """A formula as the cell shows it: "of:=[.D11]/[.$D$12]" is "=D11/$D$12".

    >>> _shown_formula("of:=SUM([.D5:.D9])/[.D11]"), _shown_formula("")
    ('=SUM(D5:D9)/D11', '')
    """
    if ":=" in formula:
        formula = "=" + formula.split(":=", 1)[1]
    return _REFERENCE.sub(lambda m: m.group(1).replace(":.", ":"), formula)


def scan_ods(path: str | Path) -> dict[str, SheetExtras]:
    """Return error cells, hidden rows and columns and merged ranges per sheet name of an
    ``.ods`` workbook; anything unreadable gives an empty answer, never an exception."""
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as zf:
            info = zf.getinfo("content.xml")
            if info.file_size > MAX_PART_BYTES:
                log.debug("%s: content.xml too large to scan (%d bytes)", p.name, info.file_size)
                return {}
            data = zf.read(info)
        return scan_content(data.decode("utf-8", "replace"))
    except Exception as error:  # noqa: BLE001 - advisory scan: never fail a load
        log.debug("%s: ODS scan skipped (%s)", p.name, error)
        return {}


def scan_content(text: str) -> dict[str, SheetExtras]:
    """``scan_ods`` of a ``content.xml``'s text."""
    if "calcext:value-type=\"error\"" not in text and "table:visibility" not in text and \
            "calcext:value-type='error'" not in text and "-spanned" not in text:
        return {}  # most workbooks: one substring search each
    out: dict[str, SheetExtras] = {}
    depth = 0  # tables open (a table inside a cell is skipped)
    extras = SheetExtras()
    name = ""
    row = 0  # rows of the sheet started so far (the current row is row - repeats + 1 …)
    column = 0
    row_first, row_repeat, col = 0, 1, 0
    for m in _TAG.finditer(text):
        closing, tag, attr_text, self_closing = m.groups()
        if tag == "table":
            if closing:
                depth -= 1
                if depth == 0 and extras:
                    out[name] = extras
            elif not self_closing:
                depth += 1
                if depth == 1:
                    name, extras, row = _attrs(attr_text).get("table:name", ""), SheetExtras(), 0
                    column = 0  # columns declared so far
            continue
        if depth != 1 or closing:
            continue
        if tag == "table-column":
            attrs = _attrs(attr_text)
            repeat = _repeat(attrs, "table:number-columns-repeated")
            if attrs.get("table:visibility") in ("collapse", "filter") and \
                    column < MAX_HIDDEN_COLUMN:
                extras.hidden_columns.extend(
                    range(column + 1, min(column + repeat, MAX_HIDDEN_COLUMN) + 1))
            column += repeat
            continue
        if tag == "table-row":
            attrs = _attrs(attr_text) if "table:" in attr_text else {}
            row_first, row_repeat, col = row + 1, _repeat(attrs, "table:number-rows-repeated"), 0
            row += row_repeat
            if attrs.get("table:visibility") in ("collapse", "filter") and \
                    row_repeat <= _MAX_REPEAT:
                extras.hidden_rows.extend(range(row_first, row_first + row_repeat))
            continue
        # a cell, or a cell covered by a merge: one column (or several, repeated) of the row
        if "error" not in attr_text and "-spanned" not in attr_text:
            if "repeated" in attr_text:
                col += _repeat(_attrs(attr_text), "table:number-columns-repeated")
            else:
                col += 1
            continue
        attrs = _attrs(attr_text)
        repeat = _repeat(attrs, "table:number-columns-repeated")
        rows_spanned = _repeat(attrs, "table:number-rows-spanned")
        cols_spanned = _repeat(attrs, "table:number-columns-spanned")
        if (rows_spanned > 1 or cols_spanned > 1) and tag == "table-cell" and \
                row_repeat == 1 and repeat == 1:
            extras.merged.append(((row_first - 1, col),
                                  (row_first + rows_spanned - 2, col + cols_spanned - 1)))
        if attrs.get("calcext:value-type") == "error" and repeat <= _MAX_REPEAT and \
                row_repeat <= _MAX_REPEAT:
            shown = ""
            if not self_closing:
                end = text.find("</table:", m.end())
                found = _TEXT.search(text, m.end(), end if end >= 0 else len(text))
                shown = unescape(_MARKUP.sub("", found.group(1))).strip() if found else ""
            formula = _shown_formula(attrs.get("table:formula", ""))
            for r in range(row_first, row_first + row_repeat):
                for c in range(col + 1, col + 1 + repeat):
                    extras.error_cells.append((r, c, shown or "#ERROR", formula))
        col += repeat
    return out
