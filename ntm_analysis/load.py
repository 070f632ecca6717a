"""Load NTM appendix workbooks ("phụ biểu") into the tidy indicator table.

One loader reads the whole family of layouts that commune offices produce, without per-file code:

* title rows above the header naming the unit, year and criteria set (or the sheet name does);
* one- to three-row headers with merged cells and an optional column-number row ``(1) (2) (3)``;
* header words that vary ("TT"/"STT", "Hiện trạng"/"Thực trạng"/"Kết quả"...), mapped to roles by
  the table ``data/header_words.csv``;
* criteria as their own rows (1, 2… or I, II…) or as vertically merged cells beside their
  indicators; indicators numbered "1.1", prefixed "1.1. …", restarting 1, 2, 3, or not numbered;
* the assessment as one column of words or two columns "Đạt" | "Chưa đạt" of x marks;
* wide tables with a (result, assessment) pair of columns per unit under a merged unit header.

Every row that carries data ends up in the tidy table (one row per unit × indicator × year, with
``source_file``, ``source_sheet``, ``source_row``) or in the issues table; nothing is dropped
silently.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from itertools import chain, compress
from operator import itemgetter
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ntm_analysis import catalogue as cat
from ntm_analysis import legacy, sheetxml
from ntm_analysis.cells import SheetGrid, read_sheets
from ntm_analysis.errors import InputError, Location, ValidationError
from ntm_analysis.parse import (
    BOOL,
    COMPLIANCE,
    EQ,
    GE,
    GT,
    LE,
    LT,
    PERCENT,
    Value,
    comparable,
    is_mark,
    is_unfilled_choice,
    money_scale,
    parse_assessment,
    parse_target,
    parse_value,
    years_given,
)
from ntm_analysis.schema import (
    Ind,
    Iss,
    Level,
    Severity,
    arrow_schema,
    conform,
    empty_frame,
    empty_table,
    frame_from_records,
    frame_from_table,
    table_from_records,
    table_from_rows,
)
from ntm_analysis.sheetxml import SheetExtras, column_letters, scan_sheets, without_error_values
from ntm_analysis.text import (
    HAMLET_WORDS,
    cell_text,
    cell_texts,
    fold,
    joined,
    nfc,
    rows_phrase,
    slug,
    without_periods,
)

log = logging.getLogger(__name__)

#: How many rows from the top of a sheet are searched for the header.
HEADER_SEARCH_ROWS = 40
#: Words of a row's only text from which it is a title, never a header ("Kết quả rà soát" is a
#: header of three; "KẾT QUẢ THỰC HIỆN TIÊU CHÍ XÃ NTM KIỂU MẪU XÃ KIM PHƯỢNG" a title).
TITLE_WORDS = 7
#: Characters of a row below the table an issue shows (then "…"; an issue's value is cut there).
FOOTER_CHARS = 200
#: Issue code of a sheet whose title, name and file name name no year (and no default year
#: was given): the only case in which the ``year`` a workbook is read with changes its rows.
NO_YEAR = "no_year"
#: Roles that hold one unit's figures (a wide table repeats them per unit).
UNIT_ROLES = ("result", "assessment", "mark_met", "mark_not_met")
#: Longest text expected in one table cell; longer cells are kept and reported.
MAX_CELL_CHARS = 1000
#: A letter O (Latin or Cyrillic) typed next to a digit, as in "9O%".
_LETTER_IN_NUMBER = re.compile(r"(?<=\d)[OoОо]|[OoОо](?=\d)")

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9,
          "X": 10, "XI": 11, "XII": 12, "XIII": 13, "XIV": 14, "XV": 15}
_DOTTED = re.compile(r"^(\d{1,2})((?:\.\d{1,2})+)\.?$")
_INT = re.compile(r"^(\d{1,2})\.?$")
_LETTER = re.compile(r"^[a-zđ][).]?$")
_NAME_DOTTED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})+)\.?[\s:)–-]+(.*)$", re.S)
_NAME_CRITERION = re.compile(
    r"^(?:tiêu chí|tc)\s*(?:số\s*)?(\d{1,2}|[IVX]{1,4})\s*[:.)–-]*\s*(.*)$", re.I | re.S)
_NAME_INT = re.compile(r"^(\d{1,2}|[IVX]{1,4})[.)]\s+(.*)$", re.S)
_COLUMN_NUMBER = re.compile(r"^\(?\s*(\d{1,2}|[A-Za-z])\s*\)?$")
# (folded: "NĂM 2021-2025" is "nam 2021 2025", a period, not the year 2021)
_YEAR_WORD = re.compile(r"\bnam\s+(19\d\d|20\d\d)\b(?!\s+(?:19|20)\d\d\b)")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_UNIT = re.compile(
    r"(?<![\w])(?<!các )(?<!những )(?<!mỗi )(?<!nông )(?<!nong )"
    # "TỈNH SÓC TRĂNG", "HUYỆN SÓC SƠN", "THÀNH PHỐ BUÔN MA THUỘT" name no hamlet
    r"(?<!tỉnh )(?<!huyện )(?<!phố )(?<!tp\. )(?<!tp )"
    # the commune words, the hamlet words of every region (``text.HAMLET_WORDS``), town ones
    rf"(xã|phường|thị trấn|{'|'.join(HAMLET_WORDS)}|tổ dân phố|khu dân cư|tdp)\s+"
    r"([^\-–,;:()\[\]\n/]+)",
    re.I,
)
#: A commune or hamlet word inside a matched name: "XÓM PHAI ĐÁ XÃ KIM PHƯỢNG" names two units
#: ("Bản", "Làng" start hamlet names, and "thôn" of "nông thôn" is no unit).
_INNER_UNIT = re.compile(r"\s(?<!nông\s)(?<!nong\s)(?:xã|xóm|thôn|phường|thị trấn)(?=\s+\w)",
                         re.I)
_UNIT_STOP = re.compile(
    r"\s+(?:năm|huyện|tỉnh|thành phố|tp\.?|giai đoạn|đạt|theo|của|thuộc|đến|tính đến"
    r"|xây dựng)\b.*$",
    re.I,
)
_NOT_A_NAME = ("nong thon moi", "ntm", "kieu mau", "thong minh", "dat chuan", "nang cao",
               "tieu chi", "chi tieu", "nong thon", "da ", "hoan thanh",
               # "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "các xóm trên địa bàn xã"
               "hoi ", "tren dia ban", "trong ", "tren ", "cua ", "thuoc ", "va ")
_NOT_A_NAME_EXACT = {"hoi", "nay", "do", "tren", "trong", "khac"}
_COMMUNE_WORDS = {"xa", "phuong", "thi tran"}
#: Unit-type words that also start hamlet names ("Bản Lác", "Làng Mới").
_NAME_START_WORDS = {"ban", "lang"}
#: A title naming the advanced NTM criteria ("XÃ NÔNG THÔN MỚI NÂNG CAO"), folded.
_ADVANCED_SET = re.compile(r"\b(?:nong thon moi|ntm) nang cao\b")
_GENERIC_SHEETS = re.compile(r"^(sheet|trang|bieu|phu bieu|pb|pl|phu luc|tong hop|th)\s*\d*\b")
_BUDGET_WORDS = ("kinh phi", "nguon von", "tong muc", "ngan sach", "du toan", "von dau tu")
_INCOME_WORDS = ("thu nhap binh quan", "thu nhap")


@dataclass
class LoadResult:
    """What loading produced: the tidy ``indicators`` table and the ``issues`` table."""

    indicators: pd.DataFrame
    issues: pd.DataFrame

    @property
    def errors(self) -> pd.DataFrame:
        return self.issues[self.issues[Iss.severity] == Severity.error].reset_index(drop=True)

    def raise_for_errors(self) -> LoadResult:
        """Return ``self``, or raise ``ValidationError`` carrying every issue if any is an error."""
        if len(self.errors):
            raise ValidationError(self.issues)
        return self


# --------------------------------------------------------------------------- header words


@lru_cache(maxsize=1)
def header_roles() -> dict[str, str]:
    """Return the mapping folded header text → role, from ``data/header_words.csv``."""
    with resources.files("ntm_analysis").joinpath("data", "header_words.csv").open(
        "r", encoding="utf-8"
    ) as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return {fold(h): r for h, r in zip(table["header"], table["role"], strict=True)}


@lru_cache(maxsize=1)
def _longest_header() -> int:
    """The most words a header phrase of ``header_roles`` has."""
    return max((len(k.split()) for k in header_roles()), default=0)


@lru_cache(maxsize=1)
def _footer_table() -> pd.DataFrame:
    with resources.files("ntm_analysis").joinpath("data", "footer_words.csv").open(
        "r", encoding="utf-8"
    ) as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def _footer_starts() -> tuple[str, ...]:
    return tuple(nfc(s).lower() for s in _footer_table()["start"])


@lru_cache(maxsize=1)
def _summary_starts() -> tuple[str, ...]:
    """The starts of a summary row below the table ("Tổng số chỉ tiêu đạt | 22/31"): a footer
    even with figures in the data columns, when it has no indicator number."""
    table = _footer_table()
    return tuple(nfc(s).lower() for s in table.loc[table["meaning"] == "summary", "start"])


def _is_footer(leads: Iterable[str], has_data: bool, data: tuple[str, ...], numbered: bool,
               name_kind: str) -> bool:
    """Whether a row is a footer below the table: a lead text of it (its first text; beside
    merged cells, also its own first) starts like a note, signature or summary
    (``footer_words.csv``), and it holds no data; or, with no indicator number, its data cells
    hold nothing but a footer's words (a signature block puts "TM. ỦY BAN NHÂN DÂN" under the
    results), or it is a summary ("Tổng số chỉ tiêu đạt | 22/31")."""
    starts = _footer_starts()
    for lead in leads:
        lead = lead.lower()
        if not lead.startswith(starts):
            continue
        if not has_data:
            return True
        if numbered:
            return False
        if all(not t or t.lower().startswith(starts) for t in data) or (
                lead.startswith(_summary_starts()) and name_kind == "none"):
            return True
    return False


_STRIP_TAIL = re.compile(r"\s*(\(.*\)|năm\s+\d{4}.*|đến\s+.*|tại\s+.*)$", re.I)


def role_of(text: str) -> str | None:
    """Return the role of a header cell ("number", "name", "result"...), or ``None``.

    Examples
    --------
    >>> role_of("Tự đánh giá"), role_of("STT"), role_of("Hiện trạng năm 2023")
    ('assessment', 'number', 'result')
    >>> role_of("Xóm Cạm Phước") is None
    True
    """
    if not text:
        return None
    return _role_of(text)


#: A header offering the two assessments ("Kết quả (Đạt/Chưa đạt)", "Đạt/Chưa đạt"): the
#: self-assessment column, whatever word comes before.
_ASSESSMENT_CHOICE = re.compile(r"\bdat (?:hoac |hay )?(?:chua|khong) dat\b")


@lru_cache(maxsize=1 << 14)
def _role_of(text: str) -> str | None:
    roles = header_roles()
    key = fold(text)
    if key in roles:
        return roles[key]
    if _ASSESSMENT_CHOICE.search(key) and len(key.split()) <= 6:  # (not a long title)
        return "assessment"
    stripped = fold(_STRIP_TAIL.sub("", nfc(text)))
    if stripped in roles:
        return roles[stripped]
    # "Hiện trạng 2023", "Đánh giá (Đạt/Chưa đạt)"
    words = key.split()
    # no head longer than the longest header phrase can be one (titles are long)
    for n in range(min(len(words) - 1, _longest_header()), 0, -1):
        head = " ".join(words[:n])
        if head not in roles:
            continue
        rest = words[n]
        if re.fullmatch(r"\d{1,2}|[ivx]{1,4}", rest):
            return None  # "Tiêu chí 1: Quy hoạch" is a criterion row, not a header
        if n >= 2 or re.fullmatch(r"(19|20)\d\d", rest):
            return roles[head]  # "Hiện trạng năm 2023", "Hiện trạng 2023"
    return None


def unit_names(text: str) -> list[tuple[str, str]]:
    """Find unit names in a title: a list of (prefix word, name) like ("Xóm", "Phai Đá").

    Examples
    --------
    >>> unit_names("XÓM PHAI ĐÁ - XÃ KIM PHƯỢNG")
    [('Xóm', 'Phai Đá'), ('Xã', 'Kim Phượng')]
    >>> unit_names("KẾT QUẢ RÀ SOÁT XÃ NÔNG THÔN MỚI KIỂU MẪU NĂM 2024")
    []
    >>> unit_names("TIÊU CHÍ XÃ NTM KIỂU MẪU CỦA XÃ KIM PHƯỢNG")
    [('Xã', 'Kim Phượng')]
    >>> unit_names("XÓM PHAI ĐÁ XÃ KIM PHƯỢNG")
    [('Xóm', 'Phai Đá'), ('Xã', 'Kim Phượng')]
    """
    return list(_unit_names(text))


@lru_cache(maxsize=1 << 14)  # pure; header cells and sheet names repeat across sheets
def _unit_names(text: str) -> tuple[tuple[str, str], ...]:
    lines = text.splitlines()
    if len(lines) == 1:
        return _line_unit_names(lines[0])
    # line by line: a title's lines repeat across sheets where the whole title does not
    return tuple(chain.from_iterable(map(_line_unit_names, lines)))


@lru_cache(maxsize=1 << 14)
def _line_unit_names(line: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    line = nfc(line)
    pos = 0
    while (match := _UNIT.search(line, pos)) is not None:
        prefix, name = match.group(1), match.group(2)
        # a second unit inside the name ends it, and is looked for next (the last one: "XÓM CỐC
        # PHƯỜNG XÃ KIM PHƯỢNG" is the hamlet Cốc Phường of the commune Kim Phượng)
        inner = next(reversed(list(_INNER_UNIT.finditer(name))), None)
        pos = match.start(2) + inner.start() + 1 if inner else match.end()
        if inner:
            name = name[:inner.start()]
        name = _UNIT_STOP.sub("", name).strip(" .")
        key = fold(name)
        if (not key or key.startswith(_NOT_A_NAME) or key in _NOT_A_NAME_EXACT
                or len(key.split()) > 5):
            # not a name ("XÃ NTM KIỂU MẪU XÃ KIM PHƯỢNG"): a unit may follow inside it
            pos = match.start(2)
            continue
        if name.isupper() or name.islower():
            name = name.title()
        out.append((prefix[:1].upper() + prefix[1:].lower(), name))
    return tuple(out)


def canonical_unit(label: str) -> tuple[str, str]:
    """Return a unit label in the suite's convention, with its level.

    Communes are named without their prefix ("Kim Phượng"), hamlets with it ("Xóm Ao Sen"), as
    in the indicator table; a label without a prefix is taken for a commune.

    Examples
    --------
    >>> canonical_unit("XÃ KIM PHƯỢNG"), canonical_unit("Xóm Ao Sen"), canonical_unit("Kim Phượng")
    (('Kim Phượng', 'commune'), ('Xóm Ao Sen', 'hamlet'), ('Kim Phượng', 'commune'))
    """
    found = unit_names(label)
    if not found:
        return nfc(label), Level.commune
    prefix, name = found[0]
    level = Level.commune if fold(prefix) in _COMMUNE_WORDS else Level.hamlet
    return _display(prefix, name, level), level


def warm_package_tables() -> None:
    """Read the package tables every workbook needs (header words, footers, catalogue) now.

    They are cached per process; calling this before forking worker processes lets every
    worker inherit them instead of reading the CSV files again.
    """
    header_roles()
    _longest_header()
    _footer_starts()
    _summary_starts()
    cat.load_catalogue()
    cat.criteria_sets()


# --------------------------------------------------------------------------- sheet reading


@dataclass
class _UnitColumns:
    label: str | None
    result: int | None = None
    assessment: int | None = None
    mark_met: int | None = None
    mark_not_met: int | None = None
    #: The year a group heading above these columns names ("Kết quả năm 2024"): the sheet's
    #: unit in that year, beside its other years' groups.
    year: int | None = None


#: A header counting indicators or criteria ("Số chỉ tiêu đạt", "Tổng số chỉ tiêu"), folded:
#: a table summing up the criteria.
_COUNT_HEADER = re.compile(r"^(?:tong )?so (?:chi tieu|tieu chi)\b")
#: A column of the district's verification (thẩm tra, thẩm định, kiểm tra), folded.
_VERIFICATION = re.compile(r"\b(?:tham tra|tham dinh|kiem tra)\b")


@dataclass
class _Layout:
    header_rows: list[int]
    first_data_row: int
    number: int | None
    criterion: int | None
    name: int
    target: int | None
    note: int | None
    value_unit: int | None
    units: list[_UnitColumns]
    header_text: dict[int, str] = field(default_factory=dict)
    #: result or assessment columns beside the unit's own that the table does not read (a
    #: second "Hiện trạng" column, say): each holding data is an issue (``_check_dropped``)
    dropped: list[tuple[int, str]] = field(default_factory=list)
    #: row getters derived from the layout, made once (``_row_getters``, ``_unit_getter``)
    getters: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class _Record:
    row: int  # 0-based
    kind: str  # "criterion" | "indicator"
    number: str | None
    name: str
    criterion_text: str | None
    has_data: bool
    no_kind: str


class _LazyRows:
    """``rows[r]`` computed on first use (the header is usually found in the first rows)."""

    def __init__(self, compute: Any, limit: int) -> None:
        self._compute = compute
        self._limit = limit
        self._done: dict[int, dict[int, str]] = {}

    def __getitem__(self, r: int) -> dict[int, str]:
        if not 0 <= r < self._limit:
            raise IndexError(r)
        if r not in self._done:
            self._done[r] = self._compute(r)
        return self._done[r]


def year_in(text: str) -> int | None:
    """The first year (1950–2099) ``text`` names, as digits standing alone, or None.

    The loader takes a sheet's year from its title, its sheet name or its file name, in that
    order (``_SheetLoader.find_year``), so a file name's year is the default of every sheet.

    Examples
    --------
    >>> year_in("kim_phuong_2024.xlsx"), year_in("phu_bieu_12.xlsx")
    (2024, None)
    >>> year_in("XÃ NTM KIỂU MẪU GIAI ĐOẠN 2021-2025") is None  # a period names no one year
    True
    """
    m = _YEAR.search(without_periods(text))
    return int(m.group(1)) if m else None


class _SheetLoader:
    """Turns one sheet grid into tidy rows and issues."""

    def __init__(self, grid: SheetGrid, file_name: str, default_year: int | None,
                 scan: _SheetScan | None = None) -> None:
        self.grid = grid
        self.file = file_name
        self.default_year = default_year
        self.rows: list[tuple[Any, ...]] = []  # in the order of _ROW_COLUMNS
        #: per unit whose rows were appended: its (commune, unit, year, set), and whether its
        #: indicator numbers are distinct (see ``_distinct_keys``)
        self.blocks: list[tuple[tuple[Any, ...], bool]] = []
        self.issues: list[dict[str, Any]] = []
        self.percent_written = 0  # result cells written with "%" in percentage rows
        self.layout: _Layout | None = None
        self.n_cols = grid.n_cols
        n_cols = self.n_cols
        # the grid's rows as they are (calamine's rows are all as wide as the sheet), never
        # changed: narrower rows are padded, and rows with merged cells to fill in copied
        if min(map(len, grid.rows), default=0) == n_cols:
            self.cells = list(grid.rows)
        else:
            self.cells = [r if len(r) == n_cols else [*r, *[""] * (n_cols - len(r))]
                          for r in grid.rows]
        cells = self.cells
        self.filled_from: dict[tuple[int, int], tuple[int, int]] = {}
        #: the columns filled in from a merged range, by row (most rows have none)
        self.filled_cols: dict[int, set[int]] = {}
        copied: set[int] = set()
        filled_from, filled_cols = self.filled_from, self.filled_cols
        for (r0, c0), (r1, c1) in grid.merged:
            if r0 >= len(cells):
                continue
            value = cells[r0][c0] if c0 < n_cols else ""
            origin = (r0, c0)
            cols = range(c0, min(c1, n_cols - 1) + 1)
            for r in range(r0, min(r1, len(cells) - 1) + 1):
                if r not in copied:
                    cells[r] = list(cells[r])
                    copied.add(r)
                row = cells[r]
                for c in cols:
                    if r != r0 or c != c0:
                        row[c] = value
                        filled_from[(r, c)] = origin
                        filled_cols.setdefault(r, set()).add(c)
        # each cell's text once: the layout search and row classification read cells many times
        if scan is None:  # the grid's values not judged (see _scan_sheet)
            self.texts = [cell_texts(row) for row in self.cells]
            self.long_text = max(map(len, chain.from_iterable(self.texts)),
                                 default=0) > MAX_CELL_CHARS
        elif not scan.changed:  # the usual sheet: every cell holds its own text
            self.texts = self.cells  # (the cells are never changed once filled in above)
            self.long_text = scan.long_text
        else:  # rows holding a value whose text differs (a number, text not in NFC) converted
            changed = scan.changed.isdisjoint
            self.texts = [row if changed(row) else cell_texts(row) for row in self.cells]
            self.long_text = scan.long_text
        # every cell a text that is its own NFC text (the list comparison runs in C, and
        # mostly on identical objects): then a cell's text is its value, '' for empty
        self.all_text = self.texts is self.cells or self.texts == self.cells
        self._has_roles: dict[int, bool] = {}  # rows with header words (see _layout_key)

    # -- helpers -----------------------------------------------------------------------------

    def text(self, r: int, c: int | None) -> str:
        if c is None or r >= len(self.cells) or c >= self.n_cols:
            return ""
        return self.texts[r][c]

    def raw(self, r: int, c: int | None) -> Any:
        if c is None or r >= len(self.cells) or c >= self.n_cols:
            return None
        v = self.cells[r][c]
        if isinstance(v, str):
            return self.texts[r][c] or None  # the cell's NFC text, computed once
        return v

    def issue(self, row: int | None, column: str | None, value: object, problem: str,
              severity: str, code: str) -> None:
        self.issues.append({
            Iss.source_file: self.file, Iss.source_sheet: self.grid.name,
            Iss.source_row: None if row is None else row + 1, Iss.column: column,
            Iss.value: None if value is None or value == "" else str(value)[:200],
            Iss.problem: problem, Iss.severity: severity, Iss.code: code,
        })

    def row_roles(self, r: int) -> dict[int, str]:
        if r >= len(self.texts):
            return {}
        return {c: role for c, t in enumerate(self.texts[r]) if t and (role := _role_of(t))}

    def column_label(self, c: int) -> str:
        """Name a 0-based column by its header text, or by its letter outside a table."""
        if self.layout is not None and (t := self.layout.header_text.get(c)):
            return t
        return column_letters(c + 1)

    def find_partial_header(self) -> int | None:
        """Return the 0-based row of a header naming content and target but no result column."""
        for r in range(min(len(self.cells), HEADER_SEARCH_ROWS)):
            kinds = set(self.row_roles(r).values())
            if {"name", "criterion"} & kinds and {"number", "target"} & kinds:
                return r
        return None

    def check_extras(self, extras: SheetExtras | None) -> None:
        """Report what the cell values hide: hidden rows that hold data, stale formulas, Excel
        errors."""
        if extras is None:
            return
        hidden = [r for r in extras.hidden_rows if r - 1 < len(self.cells)
                  and any(self.text(r - 1, c) for c in range(self.n_cols))]
        if hidden:
            self.issue(hidden[0] - 1, None, None, sheetxml.hidden_rows_problem(hidden),
                       Severity.warning, "hidden_rows")
        self._check_hidden_columns(extras.hidden_columns)
        for row, col, formula in extras.stale_formulas:
            self.issue(row - 1, self.column_label(col - 1), formula,
                       sheetxml.stale_formula_problem(row, col), Severity.warning,
                       "formula_no_value")
        for row, col, error, formula in extras.error_cells:
            self.issue(row - 1, self.column_label(col - 1), error,
                       sheetxml.error_cell_problem(row, col, error, formula), Severity.warning,
                       "excel_error")

    def _check_dropped(self, layout: _Layout, rows_of: list[int]) -> None:
        """Warn of each result or assessment column the table does not read that holds data
        on indicator rows: a second "Hiện trạng" beside the first, say, whose values are lost."""
        unit = layout.units[0]
        for c, role in layout.dropped:
            rows = [r for r in rows_of if self.text(r, c)]
            if not rows:
                continue
            kept = self.column_label(getattr(unit, role) or 0)
            where = rows_phrase(rows)
            label = self.column_label(c)
            if _VERIFICATION.search(fold(label)):  # the district's columns, not the unit's
                self.issue(layout.header_rows[-1], label, None,
                           f"a verification column ('{label}') beside the unit's own "
                           f"('{kept}') holds data ({where}); the unit's own are read, the "
                           "verification is not", Severity.info, "extra_column_not_read")
            elif role == "result":  # values lost: a warning
                self.issue(layout.header_rows[-1], label, None,
                           f"a second result column beside '{kept}' holds data ({where}) and "
                           "was not read: expected one result column per unit, or a year in "
                           "each one's header ('Kết quả năm 2023' | 'Ước thực hiện năm 2024') "
                           "to read each as its year", Severity.warning,
                           "extra_column_not_read")
            else:  # "Đánh giá của huyện" beside the unit's own: said, not read
                self.issue(layout.header_rows[-1], label, None,
                           f"a second assessment column beside '{kept}' holds data ({where}); "
                           f"the self-assessment is read from '{kept}' alone", Severity.info,
                           "extra_column_not_read")

    def _check_criterion_rows(self, layout: _Layout, crit_data: dict[int, list[int]]) -> None:
        """A criterion row's own assessment ("1 | Giao thông | … | Đạt") is not read (the
        criterion's status comes from its indicators): where it disagrees with its indicators'
        self-assessments (says "Đạt" while one says "Chưa đạt", or "Chưa đạt" while all say
        "Đạt"), a warning names both, for each unit. ``crit_data``: each criterion row with
        data of its own → its indicator rows (``_walk``)."""
        for crit_row, rows in crit_data.items():
            for uc in layout.units:
                if uc.assessment is None:
                    continue
                said = parse_assessment(self.text(crit_row, uc.assessment))
                own = [parse_assessment(self.text(r, uc.assessment)) for r in rows]
                unmet = [r for r, a in zip(rows, own, strict=True) if a == "not_met"]
                if said == "met" and unmet:
                    why = (f"indicator row(s) {', '.join(str(r + 1) for r in unmet)} say "
                           "'Chưa đạt'")
                elif said == "not_met" and all(a == "met" for a in own):
                    why = f"all its {len(rows)} indicators say 'Đạt'" if len(rows) > 1 else \
                        "its one indicator says 'Đạt'"
                else:
                    continue
                self.issue(crit_row, self.column_label(uc.assessment),
                           self.text(crit_row, uc.assessment),
                           f"the criterion row says '{self.text(crit_row, uc.assessment)}' "
                           f"but {why}{f' ({uc.label})' if uc.label else ''}: the criterion's "
                           "status comes from its indicators, not from this row",
                           Severity.warning, "criterion_assessment_mismatch")

    @staticmethod
    def _read_columns(layout: _Layout) -> set[int | None]:
        """The columns (0-based) a layout reads."""
        read = {layout.number, layout.criterion, layout.name, layout.target, layout.value_unit,
                layout.note}
        for uc in layout.units:
            read |= {uc.result, uc.assessment, uc.mark_met, uc.mark_not_met}
        return read

    def _check_unread(self, layout: _Layout, rows_of: list[int]) -> None:
        """Name each column that holds data on indicator rows but is none of the table's
        columns ("Kết quả thẩm tra", the district's verification, beside the self-assessment;
        a helper column without a header): said (``info``), not read."""
        unread = layout.getters.get(("unread", self.n_cols))
        if unread is None:  # (a layout's sheets share it: asked once)
            skip = self._read_columns(layout) | {c for c, _ in layout.dropped}
            unread = layout.getters[("unread", self.n_cols)] = [
                c for c in range(self.n_cols) if c not in skip]
        for c in unread:
            rows = [r for r in rows_of if self.text(r, c) and (r, c) not in self.filled_from]
            if not rows:
                continue
            where = rows_phrase(rows)
            label = layout.header_text.get(c)
            named = f"column '{label}'" if label else f"column {column_letters(c + 1)} (no header)"
            self.issue(layout.header_rows[-1], self.column_label(c), None,
                       f"{named} holds data on indicator rows ({where}) and is none of the "
                       "table's columns (number, name, target, unit, result, assessment, "
                       "note): not read", Severity.info, "column_not_read")

    def _check_hidden_columns(self, hidden: list[int]) -> None:
        """Warn of hidden columns (1-based) the table reads that hold data below its header:
        a result or assessment column hidden in Excel is read all the same."""
        layout = self.layout
        if not hidden or layout is None:
            return
        read = self._read_columns(layout)
        first = layout.first_data_row
        shown = [c for c in sorted(set(hidden)) if c - 1 in read and any(
            self.text(r, c - 1) for r in range(first, len(self.cells)))]
        if shown:
            labels = ", ".join(f"{column_letters(c)} ('{self.column_label(c - 1)}')"
                               for c in shown)
            self.issue(layout.header_rows[-1], None, None,
                       f"{len(shown)} hidden column(s) of the table hold data and were read: "
                       f"{labels} (expected visible columns; unhide them in Excel to check)",
                       Severity.warning, "hidden_columns")

    def check_cells(self, layout: _Layout, records: list[_Record]) -> None:
        """Report data cells that are suspiciously long and merges across data rows."""
        # whether any text of the sheet is long first (see _scan_sheet): most sheets have none
        for rec in records if self.long_text else ():
            texts = self.texts[rec.row]
            if max(map(len, texts), default=0) <= MAX_CELL_CHARS:
                continue  # the common case, tested in C
            for c, t in enumerate(texts):
                n = len(t)
                if n > MAX_CELL_CHARS and (rec.row, c) not in self.filled_from:
                    self.issue(rec.row, self.column_label(c), None,
                               f"cell {column_letters(c + 1)}{rec.row + 1} holds {n:,} "
                               f"characters: expected at most {MAX_CELL_CHARS:,} in a table "
                               "cell (pasted text?); kept in full", Severity.warning,
                               "long_cell")
        data_cols = {c for u in layout.units for c in
                     (u.result, u.assessment, u.mark_met, u.mark_not_met) if c is not None}
        for (r0, c0), (r1, c1) in sorted(self.grid.merged):
            if r1 <= r0 or r0 < layout.first_data_row or not data_cols & set(range(c0, c1 + 1)):
                continue
            ref = f"{column_letters(c0 + 1)}{r0 + 1}:{column_letters(c1 + 1)}{r1 + 1}"
            self.issue(r0, self.column_label(c0), self.text(r0, c0),
                       f"merged cell {ref} spans data rows {r0 + 1}–{r1 + 1}: expected one "
                       f"value per row; its value was read for each of the {r1 - r0 + 1} rows",
                       Severity.warning, "merged_data")

    # -- layout ------------------------------------------------------------------------------

    def find_layout(self) -> _Layout | None:
        """Find the table's header and columns, or None when the sheet has no table.

        Sheets made from one template share their header, so a layout found once is
        remembered (per process) by what decided it (``_layout_key``). A layout is never
        changed once built, so sheets can share it.
        """
        # a table stacked below another (``_stacked_tables``) has blank rows above its title
        top = next((r for r, texts in enumerate(self.texts) if any(texts)), 0)
        limit = min(len(self.cells), top + HEADER_SEARCH_ROWS)
        shape = (self.n_cols, limit)
        for header_end, end in _LAYOUT_ENDS.get(shape, ()):
            if (layout := _LAYOUTS.get(self._layout_key(shape, header_end, end))) is not None:
                return layout
        layout = self._find_layout(limit)
        if layout is not None:
            spans = (layout.header_rows[-1], layout.first_data_row)
            if len(_LAYOUTS) >= _LAYOUTS_MAX:
                _LAYOUTS.clear()
                _LAYOUT_ENDS.clear()
            _LAYOUTS[self._layout_key(shape, *spans)] = layout
            ends = _LAYOUT_ENDS.setdefault(shape, [])
            if spans not in ends:
                ends.append(spans)
        return layout

    def _layout_key(self, shape: tuple[int, int], header_end: int, end: int) -> tuple[Any, ...]:
        """What ``_find_layout`` read, when its header ends at ``header_end`` and data starts
        at ``end``: the sheet's width and rows searched, the texts of each row down to
        ``end`` (no row below is read) except that a row above the header's end without
        header words counts only as such (the search skips it unread: titles naming the
        unit), and the merged-cell fillings of those rows.
        """
        texts = self.texts
        has_roles = self._has_roles
        rows: list[tuple[str, ...] | None] = []
        for r in range(min(end + 1, len(texts))):
            if r <= header_end:
                roles = has_roles.get(r)
                if roles is None:
                    # bool(self.row_roles(r)), in C: the cached role of each text
                    roles = has_roles[r] = any(map(_role_of, filter(None, texts[r])))
                if not roles:
                    rows.append(None)
                    continue
            rows.append(tuple(texts[r]))
        # sorted(item for item in self.filled_from.items() if item[0][0] <= end), visiting
        # only the rows down to ``end`` (merged criterion cells fill many rows below)
        filled_from, filled_cols = self.filled_from, self.filled_cols
        filled = [((r, c), filled_from[(r, c)]) for r in sorted(filled_cols) if r <= end
                  for c in sorted(filled_cols[r])]
        return (shape, header_end, end, len(self.cells) if end >= len(self.cells) else -1,
                tuple(rows), tuple(filled))

    def _find_layout(self, limit: int) -> _Layout | None:
        roles = _LazyRows(self.row_roles, limit)
        for h in range(limit):
            if not roles[h]:
                continue  # a header starts on a row of header words, not on a blank row
            if self._is_title_row(h):
                continue  # "KẾT QUẢ THỰC HIỆN TIÊU CHÍ … XÃ KIM PHƯỢNG": header words, a title
            block = [h]
            for nxt in (h + 1, h + 2):
                if nxt < limit and self._continues_header(nxt, block, roles[nxt]):
                    block.append(nxt)
                else:
                    break
            merged_roles: dict[int, str] = {}
            groups: list[int] = []
            for r in block:
                for c, role in roles[r].items():
                    if role != "group":
                        merged_roles[c] = role
                    else:
                        groups.append(c)
            # "Kết quả rà soát" heads a group of columns, or is itself the result column when
            # nothing below it says "Hiện trạng" and the table has no other result column
            if "result" not in merged_roles.values():
                for c in groups:
                    if c not in merged_roles:
                        merged_roles[c] = "result"
                        break
            kinds = set(merged_roles.values())
            if not ({"name", "criterion"} & kinds and set(UNIT_ROLES) & kinds):
                continue
            return self._build_layout(block, merged_roles, roles)
        return None

    def _is_title_row(self, r: int) -> bool:
        """A row of one text of many words: a title, whatever header words it starts with."""
        texts = [t for t in self.texts[r] if t]
        return len(texts) == 1 and len(texts[0].split()) >= TITLE_WORDS

    def _continues_header(self, r: int, block: list[int], roles: dict[int, str]) -> bool:
        """True when row ``r`` is a further header row (sub-header) of the header ``block``."""
        if not roles:
            return False
        for c in range(self.n_cols):
            t = self.text(r, c)
            if not t:
                continue
            origin = self.filled_from.get((r, c))
            if origin is not None and origin[0] in block:
                continue
            if c in roles or unit_names(t) or t == self.text(block[-1], c):
                continue
            return False
        return True

    def _build_layout(self, block: list[int], col_roles: dict[int, str],
                      roles: _LazyRows) -> _Layout | None:
        def first(role: str) -> int | None:
            return min((c for c, r in col_roles.items() if r == role), default=None)

        name = first("name")
        criterion = first("criterion")
        targets = sorted(c for c, r in col_roles.items() if r == "target")
        if name is None and len(targets) > 1:
            # "Tiêu chí | Chỉ tiêu | Yêu cầu đạt chuẩn": the first "Chỉ tiêu" names indicators
            name = targets[0]
            col_roles = {**col_roles, name: "name"}
        if name is None:
            name, criterion = criterion, None
        assert name is not None
        if criterion is not None and criterion == name:
            criterion = None
        # group labels: non-role header text above a unit column
        units: list[_UnitColumns] = []
        dropped: list[tuple[int, str]] = []
        by_label: dict[str | None, _UnitColumns] = {}
        for c in sorted(col_roles):
            role = col_roles[c]
            if role not in UNIT_ROLES:
                continue
            label = None
            for r in block:
                t = self.text(r, c)
                if t and c not in roles[r] and unit_names(t):
                    label = t
                elif (t and c not in roles[r] and not role_of(t) and len(block) > 1
                      and r != block[-1]):
                    label = label or t
            uc = by_label.get(label)
            if uc is None or getattr(uc, role) is not None:
                uc = _UnitColumns(label)
                by_label[label] = uc
                units.append(uc)
            setattr(uc, role, c)
        labelled = [u for u in units if u.label]
        # "Kết quả năm 2023" | "Kết quả năm 2024" over (result, assessment) pairs: one unit's
        # years side by side, each group read as its year (not the first group alone)
        # (the year may head a group, or stand in the columns' own header: "Kết quả năm 2023 |
        # Ước thực hiện năm 2024 | Tự đánh giá")
        years = []
        for u in units:
            cols = [c for c in (getattr(u, role) for role in UNIT_ROLES) if c is not None]
            found = {y for r in block for c in cols if (y := year_in(self.text(r, c)))}
            years.append(found.pop() if len(found) == 1 else None)
        if len(units) > 1 and not labelled and None not in years and len(set(years)) == len(units):
            for u, year in zip(units, years, strict=True):
                u.year = year  # one unit, a group of columns per year
        elif len({u.label for u in labelled}) < 2:
            # one unit: group labels such as "Kết quả rà soát" are not unit names
            for u in units:
                if u.label and not unit_names(u.label):
                    u.label = None
            merged = _UnitColumns(None)
            extra: list[tuple[int, str]] = []

            def verification(u: _UnitColumns) -> bool:  # the district's, read last
                cols = [c for role in UNIT_ROLES if (c := getattr(u, role)) is not None]
                return any(_VERIFICATION.search(fold(self.text(r, c))) for r in block
                           for c in cols)

            for u in sorted(units, key=verification):
                for role in UNIT_ROLES:
                    if (c := getattr(u, role)) is None:
                        continue
                    if getattr(merged, role) is None:
                        setattr(merged, role, c)
                    else:
                        extra.append((c, role))
            if merged.assessment is None and merged.result is not None:
                # "Hiện trạng | Kết quả": a bare "Kết quả" after the result column, with no
                # assessment column, is the assessment
                after = [(c, r) for c, r in extra if r == "result" and c > merged.result
                         and fold(self.text(block[-1], c)) == "ket qua"]
                if after:
                    merged.assessment = after[0][0]
                    extra.remove(after[0])
            if not labelled or len({u.label for u in units}) <= 1:
                units, dropped = [merged], extra
        first_data = block[-1] + 1
        while first_data < len(self.cells) and self._is_column_number_row(first_data):
            first_data += 1
        header_text = {c: " / ".join(dict.fromkeys(t for r in block if (t := self.text(r, c))))
                       for c in range(self.n_cols)}
        return _Layout(
            header_rows=block, first_data_row=first_data, number=first("number"),
            criterion=criterion, name=name, target=first("target"), note=first("note"),
            value_unit=first("value_unit"), units=units, header_text=header_text,
            dropped=sorted(dropped),
        )

    def _is_column_number_row(self, r: int) -> bool:
        texts = [t for c in range(self.n_cols) if (t := self.text(r, c))]
        if len(texts) < 2 or not all(_COLUMN_NUMBER.match(t) for t in texts):
            return False
        digits = [int(m.group(1)) for t in texts if (m := _COLUMN_NUMBER.match(t))
                  and m.group(1).isdigit()]
        return len(digits) < 2 or digits == sorted(digits) and len(set(digits)) == len(digits)

    # -- title metadata -----------------------------------------------------------------------

    def title_parts(self, layout: _Layout | None) -> list[str]:
        """The texts above the header (above row 9 without one), row by row, each merged
        range once: ``"\\n".join`` of them is the sheet's title."""
        end = layout.header_rows[0] if layout else min(len(self.cells), 8)
        parts: list[str] = []
        for r in range(end):
            texts = self.texts[r]  # padded to n_cols
            filled = self.filled_cols.get(r)
            if filled is None:
                parts.extend(filter(None, texts))
            else:
                parts.extend(t for c, t in enumerate(texts) if t and c not in filled)
        return parts

    def title_text(self, layout: _Layout | None) -> str:
        return "\n".join(self.title_parts(layout))

    def find_year(self, title: str, title_key: str | None = None) -> int | None:
        """The year the title or sheet name names (else the file name), or the default.

        ``title_key`` is ``fold(title)`` when the caller has it.
        """
        for source, key in ((title, title_key), (self.grid.name, None)):
            if key is None:
                key = fold(source)
            if m := _YEAR_WORD.search(key):
                return int(m.group(1))
        for source in (title, self.grid.name, self.file):
            if (found := year_in(source)) is not None:
                return found
        return self.default_year

    # -- rows ---------------------------------------------------------------------------------

    def _classified(self, layout: _Layout) -> _Classified:
        """``classify`` and ``_walk`` of the sheet, remembered by its layout and what decided them.

        Sheets of one template repeat their numbers, names and criteria and differ in their
        figures: what the two read of a row is its texts outside the data columns (result,
        assessment, marks, target), whether a data cell is filled in, and, on a row with a
        merged-cell filling, whether a data cell of its own is; plus the sheet's height and
        merged ranges. The texts of footer rows are read again from the sheet (``_footers``).
        """
        data_cols, data_of, pick = self._row_getters(layout)
        first = layout.first_data_row
        texts = self.texts
        rows = texts[first:]
        datas = map(any, map(data_of, rows)) if data_cols else [False] * len(rows)
        own_data = tuple(any(texts[r][c] for c in data_cols if c not in cols)
                         for r, cols in sorted(self.filled_cols.items()) if r >= first)
        # the layout by identity: an answer keeps its layout alive, so its id is not reused
        key = (id(layout), len(texts), tuple(self.grid.merged), tuple(datas),
               tuple(map(pick, rows)), own_data)
        got = _CLASSIFIED.get(key)
        if got is None:
            records, footers = self.classify(layout)
            indicators, issues, crit_data = _walk(layout, records)
            if len(_CLASSIFIED) >= _CLASSIFIED_MAX:
                _CLASSIFIED.clear()
            got = _CLASSIFIED[key] = (layout, (records, footers, indicators, issues,
                                               [t[0].row for t in indicators], crit_data))
        return got[1]

    def _row_getters(self, layout: _Layout) -> tuple[list[int], Any, Any]:
        """The data columns of the layout (``_data_columns``), a getter of a row's data cells
        (a tuple) and one of its other cells and its number, name and criterion cells (a
        tuple, or the text of the one cell)."""
        got = layout.getters.get("rows")  # a layout's sheets share its width (see find_layout)
        if got is None:
            n_cols = self.n_cols
            data_cols = _data_columns(layout, n_cols)
            key_cols = sorted(set(range(n_cols)).difference(data_cols).union(
                c for c in (layout.number, layout.name, layout.criterion)
                if c is not None and c < n_cols))
            got = layout.getters["rows"] = (
                data_cols, itemgetter(*data_cols, *data_cols) if data_cols else _no_cells,
                itemgetter(*key_cols) if key_cols else _no_cells)
        return got

    def _footers(self, footers: list[tuple[int, set[int] | None]]) -> None:
        """Report the rows ``classify`` found below the table, with their texts."""
        for r, filled in footers:
            texts = self.texts[r]
            own = texts if filled is None else [t for c, t in enumerate(texts) if c not in filled]
            shown = joined(own, FOOTER_CHARS)
            if not shown:
                continue
            self.issue(r, None, shown, "row below the table (note, signature or summary) was "
                       "not read as data", Severity.info, "footer_row")

    def classify(self, layout: _Layout) -> tuple[list[_Record], list[tuple[int, set[int] | None]]]:
        """Read the rows below the header: their records, and the rows below the table (row,
        columns filled in) for ``_footers``."""
        # one tuple per candidate row: (row, no_text, no_kind, no_val, name, name_kind,
        # name_no, name_clean, crit_text, has_data)
        raw: list[tuple[Any, ...]] = []
        footers: list[tuple[int, set[int] | None]] = []
        footer = False
        n_cols = self.n_cols
        # the data cells of a row in one C call (a tuple, also for a single column)
        data_cols, data_of, _ = self._row_getters(layout)
        # merged-cell fillings per row: most rows have none, and then every text is the row's own
        filled_cols = self.filled_cols

        def column(c: int | None) -> int | None:
            return c if c is not None and c < n_cols else None

        number_col, name_col = column(layout.number), column(layout.name)
        crit_col = column(layout.criterion)
        by_criterion = layout.criterion is not None
        number_merged = layout.number is not None and by_criterion
        first = layout.first_data_row
        rows = self.texts[first:]  # padded to n_cols: the same as text(r, c) for each column
        n = len(rows)
        # what the loop asks of every row, found column by column in C (the answers of the
        # cached parsers are pure, so asking them for a row the loop then skips changes nothing)
        nonblank = list(map(any, rows))
        datas = list(map(any, map(data_of, rows))) if data_cols else [False] * n
        no_texts = list(map(itemgetter(number_col), rows)) if number_col is not None \
            else [""] * n
        no_kinds = list(map(_number_kind, no_texts))
        names = list(map(itemgetter(name_col), rows)) if name_col is not None else [""] * n
        name_numbers = list(map(_name_number, names))
        if not by_criterion:
            crits: list[str | None] = [None] * n
        elif crit_col is not None:
            crits = list(map(itemgetter(crit_col), rows))
        else:
            crits = [""] * n
        for i in range(n):
            if not nonblank[i]:
                continue
            r = first + i
            texts = rows[i]
            has_data = datas[i]
            filled = filled_cols.get(r) if filled_cols else None
            if filled is None:  # every text is the row's own
                # (a numbered row with data, most rows, is no footer: decided here, in C)
                if footer or ((not has_data or not no_texts[i]) and _is_footer(
                        (next(filter(None, texts)),), has_data, data_of(texts), False,
                        name_numbers[i][0])):
                    footer = True
                    footers.append((r, None))
                    continue
                no_text = no_texts[i]
                no_kind, no_val = no_kinds[i]
            else:
                own = [t for c, t in enumerate(texts) if t and c not in filled]
                first_text = next(t for t in texts if t)
                if footer or _is_footer((first_text, *own[:1]), has_data, data_of(texts),
                                        bool(no_texts[i]), name_numbers[i][0]):
                    footer = True
                    footers.append((r, filled))
                    continue
                if not own:
                    continue  # a row made only of merged cells continuing from above
                no_text = no_texts[i]
                if number_merged and layout.number in filled:
                    no_text = ""  # vertically merged criterion number beside its indicators
                    no_kind, no_val = _number_kind(no_text)
                else:
                    no_kind, no_val = no_kinds[i]
            name = names[i]
            if not name and no_kind == "other":
                # a criterion written across the row from the number column ("Tiêu chí 1: …")
                name, no_text, no_kind, no_val = no_text, "", "none", None
                numbered = _name_number(name)
            else:
                numbered = name_numbers[i]
            raw.append((r, no_text, no_kind, no_val, name, *numbered, crits[i], has_data))
        # which kinds of numbering the table uses, from the distinct kinds (gathered in C)
        used_kinds = set(map(itemgetter(2), raw)) | set(map(itemgetter(5), raw))
        has_roman = "roman" in used_kinds
        has_dotted = "dotted" in used_kinds
        with_data = set(map(itemgetter(2, 5), compress(raw, map(itemgetter(9), raw))))
        has_unnumbered_data = any(no_kind in ("none", "letter", "bullet") and name_kind in (
            "none", "int") for no_kind, name_kind in with_data)
        records: list[_Record] = []
        for (r, _, no_kind, no_val, x_name, name_kind, name_no, name_clean, crit_text,
             has_data) in raw:
            kind, number, name = "indicator", None, name_clean
            if by_criterion:
                if no_kind == "dotted":
                    number = no_val
                elif name_kind == "dotted":
                    number = name_no
                if not x_name and not has_data:
                    kind = "criterion"
                    number, name = None, crit_text or ""
            elif name_kind == "criterion" or "roman" in (no_kind, name_kind):
                kind = "criterion"
                number = no_val if no_kind == "roman" else name_no
            elif no_kind == "dotted" or name_kind == "dotted":
                number = no_val if no_kind == "dotted" else name_no
            elif no_kind == "int":
                if has_roman:
                    number = None  # ordinal under a roman-numbered criterion
                elif has_dotted or has_unnumbered_data or not has_data:
                    kind, number = "criterion", no_val
            elif name_kind == "int" and (has_dotted or has_unnumbered_data or not has_data):
                kind, number = "criterion", name_no
            records.append(_Record(r, kind, number, name, crit_text, has_data, no_kind))
        return records, footers

    def load(self) -> bool:
        """Read the sheet; return False when it holds no indicator table."""
        layout = self.layout if self.layout is not None else self.find_layout()
        if layout is None:
            return False
        self.layout = layout
        counts = layout.getters.get("counts")
        if counts is None:  # (a layout's sheets share it: asked once)
            counts = layout.getters["counts"] = [
                t for t in layout.header_text.values() if _COUNT_HEADER.match(fold(t))]
        if counts and layout.target is None:
            # "Tên tiêu chí | Số chỉ tiêu | Số chỉ tiêu đạt | Đánh giá": the criteria summed up
            self.issue(layout.header_rows[-1], counts[0], None,
                       f"the sheet sums up the criteria ('{counts[0]}' per criterion), not "
                       "their indicators: not read as indicators (the indicator tables give "
                       "them)", Severity.info, "criteria_summary")
            return True
        units_cols_ok = any(u.result is not None or u.assessment is not None
                            or u.mark_met is not None for u in layout.units)
        if not units_cols_ok:
            self.issue(layout.header_rows[-1], None, None,
                       "no result or assessment column: expected a header such as 'Hiện trạng', "
                       "'Kết quả' or 'Đánh giá'", Severity.error, "no_result_column")
            return True
        if not any(u.assessment is not None or u.mark_met is not None
                   or u.mark_not_met is not None for u in layout.units):
            self.issue(layout.header_rows[-1], None, None,
                       "no self-assessment column: expected 'Tự đánh giá' or 'Đánh giá' (or "
                       "'Đạt' | 'Chưa đạt' marks); statuses come from the values alone",
                       Severity.warning, "no_assessment_column")
        parts = self.title_parts(layout)
        title = "\n".join(parts)
        # fold(title) from the keys of its lines (a line break folds to a space, and no cell
        # text holds one): the lines are folded once per process, the title is new per sheet
        title_key = " ".join(filter(None, map(fold, parts)))
        year = self.find_year(title, title_key)
        # a group of columns per year ("Kết quả năm 2023" | "Kết quả năm 2024"): each its own
        group_years = [u.year for u in layout.units if u.year is not None]
        if year is None and not group_years:
            self.issue(None, None, None, "no year found: expected one such as 'NĂM 2024' in the "
                       "title, sheet name or file name; pass --year", Severity.warning, NO_YEAR)
        # the key of f"{title}\n{sheet}" from the keys of its two parts, likewise
        key = " ".join(k for k in (title_key, fold(self.grid.name)) if k)
        set_year = max(group_years) if group_years else year
        cset = cat.detect_set_from_key(key, year=set_year)
        # unit_names(f"{title}\n{sheet}") line by line (no cell text holds a line break)
        named = list(chain.from_iterable(map(_line_unit_names,
                                             [*parts, *self.grid.name.splitlines()])))
        records, footers, indicators, walk_issues, rows_of, crit_data = self._classified(layout)
        self._footers(footers)
        self.check_cells(layout, records)
        if layout.dropped:
            self._check_dropped(layout, rows_of)
        self._check_unread(layout, rows_of)
        if crit_data:
            self._check_criterion_rows(layout, crit_data)
        for args in walk_issues:
            self.issue(*args)
        if not indicators:
            self.issue(layout.first_data_row, None, None,
                       "the indicator table has a header but no indicator rows", Severity.error,
                       "empty_table")
            return True
        if cset is None and _ADVANCED_SET.search(key):
            # a set the catalogue does not hold: its numbers may look like a set it does
            self.issue(None, None, None, "the title names the advanced NTM criteria (nông thôn "
                       "mới nâng cao), which the catalogue does not hold: the indicators are "
                       "judged by the table's own targets and none is added as missing",
                       Severity.info, "set_not_in_catalogue")
        elif cset is None:
            level_hint = Level.hamlet if any(fold(p) not in _COMMUNE_WORDS for p, _ in named) \
                else (Level.commune if named else None)
            cset = cat.detect_set_from_indicators([n for *_, n in indicators if n],
                                                   level=level_hint, year=set_year)
        # units (columns per year are one unit's)
        wide = len(layout.units) > 1 and not group_years
        commune = next((n for p, n in named if fold(p) in _COMMUNE_WORDS), None)
        hamlet = next(((p, n) for p, n in named if fold(p) not in _COMMUNE_WORDS), None)
        if hamlet is not None:
            hamlet = name_as_written(*hamlet, _set_hamlet_word(cset))
        unit_specs: list[tuple[_UnitColumns, str | None, str | None]] = []
        for uc in layout.units:
            if wide and uc.label:
                found = unit_names(uc.label)
                if found:
                    prefix, name = name_as_written(*found[0], _set_hamlet_word(cset))
                else:
                    prefix, name = (cset.unit_prefix if cset else "Xóm"), nfc(uc.label)
                wide_level = Level.commune if fold(prefix) in _COMMUNE_WORDS else Level.hamlet
                unit_specs.append((uc, _display(prefix, name, wide_level), wide_level))
            else:
                unit_specs.append((uc, None, None))
        level_default = cset.level if cset else (Level.hamlet if hamlet else Level.commune)
        for i, (uc, unit, level) in enumerate(unit_specs):
            if unit is None:
                level = level_default
                if level == Level.hamlet and hamlet:
                    unit = _display(hamlet[0], hamlet[1], level)
                elif level == Level.commune and commune:
                    unit = commune
                elif not _GENERIC_SHEETS.match(fold(self.grid.name)):
                    name = self.grid.name.strip()
                    prefix = cset.unit_prefix if (cset and level == Level.hamlet) else ""
                    unit = _display(prefix, name, level) if prefix else name
                else:
                    unit = None
                    self.issue(None, None, self.grid.name, "no unit name found in the title or "
                               "sheet name (expected e.g. 'XÃ KIM PHƯỢNG' or 'XÓM PHAI ĐÁ')",
                               Severity.warning, "no_unit")
                unit_specs[i] = (uc, unit, level)
        self._emit(layout, indicators, rows_of, unit_specs, commune, year, cset)
        if not self.percent_written:
            # every percentage of the sheet is a fraction: Excel's percent format, not a slip
            for issue in self.issues:
                if issue[Iss.code] == "percent_fraction":
                    issue[Iss.severity] = Severity.info
        return True

    def _unit_getter(self, layout: _Layout, uc: _UnitColumns) -> tuple[Any, tuple[Any, ...]]:
        """Return a getter of a row's texts of the unit's judged cells, and what it picks.

        The cells are result, assessment, the two marks, the target and the unit column
        ("ĐVT"), those that exist in the sheet; the shape (which roles the table has, which of
        their columns exist) makes the picked texts a key that no other layout can share by
        accident.
        """
        got = layout.getters.get(id(uc))  # a layout's sheets share its width (see find_layout)
        if got is None:
            columns = (uc.result, uc.assessment, uc.mark_met, uc.mark_not_met, layout.target,
                       layout.value_unit)
            present = tuple(c is not None and c < self.n_cols for c in columns)
            picked = [c for c, ok in zip(columns, present, strict=True) if ok]
            # a tuple of the texts, or the text of the one cell: the shape tells them apart
            pick = itemgetter(*picked) if picked else _no_cells
            shape = ("texts", uc.assessment is not None,
                     uc.mark_met is not None or uc.mark_not_met is not None,
                     layout.target is not None, layout.value_unit is not None, present)
            got = layout.getters[id(uc)] = (pick, shape)
        return got

    def _judge(self, layout: _Layout, uc: _UnitColumns,
               r: int) -> tuple[Any, str | None, tuple[_Problem, ...]]:
        """``_judge_cells`` of the unit's cells on row ``r``, remembered by their values."""
        raw = self.raw
        result_raw = raw(r, uc.result)
        with_assessment = uc.assessment is not None
        assessment_raw = raw(r, uc.assessment) if with_assessment else None
        assessment_text = self.text(r, uc.assessment)
        with_marks = uc.mark_met is not None or uc.mark_not_met is not None
        met_raw = raw(r, uc.mark_met) if with_marks else None
        not_raw = raw(r, uc.mark_not_met) if with_marks else None
        with_target = layout.target is not None
        target_raw = raw(r, layout.target) if with_target else None
        stated_unit = self.text(r, layout.value_unit)
        key = (_cell_key(result_raw), with_assessment, _cell_key(assessment_raw),
               assessment_text, with_marks, _cell_key(met_raw), _cell_key(not_raw), with_target,
               _cell_key(target_raw), stated_unit)
        judged = _JUDGED.get(key)
        if judged is None:
            if len(_JUDGED) >= _JUDGED_MAX:
                _JUDGED.clear()
            judged = _JUDGED[key] = _judge_cells(
                result_raw, with_assessment, assessment_raw, assessment_text, with_marks,
                met_raw, not_raw, with_target, target_raw, stated_unit)
        return judged

    def _emit(self, layout: _Layout, indicators: list[_Indicator], rows_of: list[int],
              unit_specs: list[tuple[_UnitColumns, str | None, str | None]], commune: str | None,
              year: int | None, cset: cat.CriteriaSet | None) -> None:
        """Append the tidy rows of the sheet: one per indicator row and unit, in that order.

        What is the same for every row of the sheet (file, sheet, set, the columns) or of a
        unit (its commune, id and cell getter) is found once, not per row.
        """
        file, sheet = self.file, self.grid.name
        set_id = cset.set_id if cset else None
        n_cols = self.n_cols
        target = layout.target if layout.target is not None and layout.target < n_cols else None
        note_col = layout.note if layout.note is not None and layout.note < n_cols else None
        value_unit = layout.value_unit
        all_texts = self.texts
        row_texts = [all_texts[r] for r in rows_of]  # padded to n_cols
        specs = []
        for uc, unit, level in unit_specs:
            unit_commune = commune if level == Level.hamlet else (
                unit if level == Level.commune else commune)
            specs.append((uc, unit, level, unit_commune, _unit_id(unit_commune, unit, level),
                          self._judged(layout, uc, rows_of, row_texts),
                          year if uc.year is None else uc.year))
        append = self.rows.append
        numbers_distinct = len(set(map(itemgetter(3), indicators))) == len(indicators)
        self.blocks.extend(((unit_commune, unit, unit_year, set_id), numbers_distinct)
                           for _, unit, _, unit_commune, _, _, unit_year in specs)
        percent = 0
        for i, (rec, crit_no, crit_name, number) in enumerate(indicators):
            texts = row_texts[i]
            r = rec.row
            target_text = (texts[target] or None) if target is not None else None
            note = (texts[note_col] or None) if note_col is not None else None
            name = rec.name or None
            for uc, unit, level, unit_commune, unit_id, judged, unit_year in specs:
                value, assessment, problems = judged[i]
                if value.kind == "percent":
                    percent += 1
                if problems:
                    self._place_problems(layout, uc, r, problems)
                unit_of_value = value.unit
                if value_unit is not None and not unit_of_value:
                    unit_of_value = self.text(r, value_unit) or None
                append((  # _ROW_COLUMNS
                    file, sheet, r + 1, unit, unit_id, level, unit_commune, unit_year, set_id,
                    crit_no, crit_name, number, name, target_text, value.text or None,
                    value.number, unit_of_value, assessment, note,
                ))
        self.percent_written += percent

    def _judged(self, layout: _Layout, uc: _UnitColumns, rows_of: list[int],
                row_texts: list[list[str]]) -> list[tuple[Any, str | None, tuple[_Problem, ...]]]:
        """``_judge`` of the unit's cells on each of the rows, in that order.

        The same few cell contents recur on every row and sheet, so each is judged once per
        process: where the sheet's texts are its cells, the answers are looked up by the
        unit's picked texts (among the answers for the unit's shape), every row's key made and
        looked up in C.
        """
        if not self.all_text:
            return [self._judge(layout, uc, r) for r in rows_of]
        pick, shape = self._unit_getter(layout, uc)
        answers = _JUDGED_TEXTS.get(shape)
        if answers is None:
            answers = _JUDGED_TEXTS[shape] = {}
        keys = list(map(pick, row_texts))
        judged = list(map(answers.get, keys))
        if None in judged:
            for i, got in enumerate(judged):
                if got is None:
                    got = judged[i] = self._judge(layout, uc, rows_of[i])
                    if len(answers) >= _JUDGED_MAX:
                        answers.clear()
                    answers[keys[i]] = got
        return judged  # type: ignore[return-value]  # no None left

    def _place_problems(self, layout: _Layout, uc: _UnitColumns, r: int,
                        problems: tuple[_Problem, ...]) -> None:
        """Report the problems ``_judge_cells`` found in a unit's cells on row ``r``."""
        for role, shown, problem, severity, code in problems:
            if role == "result":
                column: str | None = layout.header_text.get(uc.result or 0)
            elif role == "assessment_column":
                column = layout.header_text.get(uc.assessment or 0)
            elif role == "assessment":
                column = layout.header_text.get(uc.assessment or 0) or "Đánh giá"
            else:  # "marks"
                column = "Đạt / Chưa đạt"
            self.issue(r, column, shown, problem, severity, code)


