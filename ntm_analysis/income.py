"""Income series: per-capita income per unit and year, its growth, progress and thresholds.

``load_income`` reads income tables in two layouts of the appendix family:

* wide — one row per unit, one column per year ("Năm 2019 … Năm 2023 | Mục tiêu năm 2024");
* tall — one row per unit × year ("Đơn vị | Năm | Thu nhập | Mục tiêu" or a "Loại" column saying
  "Thực hiện"/"Mục tiêu").

``compute_progress`` implements the Open SDG progress measure (sdg-build's ``ProgressMeasure``,
methodology 2 with a target, methodology 1 without) and keeps every intermediate value.
``threshold_test`` compares income with each unverified reading of the model-commune threshold.
Values are million VND per person per year.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

import pandas as pd

from ntm_analysis.budget import (
    _NOTE_PREFIX,
    SCALE_NAMES,
    Grid,
    _as_paths,
    _find_header,
    _grids,
    _header_block,
    column_roles,
    commune_key,
    communes_of,
    formula_issues,
    issues_frame,
    only_commune,
    raise_if_not_found,
    role_of,
    scale_of,
    select_commune,
    title_communes,
)
from ntm_analysis.errors import InputError, Location, ParameterError
from ntm_analysis.i18n import t, term
from ntm_analysis.load import canonical_unit, name_as_written, unit_names
from ntm_analysis.parse import (
    money_scale,
    money_unit_named,
    names_period,
    parse_number,
    parse_value,
)
from ntm_analysis.schema import Iss, Severity, _Schema, conform, empty_frame
from ntm_analysis.sheetxml import EXCEL_ERRORS, error_text_problem
from ntm_analysis.text import HAMLET_WORDS, cell_text, fold, nfc

log = logging.getLogger(__name__)

OBSERVED, TARGET = "observed", "target"
POSITIVE, NEGATIVE = "positive", "negative"

#: Open SDG default thresholds (methodology 2: ratio of growths; methodology 1: growth itself).
THRESHOLDS_WITH_TARGET = {"high": 0.95, "med": 0.6, "low": 0.0}
THRESHOLDS_WITHOUT_TARGET = {"high": 0.015, "med": 0.005, "low": 0.0}

TARGET_ACHIEVED = "target_achieved"
SUBSTANTIAL = "substantial_progress"
MODERATE = "moderate_progress"
LIMITED = "limited_progress"
DETERIORATION = "deterioration"
NOT_AVAILABLE = "not_available"

class IncomeSeries(_Schema):
    """The tidy income table: one row per unit × year × kind (observed or target)."""

    source_file = "source_file"
    source_sheet = "source_sheet"
    source_row = "source_row"
    unit = "unit"
    level = "level"
    commune = "commune"
    year = "year"
    kind = "kind"
    value = "value"
    note = "note"

    dtypes = {
        source_file: "string", source_sheet: "string", source_row: "Int64", unit: "string",
        level: "string", commune: "string", year: "Int64", kind: "string", value: "Float64",
        note: "string",
    }


S = IncomeSeries


@dataclass
class IncomeResult:
    """What ``load_income`` returns: the series and every issue found."""

    series: pd.DataFrame
    issues: pd.DataFrame


# --------------------------------------------------------------------------- loading

#: An observed year's header: "Năm 2023", "2023", "TH 2023", "Thực hiện năm 2023", "Kết quả
#: 2023", "Sơ bộ 2023" (a preliminary figure), "Năm 2023 (sơ bộ)".
_YEAR_HEAD = re.compile(r"^(?:(?:th|thuc hien|ket qua|ket qua thuc hien|so bo|so lieu)\s+)?"
                        r"(?:nam\s+)?(20\d{2}|19\d{2})(?:\s+so bo)?$")
#: An estimate's header: "Ước TH 2024", "Ước thực hiện năm 2024", "Năm 2024 (ước)", "2024 ước tính".
_ESTIMATE_HEAD = re.compile(r"^(?:uoc\s+(?:th\s+|thuc hien\s+|tinh\s+)?)?(?:nam\s+)?"
                            r"(20\d{2}|19\d{2})(?:\s+uoc(?:\s+(?:th|thuc hien|tinh))?)?$")
#: (the last year named: "Mục tiêu 2021-2025" is a target for 2025, the period's end)
_TARGET_HEAD = re.compile(r"^(?:muc tieu|ke hoach|chi tieu|kh|mt|phan dau)\b.*(20\d{2})")
_TARGET_KIND = ("muc tieu", "ke hoach", "chi tieu", "phan dau", "kh", "mt")


def _year_column(text: str) -> tuple[str, int] | None:
    """Return (kind, year) of a wide-table year header, or ``None``.

    Examples
    --------
    >>> _year_column("Năm 2019"), _year_column("Mục tiêu năm 2024"), _year_column("2021")
    (('observed', 2019), ('target', 2024), ('observed', 2021))
    >>> _year_column("Ghi chú") is None
    True
    >>> _year_column("Ước TH 2024"), _year_column("Năm 2024 (ước)")  # estimates: observed
    (('observed', 2024), ('observed', 2024))
    >>> _year_column("Mục tiêu giai đoạn 2021-2025")  # a period's target: its end (was 2021)
    ('target', 2025)
    >>> _year_column("TH 2022"), _year_column("Thực hiện năm 2023")  # (they were not read)
    (('observed', 2022), ('observed', 2023))
    """
    key = fold(text)
    m = _YEAR_HEAD.match(key) or _ESTIMATE_HEAD.match(key)
    if m:
        return OBSERVED, int(m.group(1))
    m = _TARGET_HEAD.match(key)
    if m:
        return TARGET, int(m.group(1))
    return None


def unit_level(unit: str) -> str:
    """Return "commune" or "hamlet" for a unit name ("Xã Kim Phượng", "Xóm Ao Sen").

    Examples
    --------
    >>> unit_level("Xã Kim Phượng"), unit_level("Xóm Ao Sen"), unit_level("Kim Phượng")
    ('commune', 'hamlet', 'commune')
    """
    return canonical_unit(unit)[1]


def _value(raw: object) -> float | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw) if math.isfinite(raw) else None
    text = cell_text(raw)
    match = re.match(r"^\s*[\d.,]+", text)
    return parse_number(match.group(0).strip().rstrip(".,")) if match else None


def _cell_scale(raw: object) -> tuple[float, bool] | None:
    """Multiplier to million VND of a cell naming its own money unit ("54.030.000 đồng",
    "4,5 triệu/tháng": a year's) and whether it names the period; ``None`` for a bare number:
    the table's unit applies to it.

    >>> _cell_scale("54.030.000 đồng"), _cell_scale("4,5 triệu/tháng"), _cell_scale(54.03)
    ((1e-06, False), (12.0, True), None)
    """
    if not isinstance(raw, str):
        return None
    unit = parse_value(raw).unit
    scale = money_scale(unit)
    return (scale / 1e6, names_period(unit)) if unit and scale else None


def _row_scale(unit_text: str) -> tuple[float, bool] | None:
    """Multiplier to million VND of a row's unit cell (its "ĐVT": "Nghìn đồng/người/năm",
    "1000đ", "Tr.đ/người/tháng": a year's) and whether it names the period, as ``_cell_scale``
    gives a cell's; ``None`` when it names no money.

    >>> _row_scale("Nghìn đồng/người/năm"), _row_scale("Tr.đ/người/tháng"), _row_scale("%")
    ((0.001, True), (12.0, True), None)
    """
    worth = money_unit_named([f"ĐVT: {unit_text}"]) if unit_text else None
    if worth is None:
        return None
    per_month = bool(_PER_MONTH.search(fold(unit_text)))
    return worth / 1e6 * (12 if per_month else 1), per_month or names_period(unit_text)


def _bad_income(grid: Grid, row: int, column: str, raw: object) -> dict[str, object]:
    """The issue of an income cell that holds no number: an Excel error kept as text ("#N/A")
    is a warning saying so, anything else an error (``bad_income``)."""
    text = cell_text(raw)
    if text.upper() in EXCEL_ERRORS:
        return _issue(grid, row, column, raw, error_text_problem(text), Severity.warning,
                      "excel_error")
    return _issue(grid, row, column, raw, "expected an income in million VND per person",
                  Severity.error, "bad_income")


def _is_income_sheet(grid: Grid, upto: int) -> bool:
    texts = [grid.sheet] + [cell_text(v) for r in range(min(upto + 1, len(grid.rows)))
                            for v in grid.rows[r]]
    return any("thu nhap" in fold(t) for t in texts if t)


def _issue(grid: Grid, row: int | None, column: str | None, value: object, problem: str,
           severity: str, code: str) -> dict[str, object]:
    return {Iss.source_file: grid.file, Iss.source_sheet: grid.sheet, Iss.source_row: row,
            Iss.column: column, Iss.value: None if value is None else str(value),
            Iss.problem: problem, Iss.severity: severity, Iss.code: code}


def _is_summary(unit: str) -> bool:
    """Whether a wide table's unit cell names a summary row, not a unit: "Bình quân (chung,
    các xóm)", "Trung bình", "Tổng", "Tổng cộng", "Cộng" (read as a unit, it would be a second
    "commune" of the table and leave its hamlets without one).

    >>> [_is_summary(u) for u in ("Bình quân các xóm", "Tổng cộng", "Xóm Tống Xá", "Toàn xã")]
    [True, True, False, False]
    """
    key = fold(unit)
    return key in {"tong", "cong", "tong so"} or key.startswith(
        ("binh quan", "trung binh", "tong cong"))


#: A year in an income table's year column.
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
#: How a note row starts: the budget table's words, and any "Nguồn" (source) line.
_NOTE_WORDS = (*_NOTE_PREFIX, "nguon")


def _not_read(grid: Grid, r: int, header: int, filled: list[int],
              issues: list[dict[str, object]], *, what: str) -> None:
    """Record why row ``r`` (0-based) of an income table was not read, unless it is blank.

    ``filled`` are the row's columns holding an income: with some, the row lacks its
    ``what`` ("unit name", "single year") and its figures are not read: a warning naming the
    first such column (a summary row, "Bình quân 2019-2023" or a growth rate, is one too: the
    warning lets the reader judge); without, it is a note (``footer_row``), a heading or a
    unit with no income (``row_not_read``), with its text.
    """
    shown = grid.row_text(r)
    if not shown:
        return
    if fold(shown).startswith(_NOTE_WORDS):
        issues.append(_issue(grid, r + 1, None, shown, "note row (not data); not read",
                             Severity.info, "footer_row"))
    elif filled:
        issues.append(_issue(grid, r + 1, cell_text(grid.cell(header, filled[0])) or None,
                             shown, f"row has an income but no {what}; not read",
                             Severity.warning, "income_row_incomplete"))
    else:
        issues.append(_issue(grid, r + 1, None, shown, f"row has no {what}: nothing read",
                             Severity.info, "row_not_read"))


def _note(grid: Grid, r: int, note_col: int | None, *, estimate: bool) -> str | None:
    """A wide row's note (its "Ghi chú" cell), with "ước tính" for a value from an estimate's
    column ("Ước TH 2024"), so that an estimate is never shown as a year's final figure."""
    parts = [cell_text(grid.cell(r, note_col)) if note_col is not None else "",
             "ước tính" if estimate else ""]
    return "; ".join(p for p in parts if p) or None


