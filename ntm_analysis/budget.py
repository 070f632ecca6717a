"""Read budget tables ("Kinh phí thực hiện") into one tidy table of line items.

A budget appendix lists what a commune plans to spend: one row per line item (content, level,
hamlet, linked criterion), the total and the amount per source (state budget — central,
province, district, commune —, people's contribution, integrated programmes, enterprises and
other), under group rows (I, II, III with their subtotals) and a grand-total row ("Tổng cộng",
above or below the lines). ``load_budget`` recognises group, subtotal, parent and total rows,
counts every line item once, checks each subtotal against the sum of its lines and reports every
mismatch as a row of the issues table. Amounts are in million VND ("triệu đồng").

Each line keeps the commune its table's title names ("KINH PHÍ … XÃ KIM PHƯỢNG …", "… của UBND
xã Kim Phượng"), so that ``select_commune`` can keep one commune's budget when a folder holds
several; a table whose title names no commune, or several, has none.

Header words map to column roles through ``data/money_headers.csv``, not through code.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ntm_analysis.cells import read_sheets
from ntm_analysis.errors import InputError, Location
from ntm_analysis.i18n import did_you_mean
from ntm_analysis.parse import money_scale, money_unit_named, parse_number, parse_value
from ntm_analysis.schema import Iss, Severity, _Schema, conform, empty_frame
from ntm_analysis.sheetxml import (
    EXCEL_ERRORS,
    SheetExtras,
    column_letters,
    error_cell_problem,
    error_text_problem,
    hidden_rows_problem,
    scan_sheets,
    stale_formula_problem,
    without_error_values,
)
from ntm_analysis.sniff import check_workbook_file
from ntm_analysis.text import (
    HAMLET_WORDS,
    cell_text,
    fold,
    joined,
    nfc,
    rows_phrase,
    unaccent,
    without_periods,
)

log = logging.getLogger(__name__)

#: Amount columns of a line item, in million VND.
STATE_SOURCES = ["state_central", "state_province", "state_district", "state_commune",
                 "state_unsplit"]
NON_STATE_SOURCES = ["people", "integrated", "enterprise_other"]
SOURCES = STATE_SOURCES + NON_STATE_SOURCES
AMOUNTS = ["total", *SOURCES]
#: A funding-gap table's split of each line's total: allocated, still missing.
GAP_AMOUNTS = ["committed", "shortfall"]


class Budget:
    """Budget levels and statuses (stable machine words; reports translate them)."""

    commune = "commune"
    model_hamlet = "model_hamlet"
    smart_hamlet = "smart_hamlet"
    unspecified = "unspecified"
    levels = (commune, model_hamlet, smart_hamlet, unspecified)

    planned = "planned"
    committed = "committed"
    requested = "requested"


class Bud(_Schema):
    """The tidy budget table: one row per line item, amounts in million VND."""

    source_file = "source_file"
    source_sheet = "source_sheet"
    source_row = "source_row"
    commune = "commune"
    item_no = "item_no"
    group_no = "group_no"
    group_name = "group_name"
    content = "content"
    level = "level"
    hamlet = "hamlet"
    criterion_no = "criterion_no"
    indicator_no = "indicator_no"
    year = "year"
    status = "status"
    total = "total"
    state_central = "state_central"
    state_province = "state_province"
    state_district = "state_district"
    state_commune = "state_commune"
    state_unsplit = "state_unsplit"
    people = "people"
    integrated = "integrated"
    enterprise_other = "enterprise_other"
    state = "state"
    non_state = "non_state"
    unassigned = "unassigned"
    #: Of the total, what is already allocated ("Đã bố trí") and what is still missing ("Còn
    #: thiếu"), where the table has those columns (a funding-gap table); else empty.
    committed = "committed"
    shortfall = "shortfall"
    note = "note"

    dtypes = {
        source_file: "string",
        source_sheet: "string",
        source_row: "Int64",
        commune: "string",
        item_no: "string",
        group_no: "string",
        group_name: "string",
        content: "string",
        level: "string",
        hamlet: "string",
        criterion_no: "string",
        indicator_no: "string",
        year: "Int64",
        status: "string",
        total: "Float64",
        state_central: "Float64",
        state_province: "Float64",
        state_district: "Float64",
        state_commune: "Float64",
        state_unsplit: "Float64",
        people: "Float64",
        integrated: "Float64",
        enterprise_other: "Float64",
        state: "Float64",
        non_state: "Float64",
        unassigned: "Float64",
        committed: "Float64",
        shortfall: "Float64",
        note: "string",
    }


@dataclass
class BudgetResult:
    """What ``load_budget`` returns: the line items and every issue found."""

    lines: pd.DataFrame
    issues: pd.DataFrame


# --------------------------------------------------------------------------- workbook reading


@dataclass
class Grid:
    """One sheet as a rectangular list of rows, with its merged ranges (0-based, inclusive)."""

    file: str
    sheet: str
    rows: list[list[object]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] | None = None
    width: int = 0
    #: Cells holding a formula without a saved result (row, column 1-based; the formula):
    #: read as empty, so a total typed as ``=SUM(…)`` by a tool that never calculated is lost.
    stale_formulas: list[tuple[int, int, str]] = field(default_factory=list)
    #: Cells holding an Excel error (row, column 1-based; "#DIV/0!"; its formula): read as
    #: empty.
    error_cells: list[tuple[int, int, str, str]] = field(default_factory=list)
    #: Hidden rows (1-based): their amounts are counted as any others'.
    hidden_rows: list[int] = field(default_factory=list)

    def cell(self, r: int, c: int) -> object:
        if 0 <= r < len(self.rows) and 0 <= c < len(self.rows[r]):
            value = self.rows[r][c]
            return None if value == "" else value
        return None

    def merged_cell(self, r: int, c: int) -> object:
        """The value of cell (r, c), or of the top cell of a range merged down its column
        that holds it (a unit's or hamlet's name merged down its rows); a range merged
        across columns gives its value to no other column.

        >>> grid = Grid("t.xlsx", "TN", [["Cạm Phước"], [None]], merged=[((0, 0), (1, 0))])
        >>> grid.merged_cell(1, 0), grid.cell(1, 0)
        ('Cạm Phước', None)
        """
        value = self.cell(r, c)
        if value is None and self.merged:
            for (r0, c0), (r1, c1) in self.merged:
                if c0 == c == c1 and r0 <= r <= r1:
                    return self.cell(r0, c0)
        return value

    def row_text(self, r: int, limit: int = 1000) -> str:
        """The texts of row ``r`` (0-based), joined by " | ": what an issue about a row that
        was not read as data shows of it (a note in full, up to ``limit`` characters, then
        "…").

        >>> grid = Grid("kp.xlsx", "Kinh phí", [[None, "Ghi chú:", "", " số liệu MINH HỌA"]])
        >>> grid.row_text(0)
        'Ghi chú: | số liệu MINH HỌA'
        >>> grid.row_text(0, limit=12)
        'Ghi chú: | …'
        >>> grid.row_text(5)
        ''
        """
        return joined(map(cell_text, self.rows[r] if 0 <= r < len(self.rows) else []), limit)


def read_grids(path: str | os.PathLike[str]) -> list[Grid]:
    """Read every sheet of a workbook as a ``Grid`` (through ``ntm_analysis.cells``).

    Raises
    ------
    InputError
        When the file is missing or is not a workbook; the message names the file.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(Location(file=str(path)), "file not found")
    if not p.is_file():
        raise InputError(Location(file=str(path)), "expected a workbook file, got a folder")
    check_workbook_file(p)
    extras = scan_sheets(p)  # {} for most workbooks (one byte test per sheet)
    grids = []
    for g in read_sheets(p):
        found = extras.get(g.name)
        # (an .ods's merged cells come from the scan alone)
        merged = g.merged or (found.merged if found else None)
        grids.append(_grid(p.name, g.name, g.rows, merged, found))
    return grids