#: One indicator of a sheet: its record, criterion number and name, and indicator number.
_Indicator = tuple[_Record, str | None, str | None, str]
#: The arguments of one ``_SheetLoader.issue`` call: row, column, value, problem, severity, code.
_IssueArgs = tuple[int | None, str | None, object, str, str, str]
#: What ``_SheetLoader._classified`` answers: the records, the rows below the table, the
#: indicators and the issues of ``_walk``, and the indicators' rows.
_Classified = tuple[list[_Record], list[tuple[int, set[int] | None]], list[_Indicator],
                    list[_IssueArgs], list[int], dict[int, list[int]]]
#: ``_SheetLoader._classified`` answers (after the layout they belong to), by what decided
#: them, per process.
_CLASSIFIED: dict[tuple[Any, ...], tuple[_Layout, _Classified]] = {}
_CLASSIFIED_MAX = 2048


def _data_columns(layout: _Layout, n_cols: int) -> list[int]:
    """The columns whose cells make a row a data row: the units' figures, and the target."""
    data_cols = [c for u in layout.units for c in
                 (u.result, u.assessment, u.mark_met, u.mark_not_met) if c is not None]
    if layout.target is not None:
        data_cols.append(layout.target)
    return [c for c in data_cols if c < n_cols]


#: Layouts found by ``_SheetLoader.find_layout``, by what decided them, per process.
_LAYOUTS: dict[tuple[Any, ...], _Layout] = {}
#: The (last header row, first data row) of the layouts found, by (columns, rows searched).
_LAYOUT_ENDS: dict[tuple[int, int], list[tuple[int, int]]] = {}
_LAYOUTS_MAX = 4096