#: How a wide table names the commune itself on its row: "Toàn xã", "Chung toàn xã", "Cả xã",
#: "Bình quân (chung) toàn xã", a bare "Xã".
_WHOLE_COMMUNE = re.compile(r"^(?:(?:binh quan|trung binh)\s+)?(?:chung\s+)?(?:toan|ca)\s+xa$"
                            r"|^xa$")


def _named_communes(grid: Grid, header: int) -> list[str]:
    """The communes the rows above a table's header (its title) and the sheet name name."""
    title = [cell_text(v) for row in grid.rows[:header] for v in row if cell_text(v)]
    return title_communes([*title, grid.sheet])


def _whole_commune(grid: Grid, r: int, unit: str, named: list[str],
                   issues: list[dict[str, object]]) -> str:
    """The unit of a row written "Toàn xã" (``_WHOLE_COMMUNE``): the commune the title names
    (``named``), else the text as written, with a warning."""
    if len(named) == 1:
        return f"Xã {named[0]}"
    issues.append(_issue(grid, r + 1, None, unit,
                         f"'{unit}' is the whole commune, but the title names "
                         f"{'no commune' if not named else 'several communes'}; read under "
                         "that name (name the commune in the title)", Severity.warning,
                         "whole_commune_unnamed"))
    return unit