def _grid(file: str, sheet: str, rows: list[list[Any]], merged: list | None,
          extras: SheetExtras | None = None) -> Grid:
    width = max((len(r) for r in rows), default=0)
    if merged:
        width = max(width, *(m[1][1] + 1 for m in merged))
    rows = [r + [None] * (width - len(r)) for r in without_error_values(rows, extras)]
    return Grid(file=file, sheet=sheet, rows=rows, merged=merged, width=width,
                stale_formulas=list(extras.stale_formulas) if extras else [],
                error_cells=list(extras.error_cells) if extras else [],
                hidden_rows=list(extras.hidden_rows) if extras else [])


def formula_issues(grid: Grid) -> list[dict[str, object]]:
    """Warnings for the cells of a money table's sheet that were read as empty though they
    are not (the indicator loader's): a formula without a saved result (``formula_no_value``)
    and an Excel error such as ``#DIV/0!`` (``excel_error``); and for hidden rows that hold
    data, read as any others (``hidden_rows``)."""
    def issue(row: int, col: int | None, value: str | None, problem: str,
              code: str) -> dict[str, object]:
        return {Iss.source_file: grid.file, Iss.source_sheet: grid.sheet, Iss.source_row: row,
                Iss.column: column_letters(col) if col else None, Iss.value: value,
                Iss.problem: problem, Iss.severity: Severity.warning, Iss.code: code}

    hidden = [r for r in grid.hidden_rows if r - 1 < len(grid.rows)
              and any(grid.cell(r - 1, c) is not None for c in range(len(grid.rows[r - 1])))]
    return ([issue(hidden[0], None, None, hidden_rows_problem(hidden), "hidden_rows")]
            if hidden else []) + [
        issue(row, col, formula, stale_formula_problem(row, col), "formula_no_value")
        for row, col, formula in grid.stale_formulas] + [
        issue(row, col, error, error_cell_problem(row, col, error, formula), "excel_error")
        for row, col, error, formula in grid.error_cells]


# --------------------------------------------------------------------------- header mapping


#: Lower-case text without diacritics, punctuation kept (kept under its old name here).
plain = unaccent


@lru_cache(maxsize=4)
def header_roles(table: str) -> dict[str, str]:
    """Return the mapping folded header text → column role for ``table`` ("budget"/"income")."""
    with resources.files("ntm_analysis").joinpath("data", "money_headers.csv").open(
        "r", encoding="utf-8"
    ) as fh:
        frame = pd.read_csv(fh, dtype=str, keep_default_na=False)
    out: dict[str, str] = {}
    for header, role, tbl in frame.itertuples(index=False):
        if tbl == table:
            out.setdefault(fold(header), role)
    return out


_PAREN = re.compile(r"\([^)]*\)")
#: Words introducing a part of a total in its header ("Trong đó: NSNN"), folded.
_INTRODUCING = re.compile(r"^(?:trong do|chia ra|bao gom|gom|trong so)\b[\s:,-]*")


@lru_cache(maxsize=8192)
def role_of(text: str, table: str) -> str | None:
    """Return the role of one header cell, or ``None``.

    Parenthesised units are ignored; an exact folded match wins, then the longest known header
    the text starts with. Remembered per text (the header search asks about every cell of a
    sheet's first rows, and the same texts recur in every sheet and workbook; the answer
    depends on nothing else but the package's own header table).

    Examples
    --------
    >>> role_of("Tổng kinh phí (triệu đồng)", "budget"), role_of("Nhân dân đóng góp", "budget")
    ('total', 'people')
    >>> role_of("Ngân sách tỉnh hỗ trợ", "budget")
    'state_province'
    >>> role_of("Trong đó: NSNN", "budget"), role_of("Trong đó", "budget")
    ('state_unsplit', 'source_parent')
    """
    key = fold(_PAREN.sub(" ", text))
    if not key:
        return None
    roles = header_roles(table)
    if key in roles:
        return roles[key]
    # "Trong đó: NSNN", "Chia ra: NS tỉnh": the source after the words that introduce it
    lead = _INTRODUCING.match(key)
    if lead and (rest := role_of(key[lead.end():], table)):
        return rest
    best = None
    for known, role in roles.items():
        if key.startswith(known + " ") and (best is None or len(known) > len(best[0])):
            best = (known, role)
    return best[1] if best else None


def _filled_header(grid: Grid, rows: Sequence[int]) -> list[list[str]]:
    """Header texts of ``rows``, with merged cells filled from their top-left cell."""
    texts = [[cell_text(grid.cell(r, c)) for c in range(grid.width)] for r in rows]
    if grid.merged:
        index = {r: i for i, r in enumerate(rows)}
        for (r0, c0), (r1, c1) in grid.merged:
            value = cell_text(grid.cell(r0, c0))
            for r in range(r0, r1 + 1):
                if r in index:
                    for c in range(c0, c1 + 1):
                        if c < grid.width and not texts[index[r]][c]:
                            texts[index[r]][c] = value
    return texts


_PARENT_ROLES = {"state_unsplit", "source_parent"}


def _header_texts(grid: Grid, rows: Sequence[int], table: str) -> list[list[str]]:
    """Header texts of ``rows`` as each column reads them: merged cells filled, and without
    merge information a parent header ("Nguồn vốn") spanning right over the empty cells above
    its sub-headers."""
    texts = _filled_header(grid, rows)
    if not grid.merged and len(rows) > 1:
        for i in range(len(rows) - 1):
            for c in range(1, grid.width):
                below = any(texts[j][c] for j in range(i + 1, len(rows)))
                if not texts[i][c] and below and role_of(texts[i][c - 1], table) in _PARENT_ROLES:
                    texts[i][c] = texts[i][c - 1]
    return texts


#: The state budget's sources: a kind of capital ("Vốn ĐTPT", "Vốn sự nghiệp") below one of
#: them is a part of it.
_STATE_ROLES = ("state_unsplit", "state_central", "state_province", "state_district",
                "state_commune")


def column_roles(grid: Grid, rows: Sequence[int], table: str) -> dict[int, str]:
    """Map column index → role from a (possibly multi-row) header block.

    One column per role, the first; but the kinds of capital a state source is split into
    ("Ngân sách nhà nước" over "Vốn ĐTPT" | "Vốn sự nghiệp", or "NS tỉnh" over its own) are
    each a column of that source, summed when read (``columns_of``). A kind of capital under no
    state source is the state budget's (both are kinds of state capital).
    """
    texts = _header_texts(grid, rows, table)
    roles: dict[int, str] = {}
    parts: set[str] = set()
    for c in range(grid.width):
        stack: list[str] = []
        for i in range(len(rows)):
            t = texts[i][c]
            if t and (not stack or stack[-1] != t):
                stack.append(t)
        if not stack:
            continue
        bottom = role_of(stack[-1], table)
        parents = [role_of(t, table) for t in stack[:-1]]
        role = bottom
        if table == "budget":
            if bottom in {"total", "subtotal_word"} and "state_unsplit" in parents:
                role = "state_total"
            elif bottom == "subtotal_word":
                role = "total"
            elif bottom is None and parents:
                role = next((p for p in reversed(parents) if p not in _PARENT_ROLES), None)
        elif bottom is None and parents:
            role = parents[-1]
        if role == "year" and _YEAR.search(stack[-1]):
            role = None  # "Năm 2024" heads that year's amounts (a phasing), not a year column
        if role == "capital_part":
            owner = next((p for p in reversed(parents) if p not in {None, "source_parent"}),
                         "state_unsplit")
            if owner in _STATE_ROLES and (owner in parts or owner not in roles.values()):
                roles[c] = owner
                parts.add(owner)
            continue
        if role and role not in {"source_parent", "subtotal_word"} and role not in roles.values():
            roles[c] = role
    return roles


