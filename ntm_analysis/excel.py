"""Formatted Excel export of result tables (header, widths, frozen panes, status colours).

Workbook text is never written as a formula: cells whose text starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return are stored as text cells with Excel's quote prefix (OWASP's
CSV/formula-injection advice), so Excel shows the text and never evaluates it. Numbers stay
numbers. Files are written to a temporary name and renamed into place.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ntm_analysis.schema import Att, Status
from ntm_analysis.style import STATUS_FILLS

log = logging.getLogger(__name__)

#: First characters that make Excel (or LibreOffice) read a text as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
#: Columns whose values are statuses (``met``/``not_met``/``unknown``) and get a fill.
STATUS_COLUMNS = (Att.status, Att.computed_status, Att.catalogue_status)
#: Boolean columns coloured like statuses (True met, False not met, missing unknown).
MET_COLUMNS = ("met",)
#: Column-name endings that mark fractions shown as percentages.
PERCENT_SUFFIXES = ("_pct", "_share", "_rate")
#: Excel's limit on the characters of one cell.
MAX_CELL_CHARS = 32_767
MAX_WIDTH = 60
MIN_WIDTH = 6
HEADER_FILL = "DDE4EE"
INT_FORMAT = "#,##0"
FLOAT_FORMAT = "#,##0.0##"
PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
TIME_FORMAT = "hh:mm:ss"

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def is_formula_like(text: str) -> bool:
    """Return True when Excel would read ``text`` as a formula if typed into a cell.

    Examples
    --------
    >>> is_formula_like("=1+1"), is_formula_like("-5%"), is_formula_like("Xóm Ao Sen")
    (True, True, False)
    """
    return text.startswith(FORMULA_TRIGGERS)


def sheet_title(name: str, *, taken: Iterable[str] = ()) -> str:
    """Return a valid, unique Excel sheet name for ``name`` (31 characters, no ``[]:*?/\\``).

    Examples
    --------
    >>> sheet_title("Xã/Thôn [2024]")
    'Xã_Thôn _2024_'
    >>> sheet_title("tables", taken=["tables"])
    'tables (2)'
    """
    base = _BAD_SHEET_CHARS.sub("_", unicodedata.normalize("NFC", str(name))).strip("'") or "Sheet"
    base = base[:31]
    used = {t.lower() for t in taken}
    title, n = base, 1
    while title.lower() in used:
        n += 1
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
    return title


def write_table(df: pd.DataFrame, path: str | os.PathLike[str], *,
                sheet_name: str = "Sheet1") -> None:
    """Write ``df`` to ``path`` as one formatted sheet (see :func:`write_tables`)."""
    write_tables({sheet_name: df}, path)


def write_tables(tables: Mapping[str, pd.DataFrame], path: str | os.PathLike[str], *,
                 percent_columns: Iterable[str] = ()) -> None:
    """Write each frame of ``tables`` to its own formatted sheet of one workbook at ``path``.

    Every sheet gets a bold header with a fill, column widths from the content (capped),
    a frozen header row (and first column when it holds labels), an autofilter, number formats
    (thousands separators, percentages for ``percent_columns`` and columns ending in ``_pct``,
    ``_share`` or ``_rate``, which hold fractions; dates and times) and status fills on
    ``status`` columns and boolean ``met`` columns. Text that Excel would take for a formula
    stays text.

    The workbook is written with XlsxWriter, which writes a report's small tables about three
    times as fast as openpyxl (whose style sheet alone takes about 10 ms a workbook); openpyxl
    still reads workbooks where calamine cannot.

    Parameters
    ----------
    tables
        Sheet name → frame, in sheet order. Names are made valid and unique for Excel.
    path
        The ``.xlsx`` file to write; written to a temporary name and renamed into place.
    percent_columns
        More columns holding fractions to show as percentages.
    """
    from ntm_analysis.outputs import atomic_path

    with atomic_path(path) as tmp:
        _write_book(tables, str(tmp), set(percent_columns))


def warm_up() -> None:
    """Write a tiny workbook in memory: the first workbook a process writes otherwise pays
    for importing and setting up the writer (a kernel's first table, a batch's summary at its
    end)."""
    import io

    _write_book({"x": pd.DataFrame({"x": [1], "status": [Status.met]})}, io.BytesIO(), set())


def _write_book(tables: Mapping[str, pd.DataFrame], target: Any, extra_pct: set[str]) -> None:
    """Write the workbook of :func:`write_tables` to ``target`` (a path or a binary buffer)."""
    wb = _Book(target)
    taken: list[str] = []
    for name, df in tables.items():
        title = sheet_title(name, taken=taken)
        taken.append(title)
        _write_sheet(wb, wb.book.add_worksheet(title), df, extra_pct)
    if not tables:
        wb.book.add_worksheet("Sheet1")
    wb.book.close()


class _Book:
    """An XlsxWriter workbook and its cell formats, made once per distinct combination."""

    def __init__(self, target: Any) -> None:
        import xlsxwriter

        # in memory: no temporary file per sheet (nothing is left behind on an error either)
        self.book = xlsxwriter.Workbook(target, {"in_memory": True})
        self._formats: dict[tuple[object, ...], Any] = {}

    def format(self, num_format: str | None = None, fill: str | None = None,
               quote: bool = False, bold: bool = False) -> Any:
        key = (num_format, fill, quote, bold)
        if key == (None, None, False, False):
            return None
        found = self._formats.get(key)
        if found is None:
            props: dict[str, object] = {}
            if num_format:
                props["num_format"] = num_format
            if fill:
                props.update(pattern=1, bg_color=fill, fg_color=fill)
            if quote:
                props["quote_prefix"] = True
            if bold:
                props["bold"] = True
            found = self._formats[key] = self.book.add_format(props)
        return found


def _write_sheet(wb: _Book, ws: Any, df: pd.DataFrame, extra_pct: set[str]) -> None:
    columns = [str(c) for c in df.columns]
    widths = [len(c) for c in columns]
    header_fill = "#" + HEADER_FILL
    for j, name in enumerate(columns):
        _write_value(wb, ws, 0, j, name, None, header_fill, bold=True)
    for j, (name, series) in enumerate(zip(columns, (df.iloc[:, k] for k in range(df.shape[1])),
                                          strict=True)):
        fmt = _number_format(name, series, extra_pct)
        coloured = name in STATUS_COLUMNS or name in MET_COLUMNS  # a fill by value
        if coloured or not _write_typed(wb, ws, j, series, fmt):
            _write_cells(wb, ws, j, name, series.tolist(), fmt)
        for value in map(_plain, series.iloc[:1000].tolist()):  # the width: from the first rows
            if value is not None:
                widths[j] = max(widths[j], _display_len(value))
    for j, w in enumerate(widths):
        ws.set_column(j, j, max(MIN_WIDTH, min(MAX_WIDTH, w + 2)))
    if columns:
        first_is_label = len(df.columns) > 1 and _is_text(df.iloc[:, 0])
        ws.freeze_panes(1, 1 if first_is_label else 0)
        ws.autofilter(0, 0, len(df), len(columns) - 1)


def _write_cells(wb: _Book, ws: Any, j: int, name: str, values: list[object],
                 fmt: str | None) -> None:
    """Write column ``j`` one value at a time, each as its type says (the general way)."""
    is_status = name in STATUS_COLUMNS
    is_met = name in MET_COLUMNS
    for i, raw in enumerate(values, start=1):
        value = _plain(raw)
        fill = None
        if is_status and isinstance(value, str) and value in STATUS_FILLS:
            fill = STATUS_FILLS[value]
        elif is_met:
            key = (Status.unknown if value is None or not isinstance(value, bool)
                   else Status.met if value else Status.not_met)
            fill = STATUS_FILLS[key]
        _write_value(wb, ws, i, j, value, fmt, fill)


def _write_typed(wb: _Book, ws: Any, j: int, series: pd.Series, fmt: str | None) -> bool:
    """Write column ``j`` by its dtype, without a type check per value, when its dtype says
    what every value is: integers or floats, numpy's or pandas' nullable ones (numbers; a
    missing one is left blank), or text (strings and missing values only). Returns False,
    having written nothing, for any other column, or a float column holding an infinity
    (written as text by :func:`_write_value`). The cells are those :func:`_write_cells` would
    write; a country's batch summary (44,608 rows × 16 columns) is written in about 70 % of
    the time, most of what is left being XlsxWriter's own."""
    dtype = series.dtype
    kind = getattr(dtype, "kind", "O")
    if kind in "iuf" and pd.api.types.is_numeric_dtype(dtype) \
            and not pd.api.types.is_bool_dtype(dtype):
        present = series.notna().to_numpy()
        as_type = np.float64 if kind == "f" else np.int64 if kind == "i" else np.uint64
        values = series.to_numpy(dtype=as_type, na_value=0)[present]
        if kind == "f" and np.isinf(values).any():
            return False
        write_number, cell_format = ws.write_number, wb.format(fmt)
        rows = (np.flatnonzero(present) + 1).tolist()
        for i, number in zip(rows, values.tolist(), strict=True):
            write_number(i, j, number, cell_format)
        return True
    if not pd.api.types.is_string_dtype(dtype):
        return False
    texts = series.tolist()
    if not isinstance(dtype, pd.StringDtype) and not all(map(_is_text_or_missing, texts)):
        return False
    write_string, plain, quoted = ws.write_string, wb.format(), wb.format(quote=True)
    for i, text in enumerate(texts, start=1):
        if isinstance(text, str):
            text = _clean_text(text, i, j)
            write_string(i, j, text, quoted if text.startswith(FORMULA_TRIGGERS) else plain)
    return True