def _hamlet_word(header: str) -> str | None:
    """The hamlet word a unit column's header names ("Tên xóm" → "Xóm", "Thôn" → "Thôn"), or
    ``None`` (also for a header naming the commune too: "Xã/xóm", "Đơn vị").

    >>> _hamlet_word("Tên xóm"), _hamlet_word("THÔN")
    ('Xóm', 'Thôn')
    >>> _hamlet_word("Xã/xóm"), _hamlet_word("Đơn vị")
    (None, None)
    """
    words = re.findall(r"\w+", nfc(header).lower())
    if "xã" in words:
        return None
    return next((w.capitalize() for w in words if w in HAMLET_WORDS), None)


def _in_hamlet_column(unit: str, word: str | None, named: list[str]) -> str:
    """A unit cell under a hamlet column ("Tên xóm"): a bare name is that hamlet's ("Cạm
    Phước" → "Xóm Cạm Phước", as the indicator tables name it; it was a commune), and so is a
    name that starts with a word of the kind ("Bản Lác" → "Xóm Bản Lác"); a name with its own
    prefix, or the commune the title names, is kept."""
    if word is None or commune_key(unit) in {commune_key(n) for n in named}:
        return unit
    found = unit_names(unit)
    if not found or not fold(unit).startswith(fold(found[0][0])):
        return f"{word} {unit}"
    prefix, name = name_as_written(*found[0], word)
    return unit if prefix == found[0][0] else f"{prefix} {name}"


def _read_wide(grid: Grid, header: int, unit_col: int, note_col: int | None,
               years: dict[int, tuple[str, int]], issues: list[dict[str, object]],
               dvt_col: int | None = None) -> list[dict]:
    estimates = {c for c in years if "uoc" in fold(cell_text(grid.cell(header, c))).split()}
    named = _named_communes(grid, header)
    word = _hamlet_word(_column_texts(grid, header)[unit_col])
    records = []
    for r in range(header + 1, len(grid.rows)):
        unit = cell_text(grid.cell(r, unit_col))
        filled = [c for c in years if cell_text(grid.cell(r, c)) not in {"", "-"}]
        if not unit or fold(unit).startswith(_NOTE_WORDS) or not filled:
            _not_read(grid, r, header, filled, issues, what="income" if unit else "unit name")
            continue
        if _WHOLE_COMMUNE.match(fold(unit)):  # the commune's own row, named by the title
            unit = _whole_commune(grid, r, unit, named, issues)
        elif _is_summary(unit):
            issues.append(_issue(grid, r + 1, None, grid.row_text(r),
                                 "summary row (an average or total of the units); not read as "
                                 "a unit", Severity.info, "summary_row"))
            continue
        else:
            unit = _in_hamlet_column(unit, word, named)
        # the row's unit column ("ĐVT: Nghìn đồng/người/năm"), for a cell naming none
        row_scale = _row_scale(cell_text(grid.cell(r, dvt_col))) if dvt_col is not None \
            else None
        for c, (kind, year) in years.items():
            raw = grid.cell(r, c)
            if raw is None or cell_text(raw) in {"", "-"}:
                continue
            value = _value(raw)
            if value is None:
                issues.append(_bad_income(grid, r + 1, cell_text(grid.cell(header, c)), raw))
                continue
            records.append({S.source_file: grid.file, S.source_sheet: grid.sheet,
                            S.source_row: r + 1, S.unit: canonical_unit(unit)[0],
                            S.level: unit_level(unit),
                            S.year: year, S.kind: kind, S.value: value,
                            S.note: _note(grid, r, note_col, estimate=c in estimates),
                            _OWN_SCALE: _cell_scale(raw) or row_scale,
                            _ESTIMATE: c in estimates})
    return records


def _read_tall(grid: Grid, header: int, roles: dict[int, str],
               issues: list[dict[str, object]]) -> list[dict]:
    col = {role: c for c, role in roles.items()}
    title = " ".join(cell_text(v) for r in range(header) for v in grid.rows[r] if cell_text(v))
    m = re.search(r"\b(xã|xóm|thôn)\s+([A-ZĐÀ-Ỹ][^\s(,;]*(?:\s+[A-ZĐÀ-Ỹ][^\s(,;]*)*)", title,
                  re.IGNORECASE)
    default_unit = f"{m.group(1).capitalize()} {m.group(2)}" if m else grid.sheet
    named = _named_communes(grid, header)
    word = _hamlet_word(cell_text(grid.merged_cell(header, col["unit"]))) if "unit" in col \
        else None
    records = []
    for r in range(header + 1, len(grid.rows)):
        # one year ("2023", "Năm 2023", "2023 (ước)"); a period ("Bình quân 2019-2023") is
        # a summary row, not a year's
        found = _YEAR.findall(cell_text(grid.cell(r, col["year"])))
        filled = [col[role] for role in ("value", "target") if role in col
                  and cell_text(grid.cell(r, col[role])) not in {"", "-"}]
        # a note may name a year ("Ghi chú: năm 2024 là mục tiêu"): still a note
        if len(found) != 1 or not filled or fold(grid.row_text(r)).startswith(_NOTE_WORDS):
            _not_read(grid, r, header, filled, issues,
                      what="income" if len(found) == 1 else "single year")
            continue
        year = int(found[0])
        # (a unit's name merged down its years' rows is each row's)
        unit = cell_text(grid.merged_cell(r, col["unit"])) if "unit" in col else default_unit
        if not unit:  # a unit column left blank: not the title's unit
            _not_read(grid, r, header, filled, issues, what="unit name")
            continue
        if _WHOLE_COMMUNE.match(fold(unit)):
            unit = _whole_commune(grid, r, unit, named, issues)
        elif "unit" in col:
            unit = _in_hamlet_column(unit, word, named)
        kind_text = fold(cell_text(grid.cell(r, col["kind"]))) if "kind" in col else ""
        base_kind = TARGET if kind_text.startswith(_TARGET_KIND) else OBSERVED
        # "2023 (ước)" in the year column or "Ước thực hiện" in the kind column
        estimate = base_kind == OBSERVED and (kind_text.startswith("uoc") or "uoc" in fold(
            cell_text(grid.cell(r, col["year"]))).split())
        note = "; ".join(p for p in (cell_text(grid.cell(r, col["note"])) if "note" in col
                                     else "", "ước tính" if estimate else "") if p)
        row_scale = _row_scale(cell_text(grid.cell(r, col["value_unit"]))) \
            if "value_unit" in col else None
        for role, kind in (("value", base_kind), ("target", TARGET)):
            if role not in col:
                continue
            raw = grid.cell(r, col[role])
            if raw is None or cell_text(raw) in {"", "-"}:
                continue
            value = _value(raw)
            if value is None:
                issues.append(_bad_income(grid, r + 1, cell_text(grid.cell(header, col[role])),
                                          raw))
                continue
            records.append({S.source_file: grid.file, S.source_sheet: grid.sheet,
                            S.source_row: r + 1, S.unit: canonical_unit(unit)[0],
                            S.level: unit_level(unit), S.year: year,
                            S.kind: kind, S.value: value, S.note: note or None,
                            _OWN_SCALE: _cell_scale(raw) or row_scale,
                            _ESTIMATE: estimate and kind == OBSERVED})
    return records