def columns_of(roles: dict[int, str]) -> dict[str, list[int]]:
    """Role → its columns, left to right (one, or a state source's kinds of capital).

    >>> columns_of({1: "content", 3: "state_unsplit", 4: "state_unsplit", 2: "total"})
    {'content': [1], 'state_unsplit': [3, 4], 'total': [2]}
    """
    out: dict[str, list[int]] = {}
    for c, role in roles.items():
        out.setdefault(role, []).append(c)
    return out


_NUMBERING = re.compile(r"^\(?[0-9]{1,2}\)?$|^\(?[A-Z]\)?$")


def _is_numbering_row(values: Sequence[object]) -> bool:
    cells = [cell_text(v) for v in values if cell_text(v)]
    return len(cells) >= 3 and all(_NUMBERING.match(c) for c in cells)


# --------------------------------------------------------------------------- classification

_ROMAN = re.compile(r"^(?=[IVXL])(L?X{0,3})(IX|IV|V?I{0,3})$")
_GROUP_LETTER = re.compile(r"^[A-H]$")
_LEAD_GROUP = re.compile(r"^\s*([IVXL]+|[A-H])\s*[.)/:-]\s+(.*)$")


def _is_subtotal(key: str, content: str) -> bool:
    """Whether a row's content (folded: ``key``) makes it a subtotal: "Cộng", "Cộng mục I",
    "Tổng mục …". The word is "Cộng" as written, not any word that folds like it: "Cống thoát
    nước" (a culvert) and "Cộng đồng dân cư …" (the community) are budget lines.

    >>> _is_subtotal("cong", "Cộng"), _is_subtotal("cong muc i", "CỘNG MỤC I")
    (True, True)
    >>> _is_subtotal("cong thoat nuoc", "Cống thoát nước")
    False
    >>> _is_subtotal("cong dong dan cu hien dat", "Cộng đồng dân cư hiến đất")
    False
    """
    if key.startswith("tong muc"):
        return True
    if not (key == "cong" or key.startswith("cong ")):
        return False
    words = nfc(content).casefold().split()
    return bool(words) and words[0].rstrip(":.") == "cộng" and (
        len(words) == 1 or words[1] not in ("đồng", "tác", "sự", "hòa", "hoà"))


_GRAND = ("tong cong", "tong so", "tong", "tong kinh phi", "tong cong kinh phi", "tong toan xa",
          "cong toan xa", "tong cong toan xa")
_NOTE_PREFIX = ("ghi chu", "luu y", "nguon so lieu", "chu thich", "don vi tinh", "dvt")

_HAMLET_WORD = re.compile(rf"\b(?<!chăm )({'|'.join(HAMLET_WORDS)})\s+",
                          re.IGNORECASE)  # "chăm sóc": to care for
_SKIP_HAMLET = {"NTM", "KM", "TM"}
_CRIT = [
    re.compile(r"\bchi tieu\s*(?:so\s*)?(\d{1,2}(?:\.\d{1,2})+)"),
    re.compile(r"\btc\s*(?:so\s*)?(\d{1,2}(?:\.\d{1,2})?)\b"),
    re.compile(r"\btieu chi\s*(?:so\s*)?(\d{1,2}(?:\.\d{1,2})?)\b"),
]
_BARE_CRIT = re.compile(r"^\s*(\d{1,2}(?:\.\d{1,2})?)\s*(?:[-–:.]|$)")


def is_roman(text: str) -> bool:
    """True for Roman numerals used as group numbers (I … L).

    Examples
    --------
    >>> is_roman("IV"), is_roman("VI"), is_roman("1"), is_roman("")
    (True, True, False, False)
    """
    return bool(text) and bool(_ROMAN.match(text))


def parse_criterion(text: str, *, bare: bool = False) -> tuple[str | None, str | None]:
    """Return (criterion_no, indicator_no) named in a text ("TC 6 - Giáo dục", "6.1").

    ``bare`` allows a leading bare number (a cell of a "Tiêu chí" column).

    Examples
    --------
    >>> parse_criterion("TC 6 - Giáo dục"), parse_criterion("Tiêu chí 2")
    (('6', None), ('2', None))
    >>> parse_criterion("6.1", bare=True), parse_criterion("Sửa trường (chỉ tiêu 6.2)")
    (('6', '6.1'), ('6', '6.2'))
    >>> parse_criterion("Lắp đặt 06 bộ dụng cụ")
    (None, None)
    """
    key = plain(text)
    found = None
    for pattern in _CRIT:
        m = pattern.search(key)
        if m:
            found = m.group(1)
            break
    if found is None and bare:
        m = _BARE_CRIT.match(key)
        if m:
            found = m.group(1)
    if found is None:
        return None, None
    if "." in found:
        return found.split(".")[0].lstrip("0") or "0", found
    return found.lstrip("0") or "0", None


def parse_hamlet(text: str) -> str | None:
    """Return the hamlet named in a text as "Xóm Name" ("Xóm Cạm Phước"), or ``None``.

    Examples
    --------
    >>> parse_hamlet("Nâng cấp nhà văn hóa xóm Cạm Phước, lát sân")
    'Xóm Cạm Phước'
    >>> parse_hamlet("II. Xóm NTM kiểu mẫu") is None, parse_hamlet("hỗ trợ 06 xóm") is None
    (True, True)
    >>> parse_hamlet("Nhà sinh hoạt cộng đồng buôn Ko Siêr"), parse_hamlet("Chăm sóc Trẻ em")
    ('Buôn Ko Siêr', None)
    """
    text = nfc(text)
    for m in _HAMLET_WORD.finditer(text):
        words = []
        for word in re.split(r"\s+", text[m.end():]):
            clean = word.strip(",;:.()")
            if not clean or not clean[0].isupper() or clean in _SKIP_HAMLET or clean.isdigit():
                break
            words.append(clean)
            if clean != word:
                break
        if words:
            return m.group(1).capitalize() + " " + " ".join(words)
    return None


_LIST_SEPARATORS = re.compile(r"\s*(?:[,;/+&]|\s(?:và|va|[-–])\s)\s*", re.IGNORECASE)


def hamlets_listed(text: str, *, bare: bool = True) -> list[str]:
    """The hamlets a text names, each once ("Xóm Cạm Phước"): a list in a place cell ("Cạm
    Phước, Bản Lác", "Cạm Phước và Ao Sen"; ``bare``: names without "Xóm" count) or the
    hamlets a line's content names ("Nhà văn hóa xóm Ao Sen, xóm Bản Lác").

    >>> hamlets_listed("Cạm Phước, Bản Lác"), hamlets_listed("Xóm Cạm Phước và xóm Ao Sen")
    (['Xóm Cạm Phước', 'Xóm Bản Lác'], ['Xóm Cạm Phước', 'Xóm Ao Sen'])
    >>> hamlets_listed("Cạm Phước - Ao Sen"), hamlets_listed("Xóm Cạm Phước - lát sân", bare=False)
    (['Xóm Cạm Phước', 'Xóm Ao Sen'], ['Xóm Cạm Phước'])
    >>> hamlets_listed("Nâng cấp nhà văn hóa xóm Ao Sen, xóm Bản Lác", bare=False)
    ['Xóm Ao Sen', 'Xóm Bản Lác']
    >>> hamlets_listed("Các xóm"), hamlets_listed("Đường làng, ngõ xóm", bare=False)
    ([], [])
    """
    found: dict[str, str] = {}
    for part in _LIST_SEPARATORS.split(nfc(text)):
        if bare and not fold(part).startswith(("xom ", "thon ")):  # as one place cell is read
            name = parse_hamlet("Xóm " + part) if _bare_hamlet_name(part) else None
        else:
            name = parse_hamlet(part) if part else None
        if name is not None:
            found.setdefault(fold(name), name)
    return list(found.values())


