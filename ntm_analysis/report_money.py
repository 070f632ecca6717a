"""The money sections of the readiness report: funding (is the plan funded?) and income.

``load_money`` reads the budget lines and the income series from the same workbooks as the
indicator appendices (a workbook without such a table is simply not one of them; no table at all
is not an error). ``commune_income`` picks the income figure that condition 2 of Decision
319/QĐ-TTg is judged on, and says where it comes from. ``funding_report`` and ``income_report``
turn the loaded tables into what notebook 10 shows: a finding in words, tables formatted for
people (Vietnamese ``4.122`` / English ``4,122``), the raw tables to save, and provenance. The
``plot_*`` functions draw the section charts, or a short note when no table was given, so that
the notebook needs no branch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ntm_analysis import funding, income
from ntm_analysis.budget import Bud, commune_key, select_commune
from ntm_analysis.export import format_number
from ntm_analysis.i18n import check_lang, register, t, term
from ntm_analysis.parse import money_scale
from ntm_analysis.schema import Ind, Iss, Level, Prov, Severity, empty_frame
from ntm_analysis.text import fold

if TYPE_CHECKING:
    from matplotlib.axes import Axes

logger = logging.getLogger(__name__)

S = income.IncomeSeries

#: Where the income figure of condition 2 comes from, in order of preference.
FROM_TABLE, FROM_INDICATOR, FROM_PARAMETER, FROM_NONE = (
    "income_table", "indicator", "parameter", "none")
#: Accent-free words naming the per-capita income indicator; ratios ("so với") are left out.
INCOME_WORDS = "thu nhap binh quan"
RATIO_WORDS = "so voi"

register({
    "money.h_funding": {"vi": "## 2. Kinh phí thực hiện: kế hoạch đã đủ nguồn chưa?",
                        "en": "## 2. Funding: is the plan funded?"},
    "money.h_funding_level": {"vi": "### Theo cấp", "en": "### By level"},
    "money.h_funding_source": {"vi": "### Theo nguồn", "en": "### By source"},
    "money.h_funding_criteria": {
        "vi": "### Kinh phí cho các tiêu chí chưa đạt",
        "en": "### Funding for the unmet criteria"},
    "money.h_unfunded": {"vi": "### Tiêu chí chưa đạt chưa có kinh phí",
                         "en": "### Unmet criteria with no funding line"},
    "money.h_income": {"vi": "## 3. Thu nhập bình quân đầu người: có đạt mục tiêu không?",
                       "en": "## 3. Income per person: will it reach the target?"},
    "money.h_income_series": {"vi": "### Chuỗi số liệu (triệu đồng/người/năm)",
                              "en": "### The series (million VND per person per year)"},
    "money.h_income_progress": {
        "vi": "### Tăng trưởng đã đạt và cần thiết (thước đo tiến độ Open SDG)",
        "en": "### Observed and required growth (Open SDG progress measure)"},
    "money.h_income_threshold": {
        "vi": "### Ngưỡng thu nhập xã NTM kiểu mẫu: hai cách đọc (suy luận, chưa kiểm chứng)",
        "en": "### Model-commune income threshold: two readings (inferred, unverified)"},
    "money.no_budget": {
        "vi": "Không có bảng kinh phí trong {files} tệp đã đọc, nên không đánh giá được nguồn "
              "kinh phí.",
        "en": "No budget table was given ({files} files read), so the funding cannot be "
              "assessed."},
    "money.no_income": {
        "vi": "Không có bảng thu nhập trong {files} tệp đã đọc, nên không đánh giá được xu "
              "hướng thu nhập.",
        "en": "No income table was given ({files} files read), so the income trend cannot be "
              "assessed."},
    "money.by_level": {"vi": "Theo cấp: {parts}.", "en": "By level: {parts}."},
    "money.lines": {"vi": "{n} dòng kinh phí", "en": "{n} budget lines"},
    "money.notes": {"vi": "ghi chú của bảng: {notes}", "en": "table notes: {notes}"},
    "money.threshold_caveat": {
        "vi": "Ngưỡng thu nhập xã NTM kiểu mẫu năm {year} có hai cách đọc, cả hai đều là suy "
              "luận chưa kiểm chứng với văn bản chính thức: {readings}. Không dùng như ngưỡng "
              "chính thức.",
        "en": "The {year} model-commune income threshold has two readings, both inferred and "
              "not verified against the official text: {readings}. Not an official threshold."},
    "money.reading": {
        "vi": "cách đọc {scenario} ≥ {threshold}: {value} ({basis} {value_year}) {verdict}",
        "en": "reading {scenario} ≥ {threshold}: {value} ({basis} {value_year}) {verdict}"},
    "money.readings_disagree": {
        "vi": "Hai cách đọc cho kết quả khác nhau, nên điều kiện thu nhập chưa kết luận được.",
        "en": "The two readings disagree, so the income condition cannot be decided."},
    "money.no_threshold": {"vi": "Không có ngưỡng xã NTM kiểu mẫu cho năm {year}.",
                           "en": "No model-commune threshold for {year}."},
    "money.src.income_table": {
        "vi": "bảng thu nhập {file} (trang '{sheet}', dòng {row}), năm {year}",
        "en": "the income table {file} (sheet '{sheet}', row {row}), year {year}"},
    "money.src.indicator": {
        "vi": "chỉ tiêu {indicator_no} của bảng đánh giá {file} (trang '{sheet}', dòng {row})",
        "en": "indicator {indicator_no} of the assessment {file} (sheet '{sheet}', row {row})"},
    "money.src.parameter": {"vi": "tham số income_per_capita",
                            "en": "the income_per_capita parameter"},
    "money.src.none": {
        "vi": "không có (không có bảng thu nhập, chỉ tiêu thu nhập hay tham số "
              "income_per_capita)",
        "en": "none (no income table, income indicator or income_per_capita parameter)"},
    "money.col.level": {"vi": "Cấp", "en": "Level"},
    "money.col.total": {"vi": "Tổng (triệu đồng)", "en": "Total (million VND)"},
    "money.col.state": {"vi": "Ngân sách nhà nước", "en": "State budget"},
    "money.col.non_state": {"vi": "Nguồn khác", "en": "Other sources"},
    "money.col.unassigned": {"vi": "Chưa xác định nguồn", "en": "Source not given"},
    "money.col.committed": {"vi": "Đã bố trí", "en": "Allocated"},
    "money.col.shortfall": {"vi": "Còn thiếu", "en": "Still missing"},
    "money.col.lines": {"vi": "Số dòng", "en": "Lines"},
    "money.col.share": {"vi": "Tỷ trọng", "en": "Share"},
    "money.col.source": {"vi": "Nguồn", "en": "Source"},
    "money.col.source_group": {"vi": "Nhóm nguồn", "en": "Source group"},
    "money.col.amount": {"vi": "Số tiền (triệu đồng)", "en": "Amount (million VND)"},
    "money.col.indicators_not_met": {"vi": "CT chưa đạt", "en": "Ind. not met"},
    "money.col.funding_total": {"vi": "Kinh phí (triệu đồng)", "en": "Funding (million VND)"},
    "money.col.funding_direct": {"vi": "trong đó riêng của đơn vị", "en": "of which own"},
    "money.col.funding_shared": {"vi": "trong đó dùng chung", "en": "of which shared"},
    "money.col.funded": {"vi": "Có kinh phí", "en": "Funded"},
    "money.col.note": {"vi": "Ghi chú", "en": "Note"},
    "money.col.target": {"vi": "Mục tiêu {year}", "en": "Target {year}"},
    "money.col.base": {"vi": "Năm gốc → gần nhất", "en": "Base → latest year"},
    "money.col.latest_value": {"vi": "Giá trị gần nhất", "en": "Latest value"},
    "money.col.target_value": {"vi": "Mục tiêu", "en": "Target"},
    "money.col.observed_growth": {"vi": "Tăng đã đạt (/năm)", "en": "Observed growth (/yr)"},
    "money.col.required_growth": {"vi": "Tăng cần thiết (/năm)", "en": "Required growth (/yr)"},
    "money.col.progress_value": {"vi": "Tỷ số tiến độ", "en": "Progress ratio"},
    "money.col.progress_status": {"vi": "Mức tiến độ", "en": "Progress"},
    "money.col.projected_value": {"vi": "Dự báo theo xu hướng", "en": "Projected on trend"},
    "money.col.scenario": {"vi": "Cách đọc", "en": "Reading"},
    "money.col.threshold": {"vi": "Ngưỡng", "en": "Threshold"},
    "money.col.compared": {"vi": "So với", "en": "Compared value"},
    "money.col.value": {"vi": "Giá trị", "en": "Value"},
    "money.col.margin": {"vi": "Chênh lệch", "en": "Margin"},
    "money.col.passes": {"vi": "Kết quả", "en": "Result"},
    "money.col.basis": {"vi": "Cơ sở", "en": "Basis"},
    "money.col.rule": {"vi": "Quy tắc", "en": "Rule"},
    "money.yes": {"vi": "có", "en": "yes"},
    "money.no": {"vi": "không", "en": "no"},
    "money.inferred_unverified": {"vi": "suy luận, chưa kiểm chứng",
                                  "en": "inferred, unverified"},
    "money.found": {"vi": "có nguồn", "en": "found"},
    "money.basis.observed": {"vi": "thực hiện", "en": "observed"},
    "money.basis.projection": {"vi": "dự báo", "en": "projected"},
    "money.basis.target": {"vi": "mục tiêu", "en": "target"},
})


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class MoneyData:
    """The budget lines and the income series found beside the indicator appendices.

    ``budget`` / ``income`` are ``None`` when no workbook holds such a table; ``issues`` holds
    the problems found while reading them and the notes on rows and columns of the tables used
    that were not read (``_UNREAD_NOTES``), not the notes on sheets without such a table or on
    other communes' tables left out.
    """

    budget: pd.DataFrame | None = None
    income: pd.DataFrame | None = None
    issues: pd.DataFrame = field(default_factory=lambda: empty_frame(Iss))
    files_read: int = 0

    @property
    def budget_files(self) -> list[str]:
        return _files(self.budget, Bud.source_file)

    @property
    def income_files(self) -> list[str]:
        return _files(self.income, S.source_file)


def _files(frame: pd.DataFrame | None, column: str) -> list[str]:
    if frame is None or column not in frame.columns:
        return []
    return sorted({str(f) for f in frame[column].dropna()})


#: Codes of the ``info`` rows about rows or columns of a money table that were not read, which a
#: report lists (the other ``info`` rows of the money readers are left out: see ``load_money``).
_UNREAD_NOTES = ("footer_row", "row_not_read", "summary_row", "column_not_read",
                 "budget_column_not_read")


def load_money(paths: Iterable[str | os.PathLike[str]], *, year: int,
               commune: str | None = None,
               processed_dir: str | os.PathLike[str] | None = None,
               digests: Mapping[Path, str] | None = None) -> MoneyData:
    """Read the budget and income tables of ``paths``; a workbook without one is skipped.

    Each workbook is tried on its own, so one that holds only indicators (or cannot be read:
    the indicator loader reports that) never stops the others. Budget lines of other years than
    ``year`` are left out (lines with no year are kept, as a plan table often gives none).
    With ``commune``, only the tables of that commune are kept (``budget.select_commune``):
    another commune's tables are left out, and so are tables whose title names no commune when
    other communes' tables are present, each with an issue row naming the file. With
    ``processed_dir``, each workbook's tables come from its cache (``money_cache``) when the
    workbook is unchanged, and are kept there when it is read; ``digests`` (path → SHA-256,
    as an ingest found them) spares hashing the workbooks again.
    """
    from ntm_analysis.ingest import CACHE_DIR
    from ntm_analysis.money_cache import workbook_money

    files = [Path(p) for p in paths]
    cache = Path(processed_dir) / CACHE_DIR if processed_dir else None
    lines: list[pd.DataFrame] = []
    series: list[pd.DataFrame] = []
    issues: list[pd.DataFrame] = []
    for path in files:
        found = workbook_money(path, cache, (digests or {}).get(path))
        if found.lines is not None:
            lines.append(found.lines)
        if found.series is not None:
            series.append(found.series)
        issues.extend(i for i in (found.budget_issues, found.income_issues) if i is not None)
    budget = None
    if lines:
        budget = funding.lines_for_year(pd.concat(lines, ignore_index=True), year=year)
    table = pd.concat(series, ignore_index=True).reset_index(drop=True) if series else None
    if commune and budget is not None:
        budget, left_out = select_commune(budget, commune=commune, what="budget")
        issues.append(left_out)
        budget = budget if len(budget) else None
    if commune and table is not None:
        table, left_out = select_commune(table, commune=commune, what="income")
        issues.append(left_out)
        table = table if len(table) else None
    # notes (``info``) about a sheet without a budget or income table, or another commune's
    # table left out, would repeat for every workbook of a folder; those about rows of the
    # tables used that were not read (a note under the table, a sub-heading, a column of
    # growth rates) are kept
    used = {f for t in (budget, table) if t is not None for f in t[Prov.source_file].unique()}
    kept = [i[(i[Iss.severity].ne(Severity.info) | (i[Iss.code].isin(_UNREAD_NOTES)
                                                     & i[Iss.source_file].isin(used)))
              .fillna(True).astype(bool)] for i in issues]
    kept = [i for i in kept if len(i)]
    problems = pd.concat(kept, ignore_index=True) if kept else empty_frame(Iss)
    logger.info("money tables: %s budget lines, %s income rows, %d issues",
                "no" if budget is None else len(budget), "no" if table is None else len(table),
                len(problems))
    return MoneyData(budget=budget, income=table, issues=problems.reset_index(drop=True),
                     files_read=len(files))


# --------------------------------------------------------------------------- condition 2


@dataclass(frozen=True)
class IncomeFigure:
    """The commune's per-capita income used for condition 2, and where it comes from."""

    value: float | None
    year: int | None
    origin: str
    source_file: str | None = None
    source_sheet: str | None = None
    source_row: int | None = None
    indicator_no: str | None = None

    def describe(self, *, lang: str = "vi") -> str:
        """Say where the figure comes from, in ``lang``.

        >>> IncomeFigure(54.03, 2023, "income_table", "kp.xlsx", "Thu nhập", 5).describe()
        "bảng thu nhập kp.xlsx (trang 'Thu nhập', dòng 5), năm 2023"
        """
        return t(f"money.src.{self.origin}", lang, file=self.source_file, sheet=self.source_sheet,
                 row=self.source_row, year=self.year, indicator_no=self.indicator_no)