#: A record's key for the money unit its own cell names (see ``_cell_scale``); removed by
#: ``_in_millions``.
_OWN_SCALE = "_own_scale"
#: A record's key: whether its value is an estimate ("Ước TH 2023"); removed by
#: ``_actuals_over_estimates``.
_ESTIMATE = "_estimate"


def _actuals_over_estimates(records: list[dict],
                            issues: list[dict[str, object]]) -> list[dict]:
    """Keep a unit's actual figure for a year over its estimate for that year ("TH 2023" beside
    "Ước TH 2023", the estimate made before the year closed): the estimate goes to the issues
    table (``info``, ``estimate_superseded``) instead of being a second value for the year."""
    def key(record: dict) -> tuple:
        return (record.get(S.commune), record[S.unit], record[S.kind], record[S.year])

    actual = {key(r): r for r in records if not r.get(_ESTIMATE)}
    kept = []
    for record in records:
        if record.pop(_ESTIMATE, False) and (found := actual.get(key(record))) is not None:
            issues.append({
                Iss.source_file: record[S.source_file], Iss.source_sheet: record[S.source_sheet],
                Iss.source_row: record[S.source_row], Iss.column: str(record[S.year]),
                Iss.value: f"{record[S.value]:g}",
                Iss.problem: f"{record[S.unit]}: the estimate for {record[S.year]} "
                f"({record[S.value]:g}) is not used: the year's actual figure, "
                f"{found[S.value]:g}, is ({found[S.source_file]}, sheet "
                f"'{found[S.source_sheet]}', row {found[S.source_row]})",
                Iss.severity: Severity.info,
                Iss.code: "estimate_superseded"})
            continue
        kept.append(record)
    return kept


#: A title or header giving a month's income (folded): "đồng/người/tháng", "hàng tháng".
_PER_MONTH = re.compile(r"\b(?:nguoi|ng|khau|dong|trieu|d) thang\b|\b(?:moi|hang) thang\b")
#: Incomes per person per year (million VND) outside this range are taken for a unit slip: a
#: table in nghìn đồng read as millions, or the reverse (Vietnam's rural average was about 50).
PLAUSIBLE_INCOME = (1.0, 1000.0)


def plausible(income: float) -> bool:
    """Whether an income can be million VND per person per year (``PLAUSIBLE_INCOME``): the
    readers warn of others, and no threshold or readiness condition takes them.

    >>> plausible(54.03), plausible(54_030)
    (True, False)
    """
    low, high = PLAUSIBLE_INCOME
    return low <= income <= high


def _in_millions(grid: Grid, header: int, records: list[dict],
                 issues: list[dict[str, object]]) -> list[dict]:
    """Convert a table's incomes to million VND per person when its title or header names
    another unit ("(nghìn đồng/người/năm)", "ĐVT: đồng"): an ``info`` row says so. Incomes
    still outside ``PLAUSIBLE_INCOME`` are kept and told in one warning per table
    (``income_implausible``), naming the first: a table in thousands with no unit written
    would otherwise pass 54,030 "million" for a commune's income and every threshold met."""
    texts = [grid.sheet] + [t for r in range(header + 1) for v in grid.rows[r]
                            if (t := cell_text(v))]
    scale = scale_of(texts)
    # "(triệu đồng/người/tháng)": a month's income, as statistics often give it
    months = 12 if any(_PER_MONTH.search(fold(t)) for t in texts) else 1
    converted = own_units = False
    for record in records:
        # a cell naming its unit ("54.030.000 đồng") is in that unit, the others the table's
        own = record.pop(_OWN_SCALE, None)
        # a cell naming its period ("4,5 triệu/tháng") needs no other; else the table's
        factor = own[0] * (1 if own[1] else months) if own else (scale or 1.0) * months
        own_units = own_units or factor != (scale or 1.0) * months
        if factor != 1.0:
            record[S.value] = round(record[S.value] * factor, 9)
            converted = True
    if converted:
        named = SCALE_NAMES.get(scale or 1.0, "triệu đồng (million VND)")
        named += " and the units some cells or rows (ĐVT) name" if own_units else ""
        per = " per month (× 12)" if months != 1 else ""
        issues.append(_issue(grid, header + 1, None, None,
                             f"incomes in {named}{per} converted to million VND per "
                             "person per year (the unit the reports use)", Severity.info,
                             "income_unit_converted"))
    odd = [r for r in records if not plausible(r[S.value])]
    if odd:
        first = odd[0]
        unit = SCALE_NAMES.get(scale or 1.0, "triệu đồng (million VND)")
        issues.append(_issue(
            grid, first[S.source_row], None, f"{first[S.value]:g}",
            f"{len(odd)} income(s) outside {PLAUSIBLE_INCOME[0]:g}–{PLAUSIBLE_INCOME[1]:,.0f} "
            "million VND per person per year "
            f"(first: {first[S.unit]}, {first[S.year]}: {first[S.value]:,g}) read as "
            f"{unit}: expected the unit in the title or header, e.g. '(triệu "
            "đồng/người/năm)' or '(nghìn đồng/người/năm)'; kept as read", Severity.warning,
            "income_implausible"))
    return records