#: One issue ``_judge_cells`` found: where it is reported ("result", "assessment_column": the
#: unit's column; "assessment": that column or "Đánh giá"; "marks"), the value shown, the
#: problem, its severity and code.
_Problem = tuple[str, str | None, str, str, str]
#: ``_judge_cells`` answers by the values of the cells (see ``_SheetLoader._judge``), per process.
_JUDGED: dict[tuple[Any, ...], tuple[Any, str | None, tuple[_Problem, ...]]] = {}
_JUDGED_MAX = 1 << 16
#: ``_judge_cells`` answers for sheets whose texts are their cells, by the shape of the unit's
#: cells (``_SheetLoader._unit_getter``) and then the unit's texts on a row, per process.
_JUDGED_TEXTS: dict[tuple[Any, ...], dict[Any, tuple[Any, str | None, tuple[_Problem, ...]]]] = {}


def _no_cells(texts: Sequence[str]) -> tuple[()]:
    return ()


def _cell_key(value: object) -> object:
    """A cell value as a cache key: texts as they are, anything else by type and ``repr``.

    ``1``, ``1.0`` and ``True`` (or ``0.0`` and ``-0.0``) are equal keys in a dict but parse
    differently, so they must not share an answer.
    """
    if value is None or type(value) is str:
        return value
    return (type(value).__name__, repr(value))