def _shared(table: _Table, row: _Row, where: str, text: str, hamlets: list[str]) -> None:
    table.issues.append(_issue(
        table, row.r + 1, where, text,
        f"the line names {len(hamlets)} hamlets ({', '.join(hamlets)}): counted as shared by "
        "the hamlets of its level, not split between them (one line per hamlet splits it)",
        Severity.info, "hamlets_shared"))


def _bare_hamlet_name(text: str) -> bool:
    """Whether a place cell without "Xóm" names a hamlet: a proper name ("Cạm Phước", "Nà
    Chú"), not the commune or a place in it ("Trung tâm xã", "Toàn xã", "UBND xã": each read
    as a hamlet "Xóm Trung", "Xóm Toàn" …).

    >>> _bare_hamlet_name("Nà Chú"), _bare_hamlet_name("Trung tâm xã")
    (True, False)
    >>> _bare_hamlet_name("Toàn Xã"), _bare_hamlet_name("UBND xã")
    (False, False)
    """
    words = nfc(text).strip(" .,;").split()
    return bool(words) and all(w[0].isupper() for w in words) and not (
        {"xa", "ubnd", "huyen"} & set(fold(text).split()))


def level_of(text: str) -> str | None:
    """Return the budget level a text names (commune / model hamlet / smart hamlet), or ``None``.

    Examples
    --------
    >>> level_of("I. Xã NTM kiểu mẫu"), level_of("Xóm thông minh"), level_of("Xóm kiểu mẫu")
    ('commune', 'smart_hamlet', 'model_hamlet')
    >>> level_of("Kinh phí khác") is None
    True

    The words keep their tones: "bàn ghế" (desks) and "bán hàng" (sales) name no "bản", and
    "đường làng, ngõ xóm" (village lanes) or "làng nghề" (a craft village) no hamlet:

    >>> level_of("1. Mua sắm bàn ghế"), level_of("Đường làng, ngõ xóm"), level_of("Buôn Ko Siêr")
    (None, None, 'model_hamlet')
    """
    key = fold(text)
    if "thong minh" in key:
        return Budget.smart_hamlet
    words = _COMMON_PHRASES.sub(" ", " ".join(re.findall(r"\w+", nfc(text).lower())))
    for token in words.split():
        if token in HAMLET_WORDS:
            return Budget.model_hamlet
        if token == "xã":
            return Budget.commune
    return None


#: Phrases with a hamlet word (``text.HAMLET_WORDS``) that name no hamlet.
_COMMON_PHRASES = re.compile(r"\b(?:đường làng|ngõ xóm|làng nghề|thôn xóm|xóm làng|"
                             r"làng xã|bản sắc|bản đồ|bản vẽ|văn bản|cơ bản)\b")


_STATUS_WORDS = [
    (("de nghi", "de xuat", "xin ho tro", "kien nghi"), Budget.requested),
    (("da bo tri", "da phan bo", "cam ket", "da giao", "da co", "da duoc bo tri"),
     Budget.committed),
    (("ke hoach", "du kien", "du toan", "dang ky"), Budget.planned),
]


def status_of(text: str) -> str | None:
    """Return the funding status named in a text (planned / committed / requested), or ``None``.

    Examples
    --------
    >>> status_of("Đề nghị huyện hỗ trợ"), status_of("Đã bố trí"), status_of("Kế hoạch")
    ('requested', 'committed', 'planned')
    """
    key = fold(text)
    for words, status in _STATUS_WORDS:
        if any(key == w or key.startswith(w + " ") for w in words):
            return status
    return None


#: A commune's budget (million VND) above this is taken for a unit slip: a table in đồng with
#: no unit written, read as millions.
PLAUSIBLE_BUDGET = 1_000_000.0
#: What each multiplier to million VND converts from, as an issue names it.
SCALE_NAMES = {1e-6: "đồng (VND)", 1e-3: "nghìn đồng (thousand VND)",
               1e3: "tỷ đồng (billion VND)"}


def scale_of(texts: Iterable[str]) -> float | None:
    """Multiplier to million VND named in a unit text ("ĐVT: triệu đồng", "(nghìn đồng)"),
    ``None`` when no text names one (``parse.money_unit_named``, in millions).

    >>> scale_of(["KINH PHÍ THỰC HIỆN", "ĐVT: nghìn đồng"]), scale_of(["Tổng (tỷ đồng)"])
    (0.001, 1000.0)
    >>> scale_of(["THU NHẬP BÌNH QUÂN (đồng/người/năm)"]), scale_of(["Năm 2023"]) is None
    (1e-06, True)
    >>> scale_of(["Đơn vị tính: 1.000 đồng"]), scale_of(["(Tr.đ)"])
    (0.001, 1.0)
    """
    worth = money_unit_named(texts)
    return None if worth is None else worth / 1e6


# --------------------------------------------------------------------------- the loader


@dataclass
class _Table:
    grid: Grid
    header_rows: list[int]
    roles: dict[int, str]
    title: str
    scale: float = 1.0
    year: int | None = None
    issues: list[dict[str, object]] = field(default_factory=list)
    #: Communes the title rows (and the sheet name) name; the table's commune when only one.
    communes: list[str] = field(default_factory=list)
    #: Whether the title or header names the unit ("ĐVT: triệu đồng"); ``scale`` is 1 if not.
    unit_stated: bool = False

    @property
    def commune(self) -> str | None:
        return self.communes[0] if len(self.communes) == 1 else None

    @cached_property
    def by_role(self) -> dict[str, list[int]]:
        """Role → its columns (``columns_of``)."""
        return columns_of(self.roles)

    @cached_property
    def header_texts(self) -> list[list[str]]:
        """The header rows' texts as each column reads them (``_header_texts``)."""
        return _header_texts(self.grid, self.header_rows, "budget")


def _find_header(grid: Grid, table: str, required: set[str], *, max_rows: int = 25) -> int | None:
    for r in range(min(max_rows, len(grid.rows))):
        roles = {role_of(cell_text(v), table) for v in grid.rows[r] if cell_text(v)}
        if required <= roles:
            return r
    return None