def _with_communes(grid: Grid, header: int, records: list[dict]) -> list[dict]:
    """Give each record its commune: a commune row its own name; a hamlet row the one commune
    of its table (its commune row, else the title), or none when that is not one commune."""
    communes = {commune_key(r[S.unit]): r[S.unit] for r in records if r[S.level] == "commune"}
    if len(communes) != 1:
        communes = communes or {commune_key(n): n for n in _named_communes(grid, header)}
    table_commune = next(iter(communes.values())) if len(communes) == 1 else None
    for record in records:
        record[S.commune] = (record[S.unit] if record[S.level] == "commune"
                             else table_commune)
    return records


def _column_texts(grid: Grid, r: int, above: int = 2) -> list[str]:
    """The header texts of row ``r`` with, for a column blank there, the text of the nearest of
    the ``above`` rows over it that holds a header word ("Đơn vị", "Ghi chú", "TT"): a wide
    table's years may sit on a row of their own under a heading."""
    texts = [cell_text(v) for v in grid.rows[r]]
    for upper in range(r - 1, max(-1, r - 1 - above), -1):
        for c, v in enumerate(grid.rows[upper]):
            if c < len(texts) and not texts[c] and (t := cell_text(v)) and role_of(t, "income"):
                texts[c] = t
    return texts


def read_income_sheet(grid: Grid, issues: list[dict[str, object]]) -> list[dict] | None:
    """Return the income records of one sheet, or ``None`` when it holds no income table.

    Each record names its commune (see ``_with_communes``), so that one commune's series can be
    kept when a folder holds several.
    """
    for r in range(min(25, len(grid.rows))):
        years = {c: y for c, v in enumerate(grid.rows[r])
                 if (t := cell_text(v)) and (y := _year_column(t))}
        if len(years) >= 2 and _is_income_sheet(grid, r):
            # the years may sit under a heading row ("Thu nhập bình quân …" merged over
            # 2019 … 2023, "Đơn vị" beside it): each column's text is its lowest in the block
            texts = _column_texts(grid, r)
            unit_col = next((c for c, t in enumerate(texts)
                             if t and role_of(t, "income") == "unit"), None)
            if unit_col is None:
                unit_col = next((c for c, t in enumerate(texts) if t and c not in years
                                 and role_of(t, "income") not in ("item_no", "note",
                                                                  "value_unit")), None)
            if unit_col is None:
                continue
            note_col = next((c for c, t in enumerate(texts)
                             if t and role_of(t, "income") == "note"), None)
            dvt_col = next((c for c, t in enumerate(texts)
                            if t and role_of(t, "income") == "value_unit"), None)
            for c, t in enumerate(texts):
                if t and c not in years and c not in {unit_col, note_col, dvt_col} and role_of(
                        t, "income") != "item_no" and any(
                        cell_text(grid.cell(row, c)) for row in range(r + 1, len(grid.rows))):
                    issues.append(_issue(
                        grid, r + 1, t, None, "column is not a year's income (expected 'Năm "
                        "2023', 'Mục tiêu năm 2024', 'Ước TH 2024'); not read", Severity.info,
                        "column_not_read"))
            wide = _read_wide(grid, r, unit_col, note_col, years, issues, dvt_col)
            return _with_communes(grid, r, _in_millions(grid, r, wide, issues))
    start = _find_header(grid, "income", {"year"})
    if start is None or not _is_income_sheet(grid, start):
        return None
    rows = _header_block(grid, start, "income")
    roles = column_roles(grid, rows, "income")
    if not {"year"} <= set(roles.values()) or not {"value", "target"} & set(roles.values()):
        return None
    tall = dict(roles)
    records = _read_tall(grid, rows[-1], tall, issues)
    return _with_communes(grid, start, _in_millions(grid, rows[-1], records, issues))


def load_income(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
                sheets: Sequence[str] | None = None, commune: str | None = None,
                grids: Sequence[Grid] | None = None) -> IncomeResult:
    """Read the income tables (wide or tall) of one or more workbooks.

    Sheets with no income table are skipped with an ``info`` issue row. ``commune`` keeps only
    that commune's rows (its own and its hamlets', see ``budget.select_commune``); ``""``: the
    one commune the tables name (an error when they name several); ``None`` (default): every
    row. ``grids``: the sheets already read (``budget.read_grids``), as ``load_budget`` takes
    them.

    Raises
    ------
    InputError
        A file is missing or not a workbook, no income table was found in any file, the tables
        name several communes and ``commune`` is ``""``, or none is of ``commune``.
    """
    records: list[dict] = []
    issues: list[dict[str, object]] = []
    tables = 0
    files = _as_paths(paths)
    for grid in _grids(files, sheets, grids):
        found = read_income_sheet(grid, issues)
        if found is None:
            issues.append({Iss.source_file: grid.file, Iss.source_sheet: grid.sheet,
                           Iss.problem: "not an income table (no 'Thu nhập' title with year "
                           "columns or a 'Năm' column); sheet skipped",
                           Iss.severity: "info", Iss.code: "not_income"})
            continue
        tables += 1
        records.extend(found)
        issues.extend(formula_issues(grid))
    records = _actuals_over_estimates(records, issues)
    if tables == 0:
        raise InputError(Location(file=", ".join(p.name for p in files)),
                         "no income table found (expected 'Thu nhập' with 'Năm 2019 … Năm 2023' "
                         "columns or 'Đơn vị | Năm | Thu nhập' columns)")
    series = conform(pd.DataFrame(records), S) if records else empty_frame(S)
    series = series.sort_values([S.unit, S.kind, S.year, S.source_file, S.source_row],
                                kind="stable").reset_index(drop=True)
    if commune is not None:
        wanted = commune or only_commune(series, what="income")
        if wanted:
            series, left_out = select_commune(series, commune=wanted, what="income")
            raise_if_not_found(left_out)
            issues.extend(left_out.to_dict("records"))
    dupes = series.duplicated([S.unit, S.kind, S.year], keep=False)
    for _, group in series[dupes].groupby([S.unit, S.kind, S.year], sort=True):
        # hamlet names repeat across communes ("Xóm Ao Sen" of two communes): say so
        named = communes_of(group)
        hint = (f" (tables of communes {', '.join(named)}: keep one commune)"
                if len(named) > 1 else "")
        for _, row in group.iterrows():
            issues.append({
                Iss.source_file: row[S.source_file], Iss.source_sheet: row[S.source_sheet],
                Iss.source_row: row[S.source_row], Iss.column: str(row[S.year]),
                Iss.value: str(row[S.value]),
                Iss.problem: f"{row[S.unit]} has more than one {row[S.kind]} value for "
                f"{row[S.year]}{hint}", Iss.severity: Severity.error, Iss.code: "duplicate_year"})
    return IncomeResult(series=series, issues=issues_frame(issues))