def _judge_cells(result_raw: object, with_assessment: bool, assessment_raw: object,
                 assessment_text: str, with_marks: bool, met_raw: object, not_raw: object,
                 with_target: bool, target_raw: object, stated_unit: str = ""
                 ) -> tuple[Any, str | None, tuple[_Problem, ...]]:
    """Parse one unit's cells of an indicator row: (value, self-assessment, problems).

    ``stated_unit`` is the row's unit column ("ĐVT": "đồng/người/năm"), the unit of a value
    that names none (as ``_emit`` records it): the checks of a value against its target's
    unit use it.

    A pure function of the cells, so the loader asks once per distinct combination; the
    problems are placed on each row (and named by its header) by ``_SheetLoader._emit``.
    """
    problems: list[_Problem] = []
    value = parse_value(result_raw)
    assessment = None
    if with_assessment:
        assessment = parse_assessment(assessment_raw)
        if assessment is None and assessment_text:
            key = fold(assessment_text)
            why = (" ('Cơ bản đạt', basically met, is not 'Đạt': left empty, the value decides)"
                   if "co ban" in key else
                   " (both are written: the template's choice was never made; left empty, the "
                   "value decides)" if is_unfilled_choice(assessment_text) else "")
            problems.append(("assessment_column", assessment_text,
                             "self-assessment not understood: expected 'Đạt' or 'Chưa đạt'"
                             + why, Severity.warning, "bad_assessment"))
    if with_marks:
        met_mark = is_mark(met_raw)
        not_mark = is_mark(not_raw)
        if met_mark and not_mark:
            problems.append(("marks", None, "both 'Đạt' and 'Chưa đạt' are marked: expected "
                             "one mark; self-assessment left empty", Severity.warning,
                             "conflicting_marks"))
        elif met_mark or not_mark:
            mark_assessment = "met" if met_mark else "not_met"
            if assessment is not None and assessment != mark_assessment:
                said = "Đạt" if assessment == "met" else "Chưa đạt"
                marked = "Đạt" if met_mark else "Chưa đạt"
                problems.append(("assessment", assessment_text, f"the assessment column says "
                                 f"'{said}' but the x mark is under '{marked}': expected them "
                                 "to agree; the mark was used", Severity.warning,
                                 "conflicting_marks"))
            assessment = mark_assessment
    unit = value.unit or stated_unit or None  # as _emit records it
    if stated_unit and value.unit and value.kind == "number" and value.number is not None and \
            (v_scale := money_scale(value.unit)) and (s_scale := money_scale(stated_unit)) and \
            v_scale != s_scale:
        # "54.030.000 đồng" in a row whose unit column says "Triệu đồng/người/năm": its target
        # ("≥ 70") is in the row's unit, so is the value, as it is recorded
        number = round(value.number * v_scale / s_scale, 9)
        problems.append(("result", value.text, f"the value is written in {value.unit}, the "
                         f"row's unit (ĐVT) is {stated_unit}: read as {number:,.10g} "
                         f"{stated_unit}", Severity.info, "value_unit_converted"))
        value = Value("number", number, stated_unit, value.text)
        unit = stated_unit
    if value.kind in ("number", "percent") and _LETTER_IN_NUMBER.search(value.text):
        problems.append(("result", value.text, "expected a number, found a letter O among the "
                         "digits; the value was not used", Severity.warning, "letter_in_number"))
        value = type(value)("text", None, None, value.text)
    elif value.kind == "number" and unit in (None, PERCENT) and value.number is not None and \
            0 < value.number <= 1 and with_target:
        target = parse_target(target_raw)
        # (a bare target in a row whose unit column says "%" is a percentage)
        if (target.unit == PERCENT or (target.unit is None and unit == PERCENT)) and \
                (target.value or 0) > 1:
            problems.append(("result", value.text, f"expected a percentage such as "
                             f"'{value.number * 100:g}%', found a fraction; read as "
                             f"{value.number * 100:g}%", Severity.warning, "percent_fraction"))
    elif unit not in (None, BOOL, COMPLIANCE) and with_target and not comparable(
            Value(value.kind, value.number, unit, value.text),
            target := parse_target(target_raw)):
        found = "a percentage" if unit == PERCENT else f"one in {unit}"
        problems.append(("result", value.text, f"expected a value in the target's unit "
                         f"({target.unit}), found {found}: not comparable; the "
                         "self-assessment decides", Severity.warning, "unit_mismatch"))
    elif value.kind == "number" and unit is None and value.number is not None and \
            value.number >= 1000 and with_target:
        target = parse_target(target_raw)
        if money_scale(target.unit) and target.value and value.number >= 1000 * target.value:
            problems.append(("result", value.text, f"expected an amount in {target.unit} (the "
                             f"target's unit), found {value.number:,.0f} with no unit (in "
                             "đồng?); the value was not used: write the unit or the amount in "
                             f"{target.unit}", Severity.warning, "money_unit_missing"))
            value = type(value)("text", None, None, value.text)
    elif value.kind == "bool" and value.number and with_target and \
            parse_target(target_raw).unit == PERCENT:
        # (none, "Không có hộ nghèo", is 0% and judged)
        problems.append(("result", value.text, f"a yes/no value ('{value.text}') says nothing "
                         f"of a share ('{cell_text(target_raw)}'): the self-assessment decides",
                         Severity.warning, "unit_mismatch"))
    elif value.kind == "number" and value.number is not None and with_target and \
            money_scale(value.unit) not in (None, 1e6) and not money_scale(stated_unit):
        target = parse_target(target_raw)
        if target.unit is None and target.value is not None and target.comparator in (
                GE, GT, LE, LT, EQ):
            # "54.030.000 đồng" against "≥ 70": a bare amount is in million VND by custom only
            # (54,030,000 ≥ 70 was met)
            problems.append(("result", value.text, f"the value is in {value.unit} but the "
                             "target names no unit (a bare amount is in million VND by custom "
                             "only): not compared, the value was not used; write the "
                             "target's unit ('≥ 70 triệu đồng/người/năm') or a unit column "
                             "(ĐVT)", Severity.warning, "target_unit_missing"))
            value = type(value)("text", None, None, value.text)
    if isinstance(result_raw, str) and result_raw.strip().upper() in sheetxml.EXCEL_ERRORS:
        # an error pasted as text, or read by openpyxl (calamine's are found in the sheet
        # XML); "#N/A" is no "n/a" (not applicable)
        problems.append(("result", value.text,
                         sheetxml.error_text_problem(result_raw.strip(), "not used, the "
                                                     "self-assessment decides"),
                         Severity.warning, "excel_error"))
        value = type(value)("empty", None, None, value.text)
    elif value.kind == "date":
        problems.append(("result", value.text, "expected a number, a percentage or a yes/no "
                         "word, found a date", Severity.warning, "date_value"))
    elif value.kind == "text" and result_raw is not None and \
            not any(p[0] == "result" for p in problems):  # not said twice of one cell
        years = years_given(value.text)
        problems.append(("result", value.text, (
            f"the cell gives figures for {len(years)} years "
            f"({', '.join(map(str, years))}): expected one value, the table's year's; the "
            "self-assessment decides") if years else "value not understood as a number, "
            "percentage or yes/no; the self-assessment decides", Severity.info, "text_value"))
    return value, assessment, tuple(problems)