def _is_text_or_missing(value: object) -> bool:
    return (isinstance(value, str) or value is None or value is pd.NA
            or (isinstance(value, float) and math.isnan(value)))


def _clean_text(value: str, row: int, col: int) -> str:
    """``value`` as a cell holds it: NFC, LF line ends, control characters shown as ``\\xNN``
    (XML cannot hold them), cut to Excel's limit (with a warning naming the cell)."""
    if value.isascii() and value.isprintable():
        text = value  # the usual case: nothing to normalise, no line end, no control character
    else:
        # XML turns a bare CR into LF on reading; write line ends as LF so what is read back
        # is what was written.
        text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
        text = _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if len(text) > MAX_CELL_CHARS:
        log.warning("cell %s: text of %d characters cut to Excel's limit of %d",
                    _cell_name(row, col), len(text), MAX_CELL_CHARS)
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


def _write_value(wb: _Book, ws: Any, row: int, col: int, value: object, fmt: str | None,
                 fill: str | None, *, bold: bool = False) -> None:
    """Write one plain value (see :func:`_plain`); text never becomes a formula."""
    if isinstance(value, str):
        text = _clean_text(value, row, col)
        ws.write_string(row, col, text,
                        wb.format(fill=fill, quote=is_formula_like(text), bold=bold))
    elif value is None:
        if fill or bold:
            ws.write_blank(row, col, None, wb.format(fill=fill, bold=bold))
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, wb.format(fill=fill, bold=bold))
    elif isinstance(value, dt.datetime | dt.date | dt.time):
        default = (DATETIME_FORMAT if isinstance(value, dt.datetime)
                   else DATE_FORMAT if isinstance(value, dt.date) else TIME_FORMAT)
        number = fmt if fmt in (DATE_FORMAT, DATETIME_FORMAT, TIME_FORMAT) else default
        ws.write_datetime(row, col, value, wb.format(number, fill, bold=bold))
    else:
        ws.write_number(row, col, value, wb.format(fmt, fill, bold=bold))


def _cell_name(row: int, col: int) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    return str(xl_rowcol_to_cell(row, col))


def _display_len(value: object) -> int:
    text = str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def _is_text(series: pd.Series) -> bool:
    return bool(pd.api.types.is_string_dtype(series.dtype) or series.dtype == object) and not \
        pd.api.types.is_bool_dtype(series.dtype)


def _number_format(name: str, series: pd.Series, extra_pct: set[str]) -> str | None:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if name in extra_pct or name.endswith(PERCENT_SUFFIXES):
        return PERCENT_FORMAT
    if pd.api.types.is_integer_dtype(dtype):
        return INT_FORMAT
    if pd.api.types.is_float_dtype(dtype):
        return FLOAT_FORMAT
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATETIME_FORMAT
    return None


def _plain(value: object) -> object:
    """Turn pandas/numpy scalars into plain Python values; missing values into None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None if math.isnan(value) else str(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if isinstance(value, str | int | float | bool | dt.datetime | dt.date | dt.time):
        return value
    return str(value)