def commune_series(series: pd.DataFrame, *, commune: str) -> pd.DataFrame:
    """Keep the rows of ``commune`` (matched without accents, case or "Xã") and of its hamlets.

    A series from ``income.load_income`` names each row's commune, so another commune's hamlets
    are left out; in a series without that column every hamlet row is kept.

    Examples
    --------
    >>> s = pd.DataFrame({"unit": ["Kim Phượng", "Xóm Ao Sen", "Bảo Cường"],
    ...                   "level": ["commune", "hamlet", "commune"]})
    >>> commune_series(s, commune="xã kim phuong")["unit"].tolist()
    ['Kim Phượng', 'Xóm Ao Sen']
    """
    key = commune_key(commune)
    units = series[S.unit].astype("object").map(commune_key)
    hamlets = series[S.level].eq(Level.hamlet).fillna(False).astype(bool)
    if S.commune in series.columns:
        named = series[S.commune].astype("object").map(commune_key)
        hamlets &= named.eq(key) | (named.eq("") & ~(named.ne("") & named.ne(key)).any())
    keep = hamlets | units.eq(key)
    return series[keep.astype(bool)].reset_index(drop=True)


def commune_income(series: pd.DataFrame | None, attainment: pd.DataFrame, *, commune: str,
                   year: int, parameter: float | None = None) -> IncomeFigure:
    """Pick the income figure for condition 2: income table, else indicator, else parameter.

    1. the commune's latest observed value up to ``year`` in the income table;
    2. else the numeric value of the commune's per-capita income indicator (name containing
       "Thu nhập bình quân", not a ratio "so với") in the attainment table;
    3. else ``parameter`` (``None`` or 0: no figure).

    Examples
    --------
    >>> s = pd.DataFrame({"source_file": ["kp.xlsx"] * 3, "source_sheet": ["Thu nhập"] * 3,
    ...     "source_row": [5] * 3, "unit": ["Kim Phượng"] * 3, "level": ["commune"] * 3,
    ...     "year": [2022, 2023, 2024], "kind": ["observed", "observed", "target"],
    ...     "value": [49.1, 54.03, 70.0]})
    >>> f = commune_income(s, pd.DataFrame(), commune="Kim Phượng", year=2024, parameter=60.0)
    >>> f.value, f.year, f.origin
    (54.03, 2023, 'income_table')
    >>> commune_income(None, pd.DataFrame(), commune="Kim Phượng", year=2024,
    ...                parameter=60.0).origin
    'parameter'
    """
    if series is not None and len(series):
        key = commune_key(commune)
        mine = series[series[S.unit].astype("object").map(commune_key).eq(key)
                      & series[S.kind].eq(income.OBSERVED).fillna(False)
                      # not 54,030 "million" (a table in thousands)
                      & series[S.value].between(*income.PLAUSIBLE_INCOME).fillna(False)
                      & series[S.year].le(year).fillna(False)]
        if len(mine):
            row = mine.sort_values([S.year, S.source_file, S.source_row], kind="stable").iloc[-1]
            return IncomeFigure(float(row[S.value]), int(row[S.year]), FROM_TABLE,
                                str(row[S.source_file]), str(row[S.source_sheet]),
                                _int(row[S.source_row]))
    if len(attainment) and {Ind.indicator_name, Ind.value, Ind.level} <= set(attainment.columns):
        names = attainment[Ind.indicator_name].astype("object").map(
            lambda n: fold(n) if isinstance(n, str) else "")
        hits = attainment[names.str.contains(INCOME_WORDS, regex=False)
                          & ~names.str.contains(RATIO_WORDS, regex=False)
                          & attainment[Ind.level].eq(Level.commune).fillna(False).astype(bool)
                          & pd.to_numeric(attainment[Ind.value], errors="coerce").notna()]
        for _, row in hits.iterrows():
            value = _in_million_vnd(float(row[Ind.value]), row.get(Ind.value_unit))
            if value is None:
                continue
            found_year = row[Ind.year] if Ind.year in hits.columns else None
            return IncomeFigure(value, _int(found_year), FROM_INDICATOR,
                                str(row.get(Ind.source_file)), str(row.get(Ind.source_sheet)),
                                _int(row.get(Ind.source_row)), str(row.get(Ind.indicator_no)))
    if parameter is not None and not pd.isna(parameter) and parameter > 0:
        return IncomeFigure(float(parameter), None, FROM_PARAMETER)
    return IncomeFigure(None, None, FROM_NONE)