def _walk(layout: _Layout, records: list[_Record]
          ) -> tuple[list[_Indicator], list[_IssueArgs], dict[int, list[int]]]:
    """Attach the indicator records to their criteria and number them.

    Returns the indicators in row order, the issues found (``_SheetLoader.issue``'s
    arguments) and, for each criterion row carrying data of its own, the rows of its indicators
    (``_SheetLoader._check_criterion_rows``): a pure function of the layout and the records.
    """
    issues: list[_IssueArgs] = []
    indicators: list[_Indicator] = []
    with_data: dict[int, list[int]] = {}  # criterion row with data → its indicator rows
    below: list[int] | None = None
    crit_no: str | None = None
    crit_name: str | None = None
    crit_rows: dict[str | None, _Record] = {}
    ordinal = 0
    crit_seq = 0
    crit_text_seen: dict[str, str] = {}
    previous: str | None = None  # the indicator number of the row before
    for rec in records:
        if rec.kind == "criterion":
            crit_seq += 1
            crit_no = rec.number or str(crit_seq)
            crit_name = _strip_criterion_prefix(rec.name)
            crit_rows[crit_no] = rec
            ordinal = 0
            below = with_data.setdefault(rec.row, []) if rec.has_data else None
            continue
        if layout.criterion is not None and rec.criterion_text:
            ct = rec.criterion_text
            if ct not in crit_text_seen:
                crit_seq += 1
                m = _NAME_CRITERION.match(ct) or _NAME_INT.match(ct)
                crit_text_seen[ct] = _roman_or_int(m.group(1)) if m else str(crit_seq)
                ordinal = 0
            if crit_text_seen[ct] != crit_no:
                below = None  # another criterion, named in the criterion column
            crit_no, crit_name = crit_text_seen[ct], _strip_criterion_prefix(ct)
        ordinal += 1
        number = rec.number
        if number is not None and previous is not None and \
                (tenth := _tenth_after(previous, number)) is not None:
            issues.append((rec.row, layout.header_text.get(layout.number or 0), number,
                           f"indicator number {number} follows {previous}: read as {tenth} (a "
                           f"number cell drops the final zero; write '{tenth}' as text)",
                           Severity.warning, "number_lost_zero"))
            number = tenth
        previous = number
        if number is not None:
            head = number.split(".")[0]
            if crit_no is None or head != crit_no:
                if layout.criterion is None and not crit_rows:
                    crit_no, crit_name = head, None
                elif crit_no is not None and head != crit_no:
                    issues.append((rec.row, layout.header_text.get(layout.number or 0), number,
                                   f"indicator number {number} does not belong to criterion "
                                   f"{crit_no}; kept as {number}", Severity.warning,
                                   "number_mismatch"))
        elif crit_no is not None:
            number = f"{crit_no}.{ordinal}"
        if crit_no is None:
            issues.append((rec.row, None, rec.name, "indicator under no criterion: expected a "
                           "criterion row (1, 2… or I, II…) above it", Severity.warning,
                           "no_criterion"))
        indicators.append((rec, crit_no, crit_name, number or str(ordinal)))
        if below is not None:
            below.append(rec.row)
    # criterion rows that carry data and have no indicators become their own indicator
    used = {c for _, c, _, _ in indicators}
    for no, rec in crit_rows.items():
        if no not in used and rec.has_data:
            indicators.append((rec, no, _strip_criterion_prefix(rec.name), f"{no}.1"))
    indicators.sort(key=lambda t: t[0].row)
    return indicators, issues, {r: rows for r, rows in with_data.items() if rows}