# --------------------------------------------------------------------------- progress measure


def growth(current: float, base: float, current_year: float, base_year: float) -> float:
    """Compound annual growth rate from ``base`` in ``base_year`` to ``current``.

    Examples
    --------
    >>> round(growth(70, 54.03, 2024, 2023), 4)
    0.2956
    >>> growth(121, 100, 2022, 2020)
    0.10000000000000009
    """
    return (current / base) ** (1.0 / (current_year - base_year)) - 1.0


def progress_status(value: float | None, thresholds: dict[str, float], *,
                    target_achieved: bool = False) -> str:
    """Return the Open SDG status of a progress value against ``{'high', 'med', 'low'}``.

    Examples
    --------
    >>> t = THRESHOLDS_WITH_TARGET
    >>> [progress_status(v, t)
    ...  for v in (1.2, 0.95, 0.7, 0.0, -0.1, None)]  # doctest: +NORMALIZE_WHITESPACE
    ['substantial_progress', 'substantial_progress', 'moderate_progress', 'limited_progress',
     'deterioration', 'not_available']
    """
    if target_achieved:
        return TARGET_ACHIEVED
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_AVAILABLE
    if value >= thresholds["high"]:
        return SUBSTANTIAL
    if value >= thresholds["med"]:
        return MODERATE
    if value >= thresholds["low"]:
        return LIMITED
    return DETERIORATION


def _score(value: float | None, method: int, achieved: bool) -> float | None:
    """The Open SDG score in [-5, 5] for methodology 2 (None for methodology 1)."""
    if achieved:
        return 5.0
    if value is None or method != 2:
        return None
    if value >= THRESHOLDS_WITH_TARGET["med"]:
        return min(7.1429 * value - 4.2857, 5.0)
    return max(4.1667 * value - 2.5, -5.0)


PROGRESS_COLUMNS = [
    "unit", "level", "method", "direction", "direction_sign", "sign",
    "base_year", "base_value", "latest_year", "latest_value", "target_year", "target_value",
    "years_observed", "cagr_observed", "cagr_required_from_base", "progress_value",
    "threshold_high", "threshold_med", "threshold_low", "target_achieved", "progress_status",
    "score", "observed_annual_growth", "required_annual_growth", "projected_value",
    "projected_gap", "note",
]


def _progress_one(unit: str, level: str, observed: pd.DataFrame, targets: pd.DataFrame, *,
                  direction: str, base_year: int | None,
                  target_year: int | None) -> dict[str, object]:
    obs = observed.sort_values(S.year)
    years = [int(y) for y in obs[S.year]]
    values = [float(v) for v in obs[S.value]]
    row: dict[str, object] = {c: None for c in PROGRESS_COLUMNS}
    d = 1 if direction == POSITIVE else -1
    row.update(unit=unit, level=level, direction=direction, direction_sign=d,
               years_observed=len(years))
    if not years:
        row.update(progress_status=NOT_AVAILABLE, note="no observed value")
        return row
    latest_year, latest_value = years[-1], values[-1]
    # base year: the one asked for, else the next available year (as sdg-build), else the first
    by = years[0] if base_year is None else next((y for y in years if y >= base_year), None)
    row.update(latest_year=latest_year, latest_value=latest_value)
    # target: the one for the asked year, else the first after the latest year, else the last
    tgt = targets.sort_values(S.year)
    if target_year is not None:
        tgt = tgt[tgt[S.year] == target_year]
    later = tgt[tgt[S.year] > latest_year]
    chosen = later.iloc[0] if len(later) else (tgt.iloc[-1] if len(tgt) else None)
    target_value = float(chosen[S.value]) if chosen is not None else None
    t_year = int(chosen[S.year]) if chosen is not None else None
    method = 2 if target_value is not None else 1
    thresholds = THRESHOLDS_WITH_TARGET if method == 2 else THRESHOLDS_WITHOUT_TARGET
    row.update(method=method, target_year=t_year, target_value=target_value,
               threshold_high=thresholds["high"], threshold_med=thresholds["med"],
               threshold_low=thresholds["low"])
    achieved = target_value is not None and (
        latest_value >= target_value if d == 1 else latest_value <= target_value)
    notes = []
    if by is None or by >= latest_year:
        notes.append("need at least two observed years after the base year")
        row.update(base_year=by, target_achieved=achieved,
                   progress_status=progress_status(None, thresholds, target_achieved=achieved))
    else:
        base_value = values[years.index(by)]
        if base_value == 0:
            notes.append("base value 0 replaced by 0.001 (as sdg-build)")
            base_value = 0.001
        sign = -1 if base_value < 0 else 1
        row.update(base_year=by, base_value=base_value, sign=sign)
        if (base_value > 0) != (latest_value > 0):
            notes.append("base and latest values have different signs")
            row.update(progress_status=NOT_AVAILABLE)
        else:
            cagr_o = growth(latest_value, base_value, latest_year, by)
            row.update(cagr_observed=cagr_o, observed_annual_growth=cagr_o)
            if method == 2:
                assert target_value is not None and t_year is not None
                t = 0.001 if target_value == 0 else target_value
                cagr_r = growth(t, base_value, t_year, by) if t_year != by else float("nan")
                value = (sign * d * cagr_o / abs(cagr_r)
                         if cagr_r and not math.isnan(cagr_r) else None)
                row.update(cagr_required_from_base=cagr_r)
            else:
                value = sign * d * cagr_o
            row.update(progress_value=value, target_achieved=achieved,
                       progress_status=progress_status(value, thresholds,
                                                       target_achieved=achieved),
                       score=_score(value, method, achieved))
            if t_year is not None and t_year > latest_year:
                projected = latest_value * (1 + cagr_o) ** (t_year - latest_year)
                row.update(projected_value=projected,
                           projected_gap=(projected - target_value
                                          if target_value is not None else None))
    if target_value is not None and t_year is not None and t_year > latest_year \
            and latest_value > 0 and target_value > 0:
        row["required_annual_growth"] = growth(target_value, latest_value, t_year, latest_year)
    row["note"] = "; ".join(notes) or None
    return row