def _in_million_vnd(value: float, unit: object) -> float | None:
    """An income indicator's value in million VND per person: converted from the money unit
    it was written in ("54.030.000 đồng"); ``None`` when it is still outside
    ``income.PLAUSIBLE_INCOME`` (a number with no unit, in đồng or thousands), so that it is
    never compared with the thresholds as millions.

    >>> _in_million_vnd(54_030_000, "đồng"), _in_million_vnd(54.03, "triệu đồng/người/năm")
    (54.03, 54.03)
    >>> _in_million_vnd(54_030, None) is None, _in_million_vnd(54.03, None)
    (True, 54.03)
    """
    scale = money_scale(unit) if isinstance(unit, str) else None
    if scale:
        value = round(value * scale / 1e6, 9)
    return value if income.plausible(value) else None


def _int(value: object) -> int | None:
    if value is None or value is pd.NA:
        return None
    try:
        return None if pd.isna(value) else int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- formatting


def _n(value: object, lang: str, digits: int = 2) -> str:
    if value is None or value is pd.NA:
        return "—"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return "—" if pd.isna(number) else format_number(number, lang=lang, digits=digits)


def _pct(value: object, lang: str) -> str:
    """A share or a growth rate with one decimal, always ("8,0%" beside "83,3%", as the income
    texts write it), "—" when not known."""
    if value is None or value is pd.NA:
        return "—"
    return income.percent_text(float(value), lang)  # type: ignore[arg-type]