def name_as_written(prefix: str, name: str, unit_word: str | None) -> tuple[str, str]:
    """Keep "Bản Lác" whole when "Bản"/"Làng" starts a name rather than naming the unit type.

    Hamlets called "Bản Lác" or "Làng Mới" are common; where the hamlets are called something
    else (``unit_word``: the criteria set's "Xóm", or an income table's "Tên xóm" column), a
    capitalised "Bản"/"Làng" is read as part of the name.

    >>> name_as_written("Bản", "Lác", "Xóm"), name_as_written("Bản", "Lác", None)
    (('Xóm', 'Bản Lác'), ('Bản', 'Lác'))
    """
    if fold(prefix) in _NAME_START_WORDS and unit_word and fold(unit_word) != fold(prefix):
        return unit_word, f"{prefix} {name}"
    return prefix, name


def _set_hamlet_word(cset: cat.CriteriaSet | None) -> str | None:
    """What a hamlet criteria set calls its units ("Xóm"), or ``None``."""
    return cset.unit_prefix if cset is not None and cset.level == Level.hamlet else None


def _display(prefix: str, name: str, level: str | None) -> str:
    if level == Level.commune:
        return name
    return f"{prefix} {name}".strip()


@lru_cache(maxsize=1 << 14)
def _unit_id(commune: str | None, unit: str | None, level: str | None) -> str | None:
    if unit is None:
        return None
    if level == Level.hamlet and commune:
        return f"{slug(commune)}/{slug(unit)}"
    return slug(unit)