def check_direction(direction: object) -> str:
    """Return ``direction`` if it is "positive" or "negative"; raise ``ParameterError`` otherwise.

    Examples
    --------
    >>> check_direction("positive")
    'positive'
    """
    if direction not in (POSITIVE, NEGATIVE):
        raise ParameterError(
            f"direction must be 'positive' or 'negative' (got {direction!r}); say which way "
            "is better, it is never assumed")
    return str(direction)


def compute_progress(series: pd.DataFrame, *, direction: str, base_year: int | None = None,
                     target_year: int | None = None) -> pd.DataFrame:
    """Return the Open SDG progress measure per unit, with every intermediate value.

    Methodology 2 (a target exists): ``progress_value = sign × direction × CAGR_observed /
    |CAGR_required|``, where CAGR_observed runs from the base year to the latest year and
    CAGR_required from the base year to the target year; statuses: ``target_achieved`` when the
    latest value already meets the target, else ``substantial_progress`` (≥ 0.95),
    ``moderate_progress`` (0.6–0.95), ``limited_progress`` (0–0.6), ``deterioration`` (< 0).
    Methodology 1 (no target): the signed CAGR against 0.015 / 0.005 / 0.

    Also: ``required_annual_growth`` from the latest year to the target year, and a projection
    of the latest value to the target year on the observed CAGR.

    Parameters
    ----------
    series
        ``IncomeSeries`` rows (kinds ``observed`` and ``target``).
    direction
        ``"positive"`` (higher is better, as for income) or ``"negative"``; required, never
        defaulted.
    base_year
        First year of the observed growth (default: each unit's first year); one at or after
        the last observed year of every unit is a ``ParameterError``.
    target_year
        Use the target of this year (default: the first target after the latest year).

    Examples
    --------
    >>> s = pd.DataFrame({"unit": ["Xã K"] * 3, "level": ["commune"] * 3,
    ...     "year": [2021, 2023, 2024], "kind": ["observed", "observed", "target"],
    ...     "value": [40.0, 48.4, 70.0]})
    >>> p = compute_progress(s, direction="positive").iloc[0]
    >>> float(round(p["cagr_observed"], 4)), float(round(p["cagr_required_from_base"], 4))
    (0.1, 0.2051)
    >>> float(round(p["progress_value"], 4)), p["progress_status"]
    (0.4876, 'limited_progress')
    >>> float(round(p["required_annual_growth"], 4))
    0.4463
    """
    check_direction(direction)
    if base_year is not None:
        _check_base_year(base_year, series)
    rows = []
    for (unit, level), part in series.groupby([S.unit, S.level], sort=True, dropna=False):
        observed = part[(part[S.kind] == OBSERVED) & part[S.value].notna()]
        targets = part[(part[S.kind] == TARGET) & part[S.value].notna()]
        rows.append(_progress_one(str(unit), str(level), observed, targets, direction=direction,
                                  base_year=base_year, target_year=target_year))
    out = pd.DataFrame(rows, columns=PROGRESS_COLUMNS)
    for col in _PROGRESS_INTS:
        out[col] = out[col].astype("Int64")
    for col in _PROGRESS_FLOATS:
        out[col] = pd.to_numeric(out[col].astype("object"), errors="coerce").astype("float64")
    out["target_achieved"] = out["target_achieved"].astype("boolean")
    return out.reset_index(drop=True)


def _check_base_year(base_year: int, series: pd.DataFrame) -> None:
    """Refuse a base year from which no unit has a later observed year: every unit's observed
    growth would be unknown."""
    years = sorted({int(y) for y in series.loc[series[S.kind] == OBSERVED, S.year].dropna()})
    if years and base_year >= years[-1]:
        raise ParameterError(
            f"base year {base_year} (--base-year): the income tables observe "
            f"{years[0]}–{years[-1]}; the observed growth runs from the base year to a later "
            f"observed one: give a year before {years[-1]}")


_PROGRESS_INTS = ["method", "direction_sign", "sign", "base_year", "latest_year", "target_year",
                  "years_observed"]
_PROGRESS_FLOATS = ["base_value", "latest_value", "target_value", "cagr_observed",
                    "cagr_required_from_base", "progress_value", "threshold_high",
                    "threshold_med", "threshold_low", "score", "observed_annual_growth",
                    "required_annual_growth", "projected_value", "projected_gap"]


# --------------------------------------------------------------------------- thresholds

MODEL_COMMUNE = "xa_NTM_kieu_mau"


def load_income_thresholds() -> pd.DataFrame:
    """Return the package's income thresholds (both unverified readings, status per row)."""
    with resources.files("ntm_analysis").joinpath("data", "income_thresholds.csv").open(
        "r", encoding="utf-8"
    ) as fh:
        frame = pd.read_csv(fh, dtype={"year": "Int64", "threshold_million_vnd": "Float64"})
    return frame


