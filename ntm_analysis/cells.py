"""Read a workbook's sheets as plain grids of cell values plus their merged ranges.

python-calamine reads the cells (5–9× faster than openpyxl); openpyxl is the fallback when
calamine cannot open a file. Either way a sheet becomes a ``SheetGrid``: rows of Python values
('' for empty), 0-based merged ranges, and whether the sheet is hidden.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ntm_analysis.errors import InputError, Location

log = logging.getLogger(__name__)

#: Largest sheet the loader will read (rows × columns of the used area).
MAX_CELLS = 5_000_000

Merged = tuple[tuple[int, int], tuple[int, int]]


@dataclass
class SheetGrid:
    """One sheet's cells: ``rows[r][c]`` is the value at Excel row r+1, column c+1."""

    name: str
    rows: list[list[Any]]
    merged: list[Merged] = field(default_factory=list)
    hidden: bool = False

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return max(map(len, self.rows), default=0)


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Drop trailing empty rows (sheets with 100,000 blank formatted rows stay cheap)."""
    end = len(rows)
    while end and all(v == "" or v is None for v in rows[end - 1]):
        end -= 1
    return rows if end == len(rows) else rows[:end]


def read_sheets(path: str | os.PathLike[str], *, sheets: Sequence[str] | None = None,
                content: bytes | None = None) -> list[SheetGrid]:
    """Return the grids of a workbook's sheets (all of them, or those named, in file order).

    ``content`` is the workbook's package as ``sniff.check_workbook_file`` copies it
    (``unpacked``: its parts stored uncompressed), when the caller has it: calamine reads the
    copy without inflating the parts again. Should calamine fail on the copy, the file itself
    is read, as without it (so errors and fallbacks are the file's own).

    Raises
    ------
    InputError
        When the file cannot be read as a workbook or a named sheet does not exist.
    """
    p = Path(path)
    if content is not None:
        try:
            return _read_calamine(p, sheets, content)
        except InputError:
            raise
        except Exception as error:  # noqa: BLE001 - the file decides, as without the copy
            log.debug("calamine failed on the copy of %s (%s); reading the file", p, error)
    try:
        grids = _read_calamine(p, sheets)
    except InputError:
        raise
    except Exception as calamine_error:  # noqa: BLE001 - any reader failure falls back
        log.debug("calamine failed on %s (%s); trying openpyxl", p, calamine_error)
        try:
            grids = _read_openpyxl(p, sheets)
        except InputError:
            raise
        except Exception as error:  # noqa: BLE001
            raise InputError(
                Location(file=p.name),
                f"cannot be read as an Excel workbook ({_reason(calamine_error, error)})",
            ) from error
    return grids


def _reason(*errors: BaseException) -> str:
    text = str(errors[0]) or type(errors[0]).__name__
    return text.splitlines()[0][:160]


def _check_names(p: Path, available: list[str], wanted: Sequence[str] | None) -> list[str]:
    if wanted is None:
        return available
    missing = [s for s in wanted if s not in available]
    if missing:
        raise InputError(
            Location(file=p.name),
            f"no sheet named {missing[0]!r}; the workbook has: {', '.join(available)}",
        )
    return [s for s in available if s in wanted]


def _read_calamine(p: Path, wanted: Sequence[str] | None,
                   content: bytes | None = None) -> list[SheetGrid]:
    import python_calamine as pc

    wb = (pc.CalamineWorkbook.from_path(str(p)) if content is None else
          pc.CalamineWorkbook.from_filelike(io.BytesIO(content)))
    try:
        meta = {m.name: m for m in wb.sheets_metadata}
        names = _check_names(p, list(wb.sheet_names), wanted)
        chart, visible = pc.SheetTypeEnum.ChartSheet, pc.SheetVisibleEnum.Visible
        out = []
        for name in names:
            sheet = wb.get_sheet_by_name(name)
            m = meta.get(name)
            if m is not None and m.typ == chart:
                continue
            height, width = sheet.total_height, sheet.total_width
            if height * max(width, 1) > MAX_CELLS:
                raise InputError(
                    Location(file=p.name, sheet=name),
                    f"sheet is too large to read ({height} rows × {width} columns; "
                    f"at most {MAX_CELLS:,} cells)",
                )
            rows = _trim(sheet.to_python(skip_empty_area=False))
            merged = sheet.merged_cell_ranges or []
            if merged and (type(merged[0]) is not tuple or type(merged[0][0]) is not tuple):
                merged = [tuple(map(tuple, r)) for r in merged]  # type: ignore[misc]
            out.append(SheetGrid(name, rows, merged, m is not None and m.visible != visible))
        return out
    finally:
        wb.close()


def _read_openpyxl(p: Path, wanted: Sequence[str] | None) -> list[SheetGrid]:
    import openpyxl

    wb = openpyxl.load_workbook(p, data_only=True, read_only=False)
    try:
        names = _check_names(p, wb.sheetnames, wanted)
        out = []
        for name in names:
            ws = wb[name]
            if not hasattr(ws, "iter_rows"):
                continue
            if ws.max_row * max(ws.max_column, 1) > MAX_CELLS:
                raise InputError(Location(file=p.name, sheet=name), "sheet is too large to read")
            rows = [["" if v is None else v for v in r] for r in ws.iter_rows(values_only=True)]
            merged = [
                ((m.min_row - 1, m.min_col - 1), (m.max_row - 1, m.max_col - 1))
                for m in ws.merged_cells.ranges
            ]
            out.append(SheetGrid(name, _trim(rows), merged, ws.sheet_state != "visible"))
        return out
    finally:
        wb.close()