def _col(key: str, lang: str, **values: object) -> str:
    return t(f"money.col.{key}", lang, **values)


def _provenance(frame: pd.DataFrame, *, lang: str, extra: Sequence[str] = ()) -> str:
    pairs = frame[["source_file", "source_sheet"]].drop_duplicates().dropna(how="all")
    shown = sorted(t("prov.sheet", lang, file=f, sheet=s) for f, s in pairs.itertuples(index=False))
    text = t("prov.sources", lang, sources="; ".join(shown) or t("prov.none", lang))
    return "; ".join([text, *extra])


# --------------------------------------------------------------------------- funding


@dataclass(frozen=True)
class FundingReport:
    """What notebook 10's funding section shows (tables ``*_view`` are formatted text)."""

    given: bool
    finding: str
    by_level: pd.DataFrame
    by_source: pd.DataFrame
    by_criterion: pd.DataFrame
    gaps: pd.DataFrame
    level_view: pd.DataFrame
    source_view: pd.DataFrame
    criterion_view: pd.DataFrame
    gaps_view: pd.DataFrame
    lines: pd.DataFrame
    provenance: str


def funding_report(money: MoneyData, attainment: pd.DataFrame | None, *,
                   lang: str = "vi") -> FundingReport:
    """Return the funding section: the split by level and source, money against unmet criteria.

    Without a budget table every table is empty and the finding says that none was given;
    without an attainment table (``None`` or empty) the criteria tables are.

    Examples
    --------
    >>> lines = pd.DataFrame({"source_file": ["kp.xlsx"] * 2, "source_sheet": ["KP"] * 2,
    ...     "level": ["commune", "unspecified"], "hamlet": [None, None],
    ...     "criterion_no": ["6", None], "total": [3432.0, 330.0], "state": [3432.0, None],
    ...     "non_state": [None, None], "unassigned": [0.0, 330.0],
    ...     "state_unsplit": [3432.0, None]})
    >>> r = funding_report(MoneyData(budget=lines, files_read=1), pd.DataFrame(), lang="vi")
    >>> r.finding.split(":")[0], r.finding.split(", ")[-1].split(";")[0]
    ('Tổng kinh phí 3.762 triệu đồng', 'chưa xác định nguồn 330')
    >>> funding_report(MoneyData(files_read=3), pd.DataFrame(), lang="en").finding
    'No budget table was given (3 files read), so the funding cannot be assessed.'
    """
    check_lang(lang)
    lines = money.budget
    if lines is None:
        empty = pd.DataFrame()
        crit = pd.DataFrame(columns=funding.FUNDING_COLUMNS)
        return FundingReport(False, t("money.no_budget", lang, files=money.files_read), empty,
                             empty, crit, crit, empty, empty, empty, empty, empty,
                             t("prov.sources", lang, sources=t("prov.none", lang)))
    section = funding.readiness_section(
        lines, attainment if attainment is not None and len(attainment) else None, lang=lang)
    levels = section.by_level
    parts = "; ".join(f"{term('funding.level', r['level'], lang)} {_n(r['total'], lang)}"
                      for _, r in levels.iterrows() if r["total"] or r["lines"])
    finding = f"{section.finding} {t('money.by_level', lang, parts=parts)}"
    level_view = pd.DataFrame({
        _col("level", lang): [term("funding.level", v, lang) for v in levels["level"]],
        _col("total", lang): [_n(v, lang) for v in levels["total"]],
        _col("state", lang): [_n(v, lang) for v in levels[funding.STATE]],
        _col("non_state", lang): [_n(v, lang) for v in levels[funding.NON_STATE]],
        _col("unassigned", lang): [_n(v, lang) for v in levels[funding.UNASSIGNED]],
        **{_col(c, lang): [_n(v, lang) for v in levels[c]]
           for c in funding.GAP_COLUMNS if c in levels},
        _col("lines", lang): [int(v) for v in levels["lines"]],
        _col("share", lang): [_pct(v, lang) for v in levels["share"]],
    })
    sources = section.by_source
    source_view = pd.DataFrame({
        _col("source", lang): [term("funding.source", v, lang) for v in sources["source"]],
        _col("source_group", lang): [term("funding.source", v, lang)
                                         for v in sources["source_group"]],
        _col("amount", lang): [_n(v, lang) for v in sources["amount"]],
        _col("share", lang): [_pct(v, lang) for v in sources["share"]],
    })
    by_crit = section.by_criterion
    criterion_view = _criterion_view(by_crit, lang=lang, money=True)
    gaps_view = _criterion_view(section.gaps, lang=lang, money=False)
    notes = [t("money.lines", lang, n=len(lines))]
    return FundingReport(True, finding, levels, sources, by_crit, section.gaps, level_view,
                         source_view, criterion_view, gaps_view, lines,
                         _provenance(lines, lang=lang, extra=notes))