THRESHOLD_COLUMNS = [
    "unit", "scenario", "threshold_level", "region", "threshold_year", "threshold_million_vnd",
    "value_year", "value", "value_basis", "margin", "ratio", "passes", "rule_text",
    "threshold_status", "source",
]


def threshold_test(series: pd.DataFrame, thresholds: pd.DataFrame, *, year: int,
                   level: str = MODEL_COMMUNE, unit_level_name: str = "commune",
                   progress: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compare commune income with every reading of the threshold of ``level`` in ``year``.

    For each commune unit and each threshold reading (``scenario``) of ``year`` this gives up to
    three rows: the observed value of ``year`` (or of the latest year before it), the projected
    value for ``year`` (from ``progress``) and the target for ``year``. ``passes`` is
    ``value ≥ threshold``; ``threshold_status`` says whether the reading is found or inferred.

    Examples
    --------
    >>> s = pd.DataFrame({"unit": ["Xã K"], "level": ["commune"], "year": [2023],
    ...     "kind": ["observed"], "value": [54.03]})
    >>> t = pd.DataFrame({"level": ["xa_NTM_kieu_mau"] * 2, "region": ["R"] * 2,
    ...     "year": [2023, 2023], "scenario": ["A", "B"], "threshold_million_vnd": [49.5, 55.0],
    ...     "rule_text": ["", ""], "status": ["inferred"] * 2, "source": ["", ""]})
    >>> threshold_test(s, t, year=2023)[["scenario", "value", "passes"]]
      scenario  value  passes
    0        A  54.03    True
    1        B  54.03   False
    """
    readings = thresholds[(thresholds["level"] == level) & (thresholds["year"] == year)]
    units = series[series[S.level] == unit_level_name]
    rows = []
    for unit, part in units.groupby(S.unit, sort=True):
        obs = part[(part[S.kind] == OBSERVED) & (part[S.year] <= year)].sort_values(S.year)
        candidates: list[tuple[str, int, float]] = []
        if len(obs):
            candidates.append((OBSERVED, int(obs.iloc[-1][S.year]), float(obs.iloc[-1][S.value])))
        if progress is not None:
            prog = progress[(progress["unit"] == unit) & (progress["target_year"] == year)]
            if len(prog) and pd.notna(prog.iloc[0]["projected_value"]):
                candidates.append(("projection", year, float(prog.iloc[0]["projected_value"])))
        tgt = part[(part[S.kind] == TARGET) & (part[S.year] == year)]
        if len(tgt):
            candidates.append((TARGET, year, float(tgt.iloc[0][S.value])))
        # an income no million figure can be (54,030: a table in thousands, told by the
        # warning income_implausible) is compared with no threshold
        candidates = [c for c in candidates if plausible(c[2])]
        for _, reading in readings.sort_values("scenario").iterrows():
            limit = float(reading["threshold_million_vnd"])
            for basis, vyear, value in candidates:
                rows.append({
                    "unit": unit, "scenario": reading["scenario"], "threshold_level": level,
                    "region": reading["region"], "threshold_year": year,
                    "threshold_million_vnd": limit, "value_year": vyear, "value": value,
                    "value_basis": basis, "margin": value - limit, "ratio": value / limit,
                    "passes": value >= limit, "rule_text": reading["rule_text"],
                    "threshold_status": reading["status"], "source": reading["source"],
                })
    return pd.DataFrame(rows, columns=THRESHOLD_COLUMNS).reset_index(drop=True)


# --------------------------------------------------------------------------- report section


@dataclass(frozen=True)
class IncomeSection:
    """What the readiness report's income section shows."""

    progress: pd.DataFrame
    thresholds: pd.DataFrame
    finding: str


def percent_text(value: float, lang: str) -> str:
    """A growth rate as the income texts write it: one decimal, ``29,6%`` in Vietnamese.

    >>> percent_text(0.2956, "vi"), percent_text(0.1, "en"), percent_text(float("nan"), "vi")
    ('29,6%', '10.0%', '—')
    """
    if value is None or math.isnan(value):
        return "—"
    text = f"{value * 100:.1f}%"
    return text.replace(".", ",") if lang == "vi" else text


def income_text(value: float, lang: str) -> str:
    """An income (million VND) as the income texts write it: two decimals, ``54,03``; ``—``
    when not known."""
    if value is None or math.isnan(value):
        return "—"
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "vi" else text


def readiness_section(series: pd.DataFrame, *, year: int, lang: str = "vi",
                      direction: str = POSITIVE,
                      thresholds: pd.DataFrame | None = None) -> IncomeSection:
    """Return the progress table, the threshold test and a one-sentence finding.

    The finding is about the commune (the first commune unit); ``thresholds`` defaults to the
    package table. ``direction`` is "positive" here because more income is better; pass it to
    say so explicitly.
    """
    progress = compute_progress(series, direction=direction)
    table = thresholds if thresholds is not None else load_income_thresholds()
    tests = threshold_test(series, table, year=year, progress=progress)
    communes = progress[progress["level"] == "commune"]
    if not len(communes):
        return IncomeSection(progress, tests, t("income.finding_none", lang))
    p = communes.iloc[0]
    obs = tests[(tests["unit"] == p["unit"]) & (tests["value_basis"] == OBSERVED)]
    parts = [f"{term('income.scenario', r['scenario'], lang)} "
             f"{income_text(r['threshold_million_vnd'], lang)}"
             for _, r in obs.iterrows()]
    finding = t("income.finding", lang, unit=p["unit"], latest=income_text(p["latest_value"], lang),
                latest_year=p["latest_year"])
    if p["target_value"] is not None and not pd.isna(p["target_value"]):
        finding += t("income.finding_target", lang, target=income_text(p["target_value"], lang),
                     target_year=p["target_year"],
                     required=percent_text(p["required_annual_growth"], lang),
                     observed=percent_text(p["observed_annual_growth"], lang),
                     status=term("income.status", p["progress_status"], lang).lower())
    if parts:
        finding += t("income.finding_thresholds", lang, year=year, readings=", ".join(parts))
    finding += "."
    return IncomeSection(progress, tests, finding)