def _roman_or_int(token: str) -> str:
    token = token.strip().upper()
    return str(_ROMAN[token]) if token in _ROMAN else str(int(token))


def _tenth_after(previous: str, number: str) -> str | None:
    """The number a cell meant when Excel dropped its final zero: "1.1" right after "1.9" is
    "1.10" (and "1.2" after "1.19" is "1.20"); ``None`` when ``number`` follows as it is.

    >>> _tenth_after("1.9", "1.1"), _tenth_after("2.19", "2.2"), _tenth_after("1.1", "1.2")
    ('1.10', '2.20', None)
    """
    head, _, minor = number.rpartition(".")
    before_head, _, before = previous.rpartition(".")
    if not head or head != before_head or len(minor) != 1 or not (minor + before).isdigit():
        return None
    return f"{head}.{minor}0" if int(minor) * 10 == int(before) + 1 else None


@lru_cache(maxsize=65536)  # pure, and the same few texts come back on every sheet
def _number_kind(text: str) -> tuple[str, str | None]:
    """Classify a number-column cell: roman, int, dotted, letter, bullet or none."""
    t = text.strip().rstrip(".") if text.strip() not in ("-", "+", "*", "•") else text.strip()
    if not t:
        return "none", None
    if t.upper() in _ROMAN and t.isupper():
        return "roman", str(_ROMAN[t.upper()])
    if m := _DOTTED.match(t):
        parts = [m.group(1), *m.group(2).strip(".").split(".")]
        return "dotted", ".".join(str(int(p)) for p in parts)
    if m := _INT.match(t):
        return "int", str(int(m.group(1)))
    if _LETTER.match(t.lower()):
        return "letter", None
    if t in ("-", "+", "*", "•"):
        return "bullet", None
    return "other", None


@lru_cache(maxsize=65536)  # pure, and indicator names repeat across units and workbooks
def _name_number(name: str) -> tuple[str, str | None, str]:
    """Split a numbering prefix off an indicator or criterion name."""
    if m := _NAME_DOTTED.match(name):
        parts = m.group(1).split(".")
        return "dotted", ".".join(str(int(p)) for p in parts), m.group(2).strip()
    if m := _NAME_CRITERION.match(name):
        return "criterion", _roman_or_int(m.group(1)), name
    if m := _NAME_INT.match(name):
        token = m.group(1)
        kind = "roman" if token.upper() in _ROMAN and not token.isdigit() else "int"
        return kind, _roman_or_int(token), m.group(2).strip()
    return "none", None, name


def _strip_criterion_prefix(name: str) -> str:
    if m := _NAME_CRITERION.match(name):
        return m.group(2).strip() or name
    if m := _NAME_INT.match(name):
        return m.group(2).strip()
    return name


def _sheet_kind(grid: SheetGrid) -> str | None:
    """Name the kind of a sheet that holds no indicator table (budget, income), if recognisable."""
    head = " ".join(fold(cell_text(v)) for row in grid.rows[:HEADER_SEARCH_ROWS] for v in row[:30]
                    if v not in ("", None))
    if any(w in head for w in _BUDGET_WORDS):
        return "budget"
    if any(w in head for w in _INCOME_WORDS):
        return "income"
    return None


# --------------------------------------------------------------------------- public API


def load_workbook(path: str | os.PathLike[str], *, sheets: Sequence[str] | None = None,
                  year: int | None = None) -> LoadResult:
    """Load one workbook (every sheet, or the sheets named) into the tidy indicator table.

    Problems are collected in ``issues`` (file, sheet, row, column, value, problem, severity);
    only a file that cannot be opened at all raises.

    Parameters
    ----------
    path
        The ``.xlsx`` (or ``.xls``/``.ods``) workbook.
    sheets
        Sheet names to read; default: all visible and hidden sheets.
    year
        Year to use where the workbook names none.

    Raises
    ------
    InputError
        When the file is missing or is not a readable workbook.
    """
    rows, issues = _load_records(Path(path), sheets=sheets, year=year)
    indicators = frame_from_table(table_from_rows(rows, Ind), Ind)
    issue_frame = frame_from_records(issues, Iss)
    indicators, more = _check_duplicates(indicators)
    return LoadResult(indicators, _concat_issues([issue_frame, more]))


def load_workbook_tables(path: str | os.PathLike[str], *,
                         year: int | None = None) -> tuple[pa.Table, pa.Table]:
    """Load one workbook into Arrow tables (indicators, issues), as ``load_workbook`` would.

    ``frame_from_table`` of the two tables gives exactly ``load_workbook(path, year=year)``'s
    frames; no pandas frame is built unless the workbook repeats an indicator (then the
    duplicate check of ``load_workbook`` runs). This is what the ingest's worker processes
    call: Arrow tables are cheap to cache as Parquet and to send between processes.

    Raises
    ------
    InputError
        When the file is missing or is not a readable workbook.
    """
    blocks: list[tuple[tuple[Any, ...], bool]] = []
    rows, issues = _load_records(Path(path), year=year, blocks=blocks)
    if _distinct_keys(rows, blocks):
        if not issues:  # the usual workbook: no issue at all
            return table_from_rows(rows, Ind), empty_table(Iss)
        issue_table = table_from_records(issues, Iss)
        seen = dict.fromkeys(zip(*(c.to_pylist() for c in issue_table.columns), strict=True))
        if len(seen) < issue_table.num_rows:
            # the same issue twice: keep the first, as load_workbook's drop_duplicates does
            issue_table = table_from_records(
                [dict(zip(Iss.dtypes, key, strict=True)) for key in seen], Iss)
        return table_from_rows(rows, Ind), issue_table
    result = load_workbook(path, year=year)  # rare: the frame path reports the duplicates
    # exactly the schema of the usual path's tables (no pandas metadata from the frames)
    ind, iss = (pa.Table.from_pandas(frame, schema=arrow_schema(schema), preserve_index=False)
                .replace_schema_metadata(None)
                for frame, schema in ((result.indicators, Ind), (result.issues, Iss)))
    return ind, iss


#: Columns that identify one indicator observation (the duplicate check's key).
_DUPLICATE_KEYS = (Ind.commune, Ind.unit, Ind.year, Ind.criteria_set, Ind.indicator_no)


def _distinct_keys(rows: list[tuple[Any, ...]],
                   blocks: list[tuple[tuple[Any, ...], bool]] | None = None) -> bool:
    """True when no two rows share a duplicate-check key (so no duplicate can be reported).

    ``blocks`` are the loaders' blocks of rows (``_SheetLoader.blocks``), when the caller has
    them: rows of one block share their key but for the indicator number, so when each block's
    numbers are distinct and no two blocks share the rest of the key, so do the rows, without
    a key per row.
    """
    if blocks is not None and all(map(itemgetter(1), blocks)) and len(
            set(map(itemgetter(0), blocks))) == len(blocks):
        return True
    positions = [_ROW_COLUMNS.index(k) for k in _DUPLICATE_KEYS]
    return len(set(map(itemgetter(*positions), rows))) == len(rows)


#: The order of the values in a loader row tuple: the indicator table's columns.
_ROW_COLUMNS = (
    Ind.source_file, Ind.source_sheet, Ind.source_row, Ind.unit, Ind.unit_id, Ind.level,
    Ind.commune, Ind.year, Ind.criteria_set, Ind.criterion_no, Ind.criterion_name,
    Ind.indicator_no, Ind.indicator_name, Ind.target_text, Ind.value_text, Ind.value,
    Ind.value_unit, Ind.self_assessment, Ind.note,
)
if tuple(Ind.dtypes) != _ROW_COLUMNS:  # the loader's row tuples follow the schema
    raise RuntimeError("_ROW_COLUMNS is out of step with the indicator schema")


def _load_records(p: Path, *, sheets: Sequence[str] | None = None, year: int | None = None,
                  blocks: list[tuple[tuple[Any, ...], bool]] | None = None,
                  ) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
    """Read a workbook into tidy row tuples and issue dicts (see ``load_workbook``).

    The sheets' blocks of rows (``_SheetLoader.blocks``) are appended to ``blocks``.
    """
    if not p.exists():
        raise InputError(_loc(p), "file not found")
    if p.is_dir():
        raise InputError(_loc(p), "is a folder, expected an Excel workbook")
    ooxml = p.suffix.lower() in (".xlsx", ".xlsm")
    parts: dict[str, bytes] = {}  # XML parts the file check decompressed, for the scans below
    # and the package with those parts stored uncompressed, for calamine (an .xlsx or .xlsm
    # name only: calamine picks its reader by the name for a file, by the content for bytes)
    unpacked: list[bytes] | None = [] if ooxml else None
    _check_file(p, parts, unpacked)
    grids = read_sheets(p, sheets=sheets, content=unpacked[0] if unpacked else None)
    if unpacked:
        unpacked.clear()  # (the grids are read: the copy is not needed any more)
    extras = scan_sheets(p, parts=parts if ooxml else None)  # (.xls: biff.scan_biff)
    rows: list[tuple[Any, ...]] = []
    issues: list[dict[str, Any]] = []
    found = 0
    other_kinds = 0
    searched: list[str] = []
    font_encoding = legacy.workbook_font_encoding(p, parts=parts) if ooxml else None
    parts.clear()
    for grid in grids:
        if extras and (found_extras := extras.get(grid.name)):
            # an .ods's error cells hold a number calamine read as their value, and its merged
            # cells are found by the scan alone
            grid.rows = without_error_values(grid.rows, found_extras)
            if found_extras.merged and not grid.merged:
                grid.merged = list(found_extras.merged)
        grid, legacy_issues, scan = _fix_legacy_text(grid, font_encoding)
        loader = _SheetLoader(grid, p.name, year, scan)
        for problem in legacy_issues:
            loader.issue(None, None, None, problem, Severity.warning, legacy.CODE)
        if grid.hidden:
            loader.issue(None, None, None, "hidden sheet was read as data (expected visible "
                         "sheets; unhide it in Excel to check)", Severity.warning, "hidden_sheet")
        stacked = _stacked_tables(loader) if grid.rows else None
        if not grid.rows:
            loader.issue(None, None, None, "sheet is empty", Severity.info, "empty_sheet")
        elif stacked is not None:
            found += 1
            starts = ", ".join(str(part.header + 1) for part in stacked)
            pages = [str(part.header + 1) for part in stacked if part.continued]
            loader.issue(stacked[1].header, None, None,
                         f"the sheet holds {len(stacked)} tables one below the other (headers "
                         f"on rows {starts}): each was read with the title above it" + (
                             f"; the header on row(s) {', '.join(pages)} has no title above "
                             "it and continues the first table (its unit and year)"
                             if pages else ""), Severity.info, "stacked_tables")
            for part in stacked:
                sub = _SheetLoader(part.grid, p.name, year)
                sub.load()
                rows.extend(sub.rows)
                if blocks is not None:
                    blocks.extend(sub.blocks)
                issues.extend(sub.issues)
        elif loader.load():
            found += 1
        else:
            kind = _sheet_kind(grid)
            partial = loader.find_partial_header() if kind is None else None
            if kind:
                other_kinds += 1
                command = "funding" if kind == "budget" else "income"
                loader.issue(None, None, None, f"sheet holds a {kind} table, not an indicator "
                             f"table; read it with `ntm {command}`",
                             Severity.info, f"{kind}_sheet")
            elif partial is not None:
                found += 1
                loader.issue(partial, None, None, "the header has no result or assessment "
                             "column: expected a header such as 'Hiện trạng', 'Kết quả' or "
                             "'Đánh giá'", Severity.error, "no_result_column")
            elif grid.n_rows:
                searched.append(grid.name)
                loader.issue(None, None, None, "no indicator table found in this sheet",
                             Severity.info, "no_table")
        if grid.rows:
            loader.check_extras(extras.get(grid.name))
        rows.extend(loader.rows)
        if blocks is not None:
            blocks.extend(loader.blocks)
        issues.extend(loader.issues)
    if not found and not other_kinds:
        if searched:
            where = ", ".join(f"'{n}'" for n in searched)
            problem = (f"no recognisable indicator table in sheet(s) {where} (first "
                       f"{HEADER_SEARCH_ROWS} rows searched): expected a header row with 'TT', "
                       "'Nội dung' (or 'Tên tiêu chí') and 'Hiện trạng' or 'Đánh giá'")
            code = "no_table"
        else:
            problem = ("the workbook is empty: no sheet has any cells; expected an indicator "
                       "table with a header row such as 'TT', 'Nội dung', 'Hiện trạng'")
            code = "empty_workbook"
        issues.append({
            Iss.source_file: p.name, Iss.source_sheet: None, Iss.source_row: None,
            Iss.column: None, Iss.value: None, Iss.problem: problem,
            Iss.severity: Severity.error, Iss.code: code,
        })
    return rows, issues