def _criterion_view(table: pd.DataFrame, *, lang: str, money: bool) -> pd.DataFrame:
    out = {
        t("col.unit", lang): table["unit"].astype("object").tolist(),
        t("col.criterion_no", lang): table["criterion_no"].astype("object").tolist(),
        t("col.criterion_name", lang): table["criterion_name"].astype("object").tolist(),
        _col("indicators_not_met", lang): [int(v) for v in table["indicators_not_met"]],
    }
    if money:
        out[_col("funding_total", lang)] = [_n(v, lang) for v in table["funding_total"]]
        out[_col("funding_direct", lang)] = [_n(v, lang) for v in table["funding_direct"]]
        out[_col("funding_shared", lang)] = [_n(v, lang) for v in table["funding_shared"]]
        out[_col("funded", lang)] = [t("money.yes" if bool(v) else "money.no", lang)
                                     for v in table["funded"]]
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- income


@dataclass(frozen=True)
class IncomeReport:
    """What notebook 10's income section shows (tables ``*_view`` are formatted text)."""

    given: bool
    finding: str
    series: pd.DataFrame
    progress: pd.DataFrame
    thresholds: pd.DataFrame
    series_view: pd.DataFrame
    progress_view: pd.DataFrame
    threshold_view: pd.DataFrame
    threshold_note: str
    provenance: str