def _header_block(grid: Grid, start: int, table: str) -> list[int]:
    """The header row and the sub-header rows below it (no item, no content, no numbers)."""
    rows = [start]
    first_roles = {c: role_of(cell_text(v), table) for c, v in enumerate(grid.rows[start])}
    key_cols = [c for c, role in first_roles.items() if role in {"item_no", "content", "unit"}]
    for r in range(start + 1, min(start + 4, len(grid.rows))):
        values = grid.rows[r]
        if _is_numbering_row(values):
            break
        if any(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            break
        if any(cell_text(values[c]) for c in key_cols):
            break
        texts = [cell_text(v) for v in values if cell_text(v)]
        if not texts:
            break
        if not any(role_of(t, table) for t in texts):
            break
        rows.append(r)
    return rows


def _title_text(grid: Grid, upto: int) -> list[str]:
    return [cell_text(v) for r in range(upto) for v in grid.rows[r] if cell_text(v)]


_YEAR = re.compile(r"\b(20\d{2})\b")
_COMMUNE_PREFIXES = ("xa ", "phuong ", "thi tran ")
_AND = re.compile(r"\s+(?:và|va)\s.*$", re.I)


def commune_key(name: object) -> str:
    """Return the matching key of a commune name: folded, without "Xã"/"Phường"/"Thị trấn".

    Examples
    --------
    >>> commune_key("XÃ KIM PHƯỢNG"), commune_key("Kim Phuong"), commune_key("kim phượng")
    ('kim phuong', 'kim phuong', 'kim phuong')
    >>> commune_key(None)
    ''
    """
    key = fold(name) if isinstance(name, str) else ""
    for prefix in _COMMUNE_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def title_communes(texts: Iterable[str]) -> list[str]:
    """Return the communes named in title texts ("… XÃ KIM PHƯỢNG …"), each once, in order.

    Hamlets ("Xóm Ao Sen") and words that only look like a name ("Xã NTM kiểu mẫu") are not
    communes; "XÃ KIM PHƯỢNG VÀ CÁC XÓM" names Kim Phượng.

    Examples
    --------
    >>> title_communes(["KINH PHÍ THỰC HIỆN XÂY DỰNG XÃ KIM PHƯỢNG ĐẠT CHUẨN NTM KIỂU MẪU",
    ...                 "(Kèm theo Báo cáo số 46/BC-UBND của UBND xã Kim Phượng)"])
    ['Kim Phượng']
    >>> title_communes(["THU NHẬP XÃ KIM PHƯỢNG VÀ CÁC XÓM"]), title_communes(["Xã NTM kiểu mẫu"])
    (['Kim Phượng'], [])
    """
    from ntm_analysis.load import unit_names

    found: dict[str, str] = {}
    for text in texts:
        for prefix, name in unit_names(text):
            if fold(prefix) not in {p.strip() for p in _COMMUNE_PREFIXES}:
                continue
            name = _AND.sub("", name).strip()
            if name and commune_key(name) not in found:
                found[commune_key(name)] = nfc(name)
    return list(found.values())


def find_budget_table(grid: Grid) -> _Table | None:
    """Return the budget table of a sheet (header rows and column roles), or ``None``."""
    start = _find_header(grid, "budget", {"content", "total"})
    if start is None:
        return None
    rows = _header_block(grid, start, "budget")
    roles = column_roles(grid, rows, "budget")
    if "content" not in roles.values() or "total" not in roles.values():
        return None
    title = _title_text(grid, start)
    header_texts = [cell_text(grid.cell(r, c)) for r in rows for c in range(grid.width)]
    stated = scale_of(title + header_texts)
    scale = stated or 1.0
    years = [int(y) for t in [*title, grid.sheet] for y in _YEAR.findall(without_periods(t))]
    table = _Table(grid, rows, roles, " ".join(title), scale, max(years) if years else None,
                   communes=title_communes([*title, grid.sheet]), unit_stated=stated is not None)
    _columns_not_read(table)
    if len(table.communes) > 1:
        table.issues.append(_issue(
            table, None, None, None,
            f"the title names {len(table.communes)} communes ({', '.join(table.communes)}); "
            "the budget lines are not attributed to a commune", Severity.warning,
            "budget_communes_ambiguous"))
    return table


def _columns_not_read(table: _Table) -> None:
    """Name each column of figures the header does not make a budget column: its amounts are
    in no total or source. Under a source heading ("Nguồn vốn", "Trong đó") or without a
    header, it is money the split leaves out (a warning: "Dân góp" the vocabulary lacked);
    a column such as "Khối lượng" is only named (info)."""
    grid = table.grid
    texts = table.header_texts
    first = table.header_rows[-1] + 1
    for c in range(grid.width):
        if c in table.roles:
            continue
        rows = [r for r in range(first, len(grid.rows)) if not _is_numbering_row(grid.rows[r])
                and _is_figure(grid.cell(r, c))]
        if not rows:
            continue
        stack = list(dict.fromkeys(t[c] for t in texts if t[c]))
        under_source = any(role_of(t, "budget") in _PARENT_ROLES for t in stack)
        label = " / ".join(stack) or column_letters(c + 1)
        named = f"column '{label}'" if stack else f"column {label} (no header)"
        where = rows_phrase(rows)
        if under_source or not stack:
            problem = (f"{named} holds amounts ({where}) but is no budget column this reader "
                       "knows: its amounts are in no source, so the split counts them as not "
                       "assigned; name it as a source ('Nhân dân đóng góp', 'Lồng ghép', "
                       "'Doanh nghiệp và khác', 'Ngân sách xã' …)")
            severity = Severity.warning
        else:
            problem = (f"{named} holds figures ({where}) that are neither a total nor a "
                       "source; not read")
            severity = Severity.info
        table.issues.append(_issue(table, table.header_rows[0] + 1, label, None, problem,
                                   severity, "budget_column_not_read"))


def _is_figure(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    text = cell_text(value)
    return bool(text) and any(ch.isdigit() for ch in text) and parse_number(text) is not None


def _issue(table: _Table, row: int | None, column: str | None, value: object, problem: str,
           severity: str, code: str) -> dict[str, object]:
    return {Iss.source_file: table.grid.file, Iss.source_sheet: table.grid.sheet,
            Iss.source_row: row, Iss.column: column,
            Iss.value: None if value is None else str(value), Iss.problem: problem,
            Iss.severity: severity, Iss.code: code}


def _amount(table: _Table, r: int, c: int, role: str) -> float | None:
    raw = table.grid.cell(r, c)
    if raw is None:
        return None
    if isinstance(raw, bool):
        number = None
    elif isinstance(raw, int | float):
        number = float(raw) if math.isfinite(raw) else None
    else:
        text = cell_text(raw)
        if fold(text) in {"", "-", "x"} or text in {"-", "–", "—"}:
            return None
        if text.upper() in EXCEL_ERRORS:  # kept as text ("#REF!" pasted as text)
            header = cell_text(table.grid.cell(table.header_rows[0], c)) or role
            table.issues.append(_issue(table, r + 1, header, raw, error_text_problem(text),
                                       Severity.warning, "excel_error"))
            return None
        number = parse_number(text)
        if number is None:
            # the cell names its own unit ("850 triệu", "1,2 tỷ", "150.000.000đ"): that
            # unit, not the table's
            value = parse_value(text)
            scale = money_scale(value.unit) if value.kind == "number" else None
            if scale is not None and value.number is not None and value.number >= 0:
                return value.number * scale / 1e6
    if number is None:
        header = cell_text(table.grid.cell(table.header_rows[0], c)) or role
        table.issues.append(_issue(table, r + 1, header, raw,
                                   "expected an amount in million VND (a number, or a number "
                                   "and its unit: '850 triệu', '1,2 tỷ')", Severity.error,
                                   "bad_amount"))
        return None
    if number < 0:
        header = cell_text(table.grid.cell(table.header_rows[0], c)) or role
        table.issues.append(_issue(table, r + 1, header, raw,
                                   "expected an amount of zero or more, found a negative one; "
                                   "not used (a saving or a cut is a line's smaller amount, "
                                   "not a negative line)", Severity.error, "negative_amount"))
        return None
    return number * table.scale


@dataclass
class _Row:
    r: int
    kind: str  # line | group | subtotal | grand | heading | parent
    item_no: str
    content: str
    amounts: dict[str, float | None]
    texts: dict[str, str]


def _not_read(table: _Table, r: int) -> None:
    """Record that row ``r`` (0-based, not blank) of a budget table was not read: a note
    (``footer_row``) or a row with neither content nor an amount (``row_not_read``)."""
    shown = table.grid.row_text(r)
    note = fold(shown).startswith(_NOTE_PREFIX)
    table.issues.append(_issue(
        table, r + 1, None, shown, "note row (not data); not read" if note else
        "row has no content and no amount: nothing read", Severity.info,
        "footer_row" if note else "row_not_read"))


def _classify(table: _Table) -> list[_Row]:
    grid = table.grid
    by_role = table.by_role
    start = table.header_rows[-1] + 1
    out: list[_Row] = []
    amount_roles = [r for r in [*AMOUNTS, "state_total", *GAP_AMOUNTS] if r in by_role]
    for r in range(start, len(grid.rows)):
        values = grid.rows[r]
        if not any(cell_text(v) for v in values) or _is_numbering_row(values):
            continue
        # (a place, criterion, level or status merged down its lines is each line's)
        texts = {role: cell_text(grid.cell(r, cs[0]) if role in ("item_no", "content")
                                 else grid.merged_cell(r, cs[0]))
                 for role, cs in by_role.items() if role not in amount_roles}
        item = texts.get("item_no", "")
        content = texts.get("content", "")
        if not content and not item:
            # a note or unit row written in another column
            other = " ".join(cell_text(v) for v in values if cell_text(v))
            if fold(other).startswith(_NOTE_PREFIX) or not any(
                    isinstance(grid.cell(r, c), int | float)
                    for a in amount_roles for c in by_role[a]):
                _not_read(table, r)
                continue
        key = fold(content)
        if (not content and fold(item).startswith(_NOTE_PREFIX)) or (
                key.startswith(_NOTE_PREFIX) and not item):
            _not_read(table, r)
            continue
        amounts = {a: _sum([_amount(table, r, c, a) for c in by_role[a]])
                   for a in amount_roles}
        has_amount = any(v is not None for v in amounts.values())
        item_clean = item.strip().rstrip(".")
        lead = _LEAD_GROUP.match(content) if not item_clean else None
        if not item_clean and (key in _GRAND or key.startswith(("tong cong", "tong so kinh phi"))):
            kind = "grand"
        elif _is_subtotal(key, content):
            kind = "subtotal"
        elif is_roman(item_clean) or _GROUP_LETTER.match(item_clean) or lead:
            kind = "group"
            if lead:
                item_clean, content = lead.group(1), lead.group(2)
        elif not has_amount:
            kind = "heading"
        else:
            kind = "line"
        out.append(_Row(r, kind, item_clean, content, amounts, texts))
    # numbered rows whose number prefixes following numbers (1 → 1.1, 1.2) are parents
    # (numbering restarts in each group, so look only within the row's group)
    segments: list[list[_Row]] = [[]]
    for row in out:
        if row.kind in {"group", "grand"}:
            segments.append([])
        elif row.kind in {"line", "heading"}:
            segments[-1].append(row)
    for segment in segments:
        numbers = [row.item_no for row in segment]
        for row in segment:
            if row.item_no and any(n.startswith(row.item_no + ".") for n in numbers):
                row.kind = "parent"
    return out


def _sum(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return math.fsum(present) if present else None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _check(table: _Table, row: _Row, lines: list[dict[str, object]], what: str,
           code: str) -> None:
    """Compare a subtotal row's amounts with the sum of ``lines``; record each mismatch."""
    by_role = table.by_role
    for role, stated in row.amounts.items():
        if stated is None or role == "state_total":
            continue
        computed = math.fsum(x for x in (line.get(role) for line in lines)
                             if isinstance(x, float | int) and not math.isnan(x))
        if not _close(stated, computed):
            columns = by_role[role]
            values = [cell_text(table.grid.cell(row.r, c)) for c in columns]
            table.issues.append(_issue(
                table, row.r + 1, _column_label(table, columns) or role,
                " + ".join(values) if len(values) > 1 else table.grid.cell(row.r, columns[0]),
                f"{what} {stated:g} does not equal the sum of its {len(lines)} line(s) "
                f"{computed:g} (difference {stated - computed:g} million VND)",
                Severity.error, code))


def _column_label(table: _Table, columns: list[int]) -> str:
    """The header of a role's columns as the sheet writes it, merged cells filled: "Tổng kinh
    phí", or "Nguồn vốn / Ngân sách huyện / Vốn ĐTPT + Vốn SN" for a source's kinds of capital."""
    texts = table.header_texts
    stacks = [list(dict.fromkeys(t[c] for t in texts if t[c])) for c in columns]
    if not stacks[0]:
        return ""
    head = stacks[0][:-1] if len(columns) > 1 else stacks[0]
    tail = [" + ".join(s[-1] for s in stacks if s)] if len(columns) > 1 else []
    return " / ".join([*head, *tail])


def _role_label(table: _Table, role: str) -> str:
    """The header of a role's columns (``_column_label``), or the role's name."""
    columns = table.by_role.get(role)
    return (_column_label(table, columns) if columns else "") or role.replace("_", " ")


def _line_record(table: _Table, row: _Row, context: list[_Row],
                 group: _Row | None) -> dict[str, object]:
    amounts = dict(row.amounts)
    state_total = amounts.pop("state_total", None)
    split = [amounts.get(s) for s in STATE_SOURCES[:-1]]
    if state_total is not None:
        split_sum = _sum(split)
        parts = amounts.get("state_unsplit")
        if parts is not None:  # the total's parts are written ("Vốn ĐTPT" | "Vốn SN"): read
            if not _close(state_total, (split_sum or 0.0) + parts):
                table.issues.append(_issue(
                    table, row.r + 1, _role_label(table, "state_total"), f"{state_total:g}",
                    f"the state budget's total {state_total:g} is not the sum of its parts "
                    f"{(split_sum or 0.0) + parts:g} (the parts are read)", Severity.error,
                    "state_split"))
        else:
            amounts["state_unsplit"] = state_total - (split_sum or 0.0)
            if split_sum is not None and state_total + 1e-6 < split_sum:
                table.issues.append(_issue(table, row.r + 1, _role_label(table, "state_total"),
                                           f"{state_total:g}", f"state budget total is less "
                                           f"than its parts ({split_sum:g})", Severity.error,
                                           "state_split"))
    state = _sum(amounts.get(s) for s in STATE_SOURCES)
    non_state = _sum(amounts.get(s) for s in NON_STATE_SOURCES)
    total = amounts.get("total")
    sources = (state or 0.0) + (non_state or 0.0)
    if total is None:
        total = sources if (state is not None or non_state is not None) else None
        table.issues.append(_issue(table, row.r + 1, "total", None,
                                   "no total given; the sum of the sources is used",
                                   Severity.warning, "total_missing"))
    elif sources > total + 1e-6 * max(1.0, abs(total)):
        table.issues.append(_issue(table, row.r + 1, _role_label(table, "total"), f"{total:g}",
                                   f"the sources add up to {sources:g}, more than the total",
                                   Severity.error, "sources_exceed_total"))
    unassigned = None if total is None else max(0.0, total - sources)
    committed, shortfall = amounts.get("committed"), amounts.get("shortfall")
    if total is not None and (committed is not None or shortfall is not None):
        gap_sum = (committed or 0.0) + (shortfall or 0.0)
        both = committed is not None and shortfall is not None
        if (both and not _close(gap_sum, total)) or \
                gap_sum > total + 1e-6 * max(1.0, abs(total)):
            given = " + ".join(f"{name} {v:g}" for name, v in (("allocated", committed),
                                                                ("missing", shortfall))
                               if v is not None)
            table.issues.append(_issue(
                table, row.r + 1, _role_label(table, "total"), f"{total:g}",
                f"{given} = {gap_sum:g}, not the line's total {total:g} (read as written)",
                Severity.warning, "gap_mismatch"))
    texts = row.texts
    crit, ind = parse_criterion(texts.get("criterion", ""), bare=True)
    chain = [row.content, *(c.content for c in reversed(context))]
    if crit is None:
        for text in chain:
            crit, ind = parse_criterion(text)
            if crit:
                break
    # the hamlets of a place column (a bare name there is a hamlet of the commune), else of
    # the line's content or its parents'; several: shared, not the first one's
    place = texts.get("hamlet", "")
    listed, role, shown = hamlets_listed(place), "hamlet", place
    for text in chain if not listed else ():
        if listed := hamlets_listed(text, bare=False):
            role, shown = "content", text
            break
    if len(listed) > 1:
        _shared(table, row, _role_label(table, role), shown, listed)
    hamlet = listed[0] if len(listed) == 1 else None
    level = level_of(texts.get("level", "")) if texts.get("level") else None
    if level is None and group is not None:
        level = level_of(group.content)
    if level is None:
        level = next((lv for lv in map(level_of, [c.content for c in context]) if lv), None)
    if level is None:
        level = level_of(row.content) if "thong minh" in fold(row.content) else None
    if level is None:
        level = Budget.model_hamlet if hamlet else Budget.unspecified
    status = status_of(texts.get("status", "")) if texts.get("status") else None
    if status is None:
        status = status_of(row.content) or Budget.planned
    year = None
    if texts.get("year"):
        m = _YEAR.search(texts["year"])
        year = int(m.group(1)) if m else None
    return {
        Bud.source_file: table.grid.file, Bud.source_sheet: table.grid.sheet,
        Bud.source_row: row.r + 1, Bud.commune: table.commune,
        Bud.item_no: row.item_no or None,
        Bud.group_no: group.item_no if group else None,
        Bud.group_name: group.content if group else None,
        Bud.content: row.content or None, Bud.level: level, Bud.hamlet: hamlet,
        Bud.criterion_no: crit, Bud.indicator_no: ind,
        Bud.year: year if year is not None else table.year, Bud.status: status,
        Bud.total: total, **{s: amounts.get(s) for s in SOURCES},
        Bud.state: state, Bud.non_state: non_state, Bud.unassigned: unassigned,
        Bud.committed: committed, Bud.shortfall: shortfall,
        Bud.note: texts.get("note") or None,
    }


def read_budget_table(table: _Table) -> list[dict[str, object]]:
    """Turn one recognised budget table into line records; issues go to ``table.issues``."""
    rows = _classify(table)
    records: list[dict[str, object]] = []
    group: _Row | None = None
    group_lines: list[dict[str, object]] = []
    groups: list[tuple[_Row, list[dict[str, object]]]] = []
    subtotals: list[tuple[_Row, list[dict[str, object]]]] = []
    parents: list[tuple[_Row, list[dict[str, object]]]] = []
    grand_rows: list[_Row] = []
    context: list[_Row] = []  # headings and parents above the current line
    open_parents: list[tuple[_Row, list[dict[str, object]]]] = []  # parents in this group
    for row in rows:
        if row.kind == "grand":
            grand_rows.append(row)
            continue
        if row.kind == "group":
            group_lines = []
            group = row
            groups.append((row, group_lines))
            context = []
            open_parents = []
            continue
        if row.kind == "subtotal":
            subtotals.append((row, group_lines if group is not None else records))
            continue
        if row.kind in {"heading", "parent"}:
            depth = row.item_no.count(".") if row.item_no else 0
            context = [c for c in context if c.item_no and c.item_no.count(".") < depth]
            context.append(row)
            if row.kind == "parent":
                parents.append((row, []))
                open_parents.append(parents[-1])
            continue
        record = _line_record(table, row, context, group)
        if not row.content:
            table.issues.append(_issue(
                table, row.r + 1, None, table.grid.row_text(row.r),
                "budget line with an amount but no content (Nội dung): counted in the totals; "
                "say what it pays for", Severity.warning, "line_no_content"))
        records.append(record)
        group_lines.append(record)
        for parent, children in open_parents:
            if row.item_no.startswith(parent.item_no + "."):
                children.append(record)
    for row, lines in groups:
        if any(v is not None for v in row.amounts.values()):
            _check(table, row, lines, f"group {row.item_no} subtotal", "subtotal_mismatch")
    for row, lines in subtotals:
        _check(table, row, lines, "subtotal", "subtotal_mismatch")
    for row, lines in parents:
        if any(v is not None for v in row.amounts.values()):
            _check(table, row, lines, f"item {row.item_no} total", "subtotal_mismatch")
    for row in grand_rows:
        _check(table, row, records, "grand total", "grand_total_mismatch")
    if not records:
        table.issues.append(_issue(table, table.header_rows[0] + 1, None, None,
                                   "budget table has no line items", Severity.warning,
                                   "no_lines"))
    total = sum(t for r in records if isinstance(t := r[Bud.total], int | float))
    if total > PLAUSIBLE_BUDGET:
        unit = SCALE_NAMES.get(table.scale, "triệu đồng (million VND)")
        expected = (f"expected amounts in the {unit} the table names (is that its unit?)"
                    if table.unit_stated else "expected the unit in the title or header, e.g. "
                    "'ĐVT: triệu đồng' or 'ĐVT: đồng'")
        table.issues.append(_issue(
            table, table.header_rows[0] + 1, None, f"{total:,.0f}",
            f"the budget lines add up to {total:,.0f} million VND read as {unit}, more than "
            f"{PLAUSIBLE_BUDGET:,.0f} (a trillion VND) for one commune: {expected}; kept as "
            "read", Severity.warning, "budget_implausible"))
    return records


def issues_frame(records: list[dict[str, object]]) -> pd.DataFrame:
    """Return issue records as a frame in ``schema.Iss`` order."""
    if not records:
        return empty_frame(Iss)
    return conform(pd.DataFrame(records), Iss)


def _as_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    if isinstance(paths, str | os.PathLike):
        return [Path(paths)]
    return [Path(p) for p in paths]


def iter_grids(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
               sheets: Sequence[str] | None = None) -> Iterator[Grid]:
    """Yield the sheets (all, or those named) of every workbook in ``paths``, in order.

    Raises
    ------
    InputError
        When no workbook is given, or one is missing or not a workbook.
    """
    files = _as_paths(paths)
    if not files:
        raise InputError(Location(), "no workbook given")
    for path in files:
        for grid in read_grids(path):
            if sheets is None or grid.sheet in sheets:
                yield grid


def _grids(files: list[Path], sheets: Sequence[str] | None,
           grids: Sequence[Grid] | None) -> Iterable[Grid]:
    """The sheets a money loader reads: ``grids`` already read (those named by ``sheets``),
    else ``iter_grids`` of ``files``."""
    if grids is None:
        return iter_grids(files, sheets=sheets)
    return [g for g in grids if sheets is None or g.sheet in sheets]


# --------------------------------------------------------------------------- communes

def _tables_of(frame: pd.DataFrame, keys: pd.Series) -> dict[str, list[str]]:
    """Map each commune named in ``frame`` to the files that name it (display names)."""
    names: dict[str, str] = {}
    files: dict[str, set[str]] = {}
    for key, name, file in zip(keys, frame[Bud.commune].astype("object"),
                               frame[Bud.source_file].astype("object"), strict=True):
        if key:
            names.setdefault(key, str(name))  # the first spelling met names the commune
            files.setdefault(key, set()).add(str(file))
    return {names[k]: sorted(files[k]) for k in sorted(names, key=lambda k: names[k])}


def _describe(found: dict[str, list[str]]) -> str:
    return ", ".join(f"{name} ({', '.join(files)})" for name, files in found.items())


def communes_of(frame: pd.DataFrame) -> list[str]:
    """Return the communes named by the rows of ``frame`` (budget lines or income series), sorted.

    Examples
    --------
    >>> communes_of(pd.DataFrame({"source_file": ["a", "b", "c"],
    ...                           "commune": ["Kim Phượng", "KIM PHUONG", None]}))
    ['Kim Phượng']
    """
    if Bud.commune not in frame.columns or not len(frame):
        return []
    keys = frame[Bud.commune].astype("object").map(commune_key)
    return list(_tables_of(frame, keys))


def only_commune(frame: pd.DataFrame, *, what: str = "budget") -> str:
    """Return the one commune ``frame``'s tables name ('' when none names one).

    ``frame`` has ``source_file`` and ``commune`` columns (budget lines or an income series);
    ``what`` ("budget" or "income") names the tables in the message.

    Raises
    ------
    InputError
        When the tables name several communes; the message names each with its files.

    Examples
    --------
    >>> lines = pd.DataFrame({"source_file": ["a.xlsx", "b.xlsx"], "commune": ["Kim Phượng", None]})
    >>> only_commune(lines)
    'Kim Phượng'
    """
    if Bud.commune not in frame.columns or not len(frame):
        return ""
    keys = frame[Bud.commune].astype("object").map(commune_key)
    found = _tables_of(frame, keys)
    if len(found) > 1:
        files = sorted({f for fs in found.values() for f in fs})
        raise InputError(Location(file=", ".join(files)),
                         f"{what} tables of {len(found)} communes: {_describe(found)}; "
                         "choose one with --commune (in a notebook: the commune parameter)")
    return next(iter(found), "")


def select_commune(frame: pd.DataFrame, *, commune: str,
                   what: str = "budget") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the rows of ``commune``; return them and the issues that say what was left out.

    ``frame`` has ``source_file``, ``source_sheet`` and ``commune`` columns (budget lines or an
    income series; ``what`` names them in messages). Communes match without accents, case or
    their "Xã" word (``text.fold``).
    A row of another commune is left out (an ``info`` row per table). A row whose table names
    no commune is kept while no table names another commune (nothing can be mixed); otherwise
    it is left out with a ``warning`` row naming its file, as it cannot be told apart. When no
    row is kept although other communes' tables were given, a ``warning`` row says so.

    Examples
    --------
    >>> lines = pd.DataFrame({"source_file": ["kp.xlsx", "bc.xlsx", "x.xlsx"],
    ...     "source_sheet": ["KP", "BC", "X"], "commune": ["Kim Phượng", "Bảo Cường", None],
    ...     "total": [3432.0, 900.0, 5.0]})
    >>> kept, issues = select_commune(lines, commune="xa kim phuong")
    >>> kept["total"].tolist(), issues["severity"].tolist()
    ([3432.0], ['info', 'warning'])
    >>> select_commune(lines.iloc[[0, 2]], commune="Kim Phượng")[0]["total"].tolist()
    [3432.0, 5.0]
    """
    wanted = commune_key(commune)
    if Bud.commune not in frame.columns:
        frame = frame.assign(**{Bud.commune: None})
    keys = frame[Bud.commune].astype("object").map(commune_key)
    mine = keys.eq(wanted)
    if mine.all():  # the common case: every table is of this commune
        return frame.reset_index(drop=True), empty_frame(Iss)
    others = keys.ne("") & ~mine
    unnamed = keys.eq("")
    other_found = _tables_of(frame[others], keys[others])
    keep = mine | (unnamed if not other_found else False)
    noun = what
    records: list[dict[str, object]] = []
    tables = frame.assign(_others=others, _unnamed=unnamed)[~mine]
    for (file, sheet), part in tables.groupby([Bud.source_file, Bud.source_sheet],
                                                sort=True, dropna=False):
        left = part[part["_others"]]
        if len(left):
            names = ", ".join(sorted({str(n) for n in left[Bud.commune]}))
            records.append({Iss.source_file: file, Iss.source_sheet: sheet,
                            Iss.problem: f"{noun} rows of commune {names}, not {commune}; "
                            f"{len(left)} row(s) left out", Iss.severity: Severity.info,
                            Iss.code: "other_commune"})
        blind = part[part["_unnamed"]]
        if len(blind) and other_found:
            records.append({Iss.source_file: file, Iss.source_sheet: sheet,
                            Iss.source_row: int(blind[Bud.source_row].min())
                            if Bud.source_row in blind and blind[Bud.source_row].notna().any()
                            else None,
                            Iss.problem: f"the {noun} table names no commune (title rows), and "
                            f"the data holds {noun} tables of other communes too "
                            f"({_describe(other_found)}); its {len(blind)} row(s) are left out "
                            f"of {commune}: name the commune in the title (e.g. 'xã {commune}')",
                            Iss.severity: Severity.warning, Iss.code: "commune_not_named"})
    if not keep.any() and other_found:
        records.append({Iss.source_file: ", ".join(sorted({f for fs in other_found.values()
                                                           for f in fs})),
                        Iss.problem: f"no {noun} table of commune {commune}"
                        f"{did_you_mean(commune, other_found)}; {noun} tables found for "
                        f"{_describe(other_found)}",
                        Iss.severity: Severity.warning, Iss.code: "commune_not_found"})
    kept = frame[keep.astype(bool)].reset_index(drop=True)
    return kept, issues_frame(records)


def raise_if_not_found(issues: pd.DataFrame) -> None:
    """Raise the "no table of this commune" row of ``select_commune``'s issues, if there is one.

    Raises
    ------
    InputError
        Naming the files of the other communes' tables and the communes found.
    """
    missing = issues[issues[Iss.code].eq("commune_not_found").fillna(False).astype(bool)]
    if len(missing):
        row = missing.iloc[0]
        raise InputError(Location(file=str(row[Iss.source_file])), str(row[Iss.problem]))


def load_budget(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
                sheets: Sequence[str] | None = None, commune: str | None = None,
                grids: Sequence[Grid] | None = None) -> BudgetResult:
    """Read the budget tables of one or more workbooks into line items and issues.

    Sheets that hold no budget table are skipped with an ``info`` issue row.

    Parameters
    ----------
    paths
        Workbook paths (``.xlsx``).
    sheets
        Only read sheets with these names (default: every sheet).
    commune
        Keep only this commune's lines (see ``select_commune``); ``""``: the one commune the
        tables name (an error when they name several); ``None`` (default): every line.
    grids
        The sheets of ``paths`` already read (``read_grids``), so that a caller reading the
        budget and the income tables of a workbook reads it once.

    Returns
    -------
    BudgetResult
        ``lines`` (``Bud`` columns, sorted by file, sheet, row) and ``issues`` (``Iss``).

    Raises
    ------
    InputError
        A file is missing or not a workbook, no budget table was found in any file, the tables
        name several communes and ``commune`` is ``""``, or none is of ``commune``.
    """
    records: list[dict[str, object]] = []
    issues: list[dict[str, object]] = []
    tables = 0
    files = _as_paths(paths)
    for grid in _grids(files, sheets, grids):
        table = find_budget_table(grid)
        if table is None:
            issues.append({Iss.source_file: grid.file, Iss.source_sheet: grid.sheet,
                           Iss.problem: "not a budget table (no 'Nội dung' and 'Tổng kinh "
                           "phí' header); sheet skipped", Iss.severity: "info",
                           Iss.code: "not_budget"})
            continue
        tables += 1
        records.extend(read_budget_table(table))
        issues.extend(table.issues)
        issues.extend(formula_issues(grid))
        log.info("%s, sheet '%s': budget table read", grid.file, grid.sheet)
    if tables == 0:
        names = ", ".join(p.name for p in files)
        raise InputError(Location(file=names),
                         "no budget table found (expected a header row with 'Nội dung' and "
                         "'Tổng kinh phí')")
    lines = conform(pd.DataFrame(records), Bud) if records else empty_frame(Bud)
    lines = lines.sort_values([Bud.source_file, Bud.source_sheet, Bud.source_row],
                              kind="stable").reset_index(drop=True)
    found = issues_frame(issues)
    if commune is not None:
        wanted = commune or only_commune(lines)
        if wanted:
            lines, left_out = select_commune(lines, commune=wanted)
            raise_if_not_found(left_out)
            found = pd.concat([found, left_out], ignore_index=True) if len(left_out) else found
    return BudgetResult(lines=lines, issues=found)


def read_attainment(path: str | os.PathLike[str] | None) -> pd.DataFrame | None:
    """Read an attainment table saved as Parquet or CSV; ``None`` for an empty path.

    Raises
    ------
    InputError
        When the file is missing or cannot be read.
    """
    if path is None or str(path) == "":
        return None
    from ntm_analysis.paths import resolve

    p = resolve(path)
    if not p.is_file():
        raise InputError(Location(file=str(path)), "attainment table not found")
    try:
        if p.suffix.lower() == ".csv":
            return pd.read_csv(p, dtype={"criterion_no": "string", "indicator_no": "string"})
        return pd.read_parquet(p)
    except Exception as exc:
        raise InputError(Location(file=str(path)),
                         f"cannot read the attainment table (Parquet or CSV): {exc}") from exc