@dataclass(frozen=True)
class _Part:
    """One of the tables stacked in a sheet: its header row (0-based) and a grid of the sheet's
    size holding only its rows (so every row keeps its Excel number)."""

    header: int
    grid: SheetGrid
    #: no title of its own: read with the first table's (a header repeated on a new page)
    continued: bool = False


def _stacked_tables(loader: _SheetLoader) -> list[_Part] | None:
    """Split a sheet whose table's header row is repeated further down (a copy of the table
    for each hamlet, one below the other) into one table per header; None for one table.

    Each part keeps the title rows above its header (the rows up to a blank row or a row of
    three texts or more: "XÓM NA MỌN - XÃ KIM PHƯỢNG"); a part without one (a header repeated
    for a new printed page) is read with the first table's title. Rows of other parts are blank
    in a part's grid, merged ranges outside it dropped.
    """
    layout = loader.layout = loader.find_layout()  # (``load`` takes it from there)
    if layout is None:
        return None
    texts = loader.texts
    head = texts[layout.header_rows[0]]
    first = layout.first_data_row
    if head not in texts[first:]:  # the usual sheet: one comparison per row, in C
        return None
    repeats = [r for r in range(first, len(texts)) if texts[r] == head]
    height = len(layout.header_rows)

    def is_title(r: int) -> bool:
        return 0 < len(set(filter(None, texts[r]))) <= 2

    headers = [layout.header_rows[0], *repeats]
    starts = [0]
    for previous, h in zip(headers, headers[1:], strict=False):
        s = h
        while s - 1 >= previous + height and is_title(s - 1):
            s -= 1
        starts.append(s)
    ends = [*starts[1:], len(texts)]
    grid = loader.grid
    rows = grid.rows
    title = rows[:layout.header_rows[0]]  # (every later header is below the first table)
    parts = []
    for k, (h, start, end) in enumerate(zip(headers, starts, ends, strict=True)):
        continued = bool(k) and start == h
        # no title of its own: the first table's, just above the header (without its merged
        # ranges, which belong to the rows it stands in for)
        above = [[] for _ in range(h - len(title))] + title if continued else \
            [[] for _ in range(start)] + rows[start:h]
        merged = [m for m in grid.merged if start <= m[0][0] and m[1][0] < end]
        parts.append(_Part(h, SheetGrid(grid.name, above + rows[h:end], merged, grid.hidden),
                           continued))
    return parts


def load_workbooks(paths: Iterable[str | os.PathLike[str]], *, year: int | None = None,
                   progress: bool = False) -> LoadResult:
    """Load many workbooks; a file that cannot be opened becomes an error row, not an exception.

    Examples
    --------
    >>> result = load_workbooks([])
    >>> len(result.indicators), len(result.issues)
    (0, 0)
    """
    paths = list(paths)
    frames, issues = [], []
    iterator: Iterable[str | os.PathLike[str]] = paths
    if progress and len(paths) > 1:
        from tqdm.auto import tqdm

        iterator = tqdm(paths, desc="workbooks", unit="file")
    for path in iterator:
        try:
            result = load_workbook(path, year=year)
        except InputError as error:
            issues.append(_error_frame(error))
            continue
        frames.append(result.indicators)
        issues.append(result.issues)
    indicators = pd.concat(frames, ignore_index=True) if frames else empty_frame(Ind)
    indicators, more = _check_duplicates(indicators)
    return LoadResult(conform(indicators, Ind), _concat_issues([*issues, more]))


def _concat_issues(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_frame(Iss)
    return conform(pd.concat(frames, ignore_index=True), Iss).drop_duplicates(
        ignore_index=True)


def _error_frame(error: InputError) -> pd.DataFrame:
    loc = error.location
    return conform(pd.DataFrame([{
        Iss.source_file: loc.file, Iss.source_sheet: loc.sheet, Iss.source_row: loc.row,
        Iss.column: loc.column, Iss.value: None, Iss.problem: error.problem,
        Iss.severity: Severity.error, Iss.code: error.code or "unreadable",
    }]), Iss)


def _check_duplicates(indicators: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Report the same indicator number twice for one unit, set and year (an error)."""
    if indicators.empty:
        return indicators, empty_frame(Iss)
    # hamlet names repeat across communes ("Xóm Trung Tâm"): the commune is part of the key
    keys = list(_DUPLICATE_KEYS)
    dup = indicators.duplicated(keys, keep=False)  # hashed per column in C, NA equals NA
    if not dup.any():
        return indicators, empty_frame(Iss)
    dup &= indicators[Ind.indicator_no].notna()
    if not dup.any():
        return indicators, empty_frame(Iss)
    d = indicators[dup]
    rows = []
    for _, group in d.groupby(keys, dropna=False, sort=True):
        # the same cells in two workbooks (a copy left in the folder) must name the files
        files = group[Ind.source_file].nunique(dropna=False)
        where = ("; ".join(f"{r.source_file} {r.source_sheet}!{r.source_row}"
                           for r in group.itertuples()) if files > 1 else
                 ", ".join(f"{r.source_sheet}!{r.source_row}" for r in group.itertuples()))
        across = ("; a unit's set for one year belongs in one workbook: remove the copy or "
                  "correct the unit or year" if files > 1 else "")
        for r in group.itertuples():
            unit = r.unit if isinstance(r.unit, str) and r.unit else "the same unit"  # (or NA)
            rows.append({
                Iss.source_file: r.source_file, Iss.source_sheet: r.source_sheet,
                Iss.source_row: r.source_row, Iss.column: "TT", Iss.value: r.indicator_no,
                Iss.problem: f"indicator {r.indicator_no} appears more than once for "
                             f"{unit} ({where}){across}",
                Iss.severity: Severity.error, Iss.code: "duplicate_indicator",
            })
    return indicators, conform(pd.DataFrame(rows), Iss)


#: How many cell references a legacy-encoding warning lists before "… and N more".
MAX_LISTED_CELLS = 30


def _listed(cells: list[tuple[int, int]]) -> str:
    refs = legacy.cell_ranges(cells)
    shown = ", ".join(refs[:MAX_LISTED_CELLS])
    return shown + (f" … and {len(refs) - MAX_LISTED_CELLS} more" if len(refs) >
                    MAX_LISTED_CELLS else "")


def _fix_legacy_text(grid: SheetGrid, font_encoding: str | None
                     ) -> tuple[SheetGrid, list[str], _SheetScan | None]:
    """Convert a sheet's TCVN3/VNI text to Unicode before any header matching or parsing.

    Returns the grid to read (a new one when cells changed), the warnings to report (one per
    encoding found, naming every converted cell, and one naming the cells that look legacy but
    could not be read, kept as written) and the ``_scan_sheet`` of the grid returned.
    """
    scan = _scan_sheet(grid.rows)
    if scan is not None and legacy.plainly_unicode_by_flags(scan.legacy_flags, font_encoding):
        return grid, [], scan  # the usual sheet: nothing to convert or report
    fix = legacy.fix_grid(grid.rows, font_encoding=font_encoding)
    problems: list[str] = []
    for encoding, cells in sorted(fix.converted.items()):
        r, c = cells[0]
        before, after = cell_text(grid.rows[r][c]), cell_text(fix.rows[r][c])
        problems.append(
            f"{len(cells)} cell(s) typed in the legacy {legacy.ENCODING_NAMES[encoding]} "
            f"encoding were converted to Unicode (expected Unicode text; e.g. '{before[:60]}' "
            f"read as '{after[:60]}'): cells {_listed(cells)}")
    if fix.unsure:
        problems.append(
            f"{len(fix.unsure)} cell(s) hold characters of a legacy Vietnamese encoding "
            "(TCVN3 or VNI) but could not be read in either: expected Unicode text; kept as "
            f"written: cells {_listed(fix.unsure)}")
    if fix.converted:
        grid = replace(grid, rows=fix.rows)
        scan = _scan_sheet(grid.rows)
    return grid, problems, scan


#: What ``_cell_flag`` says of a cell value: its ``legacy.text_flag`` (0, 1 or 2; 0 for a value
#: that is not text) in the low bits, and the bits below.
_LEGACY_BITS = 3
#: Not a text, or a text that ``cell_text`` changes (not NFC, white space to collapse).
_NOT_OWN_TEXT = 4
#: A value whose ``cell_text`` is longer than ``MAX_CELL_CHARS``.
_LONG_TEXT = 8
_CELL_FLAGS_MAX = 1 << 17


class _CellFlags(dict[object, int]):
    """``_cell_flag`` of the cell values seen, per process: the same texts recur on every sheet.

    ``flags[value]`` judges a value not seen before on the spot, so a sheet is read in one
    pass of look-ups, in C, whether or not it holds new values (most sheets hold a few: the
    unit's name, its figures).
    """

    def __missing__(self, value: object) -> int:
        if len(self) >= _CELL_FLAGS_MAX:
            self.clear()
        flag = self[value] = _cell_flag(value)
        return flag


_CELL_FLAGS = _CellFlags()


def _cell_flag(value: object) -> int:
    """Judge one cell value for ``_scan_sheet``.

    The memo is keyed by value, so values equal across types (``1``, ``1.0``, ``True``) share
    an answer: it is the same for all of them (not own text; their texts are short).
    """
    text = cell_text(value)
    flag = _LONG_TEXT if len(text) > MAX_CELL_CHARS else 0
    if isinstance(value, str):
        flag |= legacy.text_flag(value)
    if type(value) is not str or text != value:
        flag |= _NOT_OWN_TEXT
    return flag


@dataclass
class _SheetScan:
    """What one pass over a sheet's distinct cell values found (see ``_scan_sheet``)."""

    #: the ``legacy.text_flag`` of its values (0 for values that are not text)
    legacy_flags: set[int]
    #: some cell's text is longer than ``MAX_CELL_CHARS``
    long_text: bool
    #: the values whose text is not the value itself (numbers, dates, text not in NFC)
    changed: set[object]


def _scan_sheet(rows: list[list[Any]]) -> _SheetScan | None:
    """Judge a sheet's distinct cell values at once, or None when a cell cannot be hashed.

    Each distinct value is judged once per process (``_CellFlags``; a sheet repeats its texts
    and empty cells, and sheets repeat each other's), so a sheet is read with one look-up per
    cell, in C; the legacy-text check, the cell texts and the long-cell check all read the
    answer.
    """
    flag_of = _CELL_FLAGS.__getitem__
    try:
        flags = set(map(flag_of, chain.from_iterable(rows)))
    except TypeError:  # an unhashable cell
        return None
    union = 0
    for flag in flags:
        union |= flag
    changed = ({v for v in chain.from_iterable(rows) if flag_of(v) & _NOT_OWN_TEXT}
               if union & _NOT_OWN_TEXT else set())
    return _SheetScan({f & _LEGACY_BITS for f in flags}, bool(union & _LONG_TEXT), changed)


def _loc(p: Path) -> Location:
    return Location(file=p.name)


def _check_file(p: Path, parts: dict[str, bytes] | None = None,
                unpacked: list[bytes] | None = None) -> None:
    """Refuse files that are not workbooks (or are hostile) before handing them to a reader.

    The XML parts the check reads whole are kept in ``parts`` for the sheet and style scans;
    the package with those parts stored uncompressed is appended to ``unpacked`` for the cell
    reader (see ``sniff.check_workbook_file``).
    """
    from ntm_analysis.sniff import check_workbook_file

    check_workbook_file(p, parts=parts, unpacked=unpacked)