def income_report(money: MoneyData, *, commune: str, year: int, lang: str = "vi",
                  thresholds: pd.DataFrame | None = None) -> IncomeReport:
    """Return the income section: series, observed vs required growth, progress, thresholds.

    The progress measure runs with ``direction="positive"`` (more income is better). The
    model-commune test shows every reading of ``year`` (both unverified) and says when they
    disagree. Without an income table the finding says that none was given.

    Examples
    --------
    >>> s = pd.DataFrame({"source_file": ["kp.xlsx"] * 3, "source_sheet": ["TN"] * 3,
    ...     "source_row": [5] * 3, "unit": ["Kim Phượng"] * 3, "level": ["commune"] * 3,
    ...     "year": [2019, 2023, 2024], "kind": ["observed", "observed", "target"],
    ...     "value": [38.5, 54.03, 70.0], "note": [None] * 3})
    >>> r = income_report(MoneyData(income=s), commune="Kim Phượng", year=2024, lang="vi")
    >>> r.progress_view.iloc[0, 5]  # required growth, from 54,03 to 70 in one year
    '29,6%'
    """
    check_lang(lang)
    if money.income is None:
        empty = pd.DataFrame()
        return IncomeReport(False, t("money.no_income", lang, files=money.files_read), empty,
                            empty, empty, empty, empty, empty, "",
                            t("prov.sources", lang, sources=t("prov.none", lang)))
    series = commune_series(money.income, commune=commune)
    section = income.readiness_section(series, year=year, lang=lang, direction=income.POSITIVE,
                                       thresholds=thresholds)
    progress, tests = section.progress, section.thresholds
    notes = sorted({str(n) for n in series[S.note].dropna() if str(n).strip()}) \
        if S.note in series.columns else []
    extra = [t("money.notes", lang, notes=" | ".join(notes))] if notes else []
    return IncomeReport(
        True, section.finding, series, progress, tests, series_view(series, lang=lang),
        progress_view(progress, lang=lang), threshold_view(tests, lang=lang),
        threshold_note(tests, year=year, lang=lang), _provenance(series, lang=lang, extra=extra))


def series_view(series: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """The income series as people read it: a row per unit (the commune first), a column per
    observed year and per target, and the notes."""
    obs = series[series[S.kind] == income.OBSERVED]
    tgt = series[series[S.kind] == income.TARGET]
    units = sorted(set(series[S.unit].dropna()), key=lambda u: (
        series.loc[series[S.unit] == u, S.level].iloc[0] != Level.commune, u))
    columns: dict[str, list[str]] = {t("col.unit", lang): units}
    for y in sorted({int(v) for v in obs[S.year].dropna()}):
        columns[str(y)] = [_n(_value(obs, u, y), lang) for u in units]
    for y in sorted({int(v) for v in tgt[S.year].dropna()}):
        columns[_col("target", lang, year=y)] = [_n(_value(tgt, u, y), lang) for u in units]
    columns[_col("note", lang)] = [
        "; ".join(sorted({str(n) for n in series.loc[series[S.unit] == u, S.note].dropna()}))
        for u in units]
    return pd.DataFrame(columns)


def _value(rows: pd.DataFrame, unit: str, year: int) -> float | None:
    hit = rows[(rows[S.unit] == unit) & (rows[S.year] == year)]
    return float(hit[S.value].iloc[0]) if len(hit) else None


def progress_view(progress: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """``income.compute_progress`` as people read it: observed and required growth, the
    progress status in words (the intermediate values stay in the saved table)."""
    def span(r: pd.Series) -> str:
        base, latest = _int(r["base_year"]), _int(r["latest_year"])
        return f"{base} → {latest}" if base is not None else str(latest or "—")

    def target(r: pd.Series) -> str:
        if pd.isna(r["target_value"]):
            return "—"
        return f"{_n(r['target_value'], lang)} ({_int(r['target_year'])})"

    return pd.DataFrame({
        t("col.unit", lang): progress["unit"].astype("object").tolist(),
        _col("base", lang): [span(r) for _, r in progress.iterrows()],
        _col("latest_value", lang): [_n(v, lang) for v in progress["latest_value"]],
        _col("target_value", lang): [target(r) for _, r in progress.iterrows()],
        _col("observed_growth", lang): [_pct(v, lang) for v in progress["observed_annual_growth"]],
        _col("required_growth", lang): [_pct(v, lang) for v in progress["required_annual_growth"]],
        _col("progress_value", lang): [_n(v, lang, 3) for v in progress["progress_value"]],
        _col("progress_status", lang): [term("income.status", v, lang)
                                        for v in progress["progress_status"]],
        _col("projected_value", lang): [_n(v, lang) for v in progress["projected_value"]],
    })


def _basis(status: object, lang: str) -> str:
    return t("money.found" if status == "found" else "money.inferred_unverified", lang)


def threshold_view(tests: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """``income.threshold_test`` as people read it: each reading by name, pass or fail, and
    its basis (inferred, unverified)."""
    return pd.DataFrame({
        t("col.unit", lang): tests["unit"].astype("object").tolist(),
        _col("scenario", lang): [term("income.scenario", sc, lang) for sc in tests["scenario"]],
        _col("threshold", lang): [_n(v, lang) for v in tests["threshold_million_vnd"]],
        _col("compared", lang): [f"{t('money.basis.' + str(b), lang)} {y}"
                                 for b, y in zip(tests["value_basis"], tests["value_year"],
                                                 strict=True)],
        _col("value", lang): [_n(v, lang) for v in tests["value"]],
        _col("margin", lang): [_n(v, lang) for v in tests["margin"]],
        _col("passes", lang): [t("income.passes" if bool(v) else "income.fails", lang)
                               for v in tests["passes"]],
        _col("basis", lang): [_basis(s, lang) for s in tests["threshold_status"]],
        _col("rule", lang): tests["rule_text"].astype("object").tolist(),
    })


def threshold_note(tests: pd.DataFrame, *, year: int, lang: str = "vi") -> str:
    """Say, for the latest observed income, what each threshold reading gives, and whether
    they disagree; every reading is labelled inferred/unverified, never official.

    Examples
    --------
    >>> tests = pd.DataFrame({"unit": ["K", "K"], "scenario": ["A", "B"],
    ...     "threshold_million_vnd": [55.0, 50.82], "value_basis": ["observed"] * 2,
    ...     "value_year": [2023, 2023], "value": [54.03, 54.03], "passes": [False, True],
    ...     "threshold_status": ["inferred"] * 2})
    >>> print(threshold_note(tests, year=2024, lang="en"))  # doctest: +NORMALIZE_WHITESPACE
    The 2024 model-commune income threshold has two readings, both inferred and not verified
    against the official text: reading A ≥ 55: 54.03 (observed 2023) fails; reading B ≥ 50.82:
    54.03 (observed 2023) passes. Not an official threshold. The two readings disagree, so the
    income condition cannot be decided.
    """
    observed = tests[tests["value_basis"] == income.OBSERVED]
    if observed.empty:
        return t("money.no_threshold", lang, year=year)
    first = observed[observed["unit"] == observed["unit"].iloc[0]]
    readings = "; ".join(
        t("money.reading", lang, scenario=term("income.scenario", r["scenario"], lang),
          threshold=_n(r["threshold_million_vnd"], lang), value=_n(r["value"], lang),
          basis=t("money.basis.observed", lang), value_year=_int(r["value_year"]),
          verdict=t("income.passes" if bool(r["passes"]) else "income.fails", lang))
        for _, r in first.iterrows())
    text = t("money.threshold_caveat", lang, year=year, readings=readings)
    if first["passes"].astype(bool).nunique() > 1:
        text += " " + t("money.readings_disagree", lang)
    return text


# --------------------------------------------------------------------------- charts


#: Characters per line of a note chart: 100 characters of 10-point text take about 7 of its
#: 8 inches (a wider line is not cut: ``outputs.render_png`` then widens the picture).
NOTE_WIDTH = 100


def _note_axes(text: str, ax: Axes | None) -> Axes:
    import textwrap

    from ntm_analysis.style import apply_style

    apply_style()
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 1.5))
    # wrapped by characters, not by matplotlib's wrap=True, which measures the line again
    # after every word (a note is one short sentence: one measure instead of twenty)
    ax.text(0.5, 0.5, textwrap.fill(text, NOTE_WIDTH), ha="center", va="center",
            transform=ax.transAxes)
    ax.set_axis_off()
    return ax


def plot_funding_split(report: FundingReport, *, ax: Axes | None = None,
                       lang: str = "vi") -> Axes:
    """Draw the waterfall from the total to each level (or say that no budget was given)."""
    from ntm_analysis import charts_money

    if not report.given:
        return _note_axes(report.finding, ax)
    return charts_money.plot_funding_split(report.lines, ax=ax, lang=lang)


def plot_funding_gaps(report: FundingReport, *, ax: Axes | None = None,
                      lang: str = "vi") -> Axes:
    """Draw funding against each unmet criterion (or say that no budget was given)."""
    from ntm_analysis import charts_money

    if not report.given:
        return _note_axes(report.finding, ax)
    return charts_money.plot_funding_by_criterion(report.by_criterion, ax=ax, lang=lang)


def plot_income(report: IncomeReport, *, ax: Axes | None = None, lang: str = "vi") -> Axes:
    """Draw the series, the projection and the target line (or say no income table was given)."""
    from ntm_analysis import charts_money

    if not report.given:
        return _note_axes(report.finding, ax)
    return charts_money.plot_income_trends(report.series, report.progress, ax=ax, lang=lang,
                                           thresholds=report.thresholds)


__all__ = [
    "FROM_INDICATOR", "FROM_NONE", "FROM_PARAMETER", "FROM_TABLE", "FundingReport",
    "IncomeFigure", "IncomeReport", "MoneyData", "commune_income", "commune_series",
    "progress_view", "series_view", "threshold_view",
    "funding_report", "income_report", "load_money", "plot_funding_gaps", "plot_funding_split",
    "plot_income", "threshold_note",
]
