"""Funding analysis: the split of a budget by level and source, and money against unmet criteria.

Pure compute functions over the line items of ``ntm_analysis.budget.load_budget`` (``Bud``
columns, million VND): the frame comes first, options are keyword-only, nothing is rounded and
the input is never modified.

Source groups: ``state`` is the state budget (central, province, district, commune, or an
unsplit "Ngân sách nhà nước" column); ``non_state`` is people's contribution, integrated
programmes (lồng ghép) and enterprises/other; ``unassigned`` is the part of each line's total
that no source column covers (the 330 million of report 46/BC-UBND).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ntm_analysis.budget import NON_STATE_SOURCES, SOURCES, STATE_SOURCES, Bud, Budget
from ntm_analysis.errors import ParameterError
from ntm_analysis.export import format_money
from ntm_analysis.i18n import t
from ntm_analysis.schema import Att, Ind, Status
from ntm_analysis.text import fold

STATE, NON_STATE, UNASSIGNED = "state", "non_state", "unassigned"
#: A funding-gap table's columns: allocated ("Đã bố trí") and still missing ("Còn thiếu").
GAP_COLUMNS = (Bud.committed, Bud.shortfall)
MAIN_LEVELS = (Budget.commune, Budget.model_hamlet, Budget.smart_hamlet)


def _gap_columns(lines: pd.DataFrame) -> list[str]:
    """The funding-gap columns (``GAP_COLUMNS``) some line of ``lines`` gives."""
    return [c for c in GAP_COLUMNS if c in lines and lines[c].notna().any()]


def _sum(series: pd.Series) -> float:
    return math.fsum(float(v) for v in series.dropna())


def split_by_level(lines: pd.DataFrame) -> pd.DataFrame:
    """Return the budget per level: total, state, non-state, unassigned, lines, share of total.

    The three levels of the plan are always present (zero when absent); ``unspecified`` appears
    when some line has no level.

    Examples
    --------
    >>> lines = pd.DataFrame({"level": ["commune", "model_hamlet"], "total": [90.0, 10.0],
    ...                       "state": [90.0, None], "non_state": [None, None],
    ...                       "unassigned": [0.0, 10.0]})
    >>> split_by_level(lines)[["level", "total", "state", "unassigned", "share"]]
              level  total  state  unassigned  share
    0       commune   90.0   90.0         0.0    0.9
    1  model_hamlet   10.0    0.0        10.0    0.1
    2  smart_hamlet    0.0    0.0         0.0    0.0
    """
    grand = _sum(lines[Bud.total])
    levels = list(MAIN_LEVELS) + [
        lv for lv in sorted(set(lines[Bud.level].dropna())) if lv not in MAIN_LEVELS]
    gap = _gap_columns(lines)  # a funding-gap table's amounts, per level (only when given)
    rows = []
    for level in levels:
        part = lines[lines[Bud.level] == level]
        total = _sum(part[Bud.total])
        rows.append({
            "level": level, "total": total, STATE: _sum(part[Bud.state]),
            NON_STATE: _sum(part[Bud.non_state]), UNASSIGNED: _sum(part[Bud.unassigned]),
            **{c: _sum(part[c]) for c in gap},
            "lines": len(part), "share": total / grand if grand else float("nan"),
        })
    return pd.DataFrame(rows).reset_index(drop=True)


def split_by_source(lines: pd.DataFrame) -> pd.DataFrame:
    """Return the budget per source column and source group, with its share of the total.

    Examples
    --------
    >>> lines = pd.DataFrame({"total": [100.0], "state_province": [60.0], "people": [10.0],
    ...                       "unassigned": [30.0]})
    >>> split_by_source(lines)[["source", "source_group", "amount", "share"]].head(3)
               source source_group  amount  share
    0  state_province        state    60.0    0.6
    1          people    non_state    10.0    0.1
    2      unassigned   unassigned    30.0    0.3
    """
    grand = _sum(lines[Bud.total])
    rows = []
    for source in [*SOURCES, UNASSIGNED]:
        if source not in lines.columns:
            continue
        group = STATE if source in STATE_SOURCES else (
            NON_STATE if source in NON_STATE_SOURCES else UNASSIGNED)
        amount = _sum(lines[source])
        if amount == 0 and source != UNASSIGNED:
            continue
        rows.append({"source": source, "source_group": group, "amount": amount,
                     "share": amount / grand if grand else float("nan")})
    return pd.DataFrame(rows, columns=["source", "source_group", "amount", "share"])


@dataclass(frozen=True)
class FundingSummary:
    """The headline figures of a budget, in million VND."""

    total_million_vnd: float
    by_level: dict[str, float]
    by_source_group: dict[str, float]
    by_source: dict[str, float]
    state_share: float
    lines: int
    files: list[str] = field(default_factory=list)
    #: A funding-gap table's "Đã bố trí" and "Còn thiếu" summed over the lines that give
    #: them; ``None`` when no line does.
    committed_million_vnd: float | None = None
    shortfall_million_vnd: float | None = None

    def as_dict(self) -> dict[str, object]:
        """Return the summary as a JSON-ready dict (the ``ntm funding --json`` object); the
        allocated and missing amounts only when the table gives them."""
        out: dict[str, object] = {
            "total_million_vnd": self.total_million_vnd,
            "by_level": dict(self.by_level),
            "by_source_group": dict(self.by_source_group),
            "by_source": dict(self.by_source),
            "state_share": self.state_share,
            "lines": self.lines,
            "files": list(self.files),
        }
        for key in ("committed_million_vnd", "shortfall_million_vnd"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        return out


def summarise_funding(lines: pd.DataFrame) -> FundingSummary:
    """Return the total, the split by level and by source group, and the share from the state.

    Examples
    --------
    >>> lines = pd.DataFrame({"source_file": ["a.xlsx"] * 2, "level": ["commune", "unspecified"],
    ...     "total": [3432.0, 330.0], "state": [3432.0, None], "non_state": [None, None],
    ...     "unassigned": [0.0, 330.0], "state_unsplit": [3432.0, None]})
    >>> s = summarise_funding(lines)
    >>> s.total_million_vnd, s.by_source_group["unassigned"], s.by_level["unspecified"]
    (3762.0, 330.0, 330.0)
    """
    by_level_frame = split_by_level(lines)
    total = _sum(lines[Bud.total])
    by_level = {
        row["level"]: row["total"] for _, row in by_level_frame.iterrows()
        if row["level"] in MAIN_LEVELS or row["total"] != 0
    }
    groups = {STATE: _sum(lines[Bud.state]), NON_STATE: _sum(lines[Bud.non_state]),
              UNASSIGNED: _sum(lines[Bud.unassigned])}
    sources = split_by_source(lines)
    files = sorted(set(lines[Bud.source_file].dropna())) if Bud.source_file in lines else []
    gap = dict.fromkeys(GAP_COLUMNS) | {c: _sum(lines[c]) for c in _gap_columns(lines)}
    return FundingSummary(
        total_million_vnd=total, by_level=by_level, by_source_group=groups,
        by_source={r["source"]: r["amount"] for _, r in sources.iterrows()},
        state_share=groups[STATE] / total if total else float("nan"),
        lines=len(lines), files=[str(f) for f in files],
        committed_million_vnd=gap[Bud.committed], shortfall_million_vnd=gap[Bud.shortfall],
    )


# --------------------------------------------------------------------------- criteria

_KIND_BY_LEVEL = {"commune": Budget.commune, "hamlet": Budget.model_hamlet}


def _budget_level_of_set(criteria_set: object, level: object) -> str:
    """Map an attainment row's criteria set (or, failing that, its level) to a budget level."""
    if isinstance(criteria_set, str) and criteria_set:
        from ntm_analysis import catalogue

        try:
            kind = catalogue.get_set(criteria_set).set_kind
        except KeyError:
            kind = ""
        if kind == "model_commune":
            return Budget.commune
        if kind in {Budget.model_hamlet, Budget.smart_hamlet}:
            return kind
        if "thong minh" in fold(criteria_set.replace("_", " ")):
            return Budget.smart_hamlet
    return _KIND_BY_LEVEL.get(str(level), Budget.unspecified)


def _unit_key(text: object) -> str:
    """Matching key of a unit or hamlet name: folded, without its leading xã/xóm/thôn word."""
    key = fold(str(text)) if isinstance(text, str) else ""
    for prefix in ("xom ", "thon ", "ban ", "xa ", "lang "):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


FUNDING_COLUMNS = [
    "unit", "level", "budget_level", "criteria_set", "criterion_no", "criterion_name",
    "indicators_not_met", "indicators_unknown", "lines", "funding_total", "funding_state",
    "funding_direct", "funding_shared", "funded",
]


def funding_by_criterion(lines: pd.DataFrame, attainment: pd.DataFrame) -> pd.DataFrame:
    """Return the funding attached to each unmet criterion of each unit.

    A criterion is unmet when at least one of its indicators has status ``not_met``. Lines match
    a criterion on budget level (from the criteria set), criterion number and hamlet: a line
    naming the unit's hamlet is ``direct`` funding; a line of the same level naming no hamlet is
    ``shared`` funding (counted for every unit of that level). Commune lines match the commune.

    Examples
    --------
    >>> att = pd.DataFrame({"unit": ["Xóm A", "Xóm A"], "level": ["hamlet"] * 2,
    ...     "criteria_set": ["X"] * 2, "criterion_no": ["1", "2"],
    ...     "criterion_name": ["Quy hoạch", "Giao thông"], "indicator_no": ["1.1", "2.1"],
    ...     "status": ["not_met", "not_met"]})
    >>> lines = pd.DataFrame({"level": ["model_hamlet"], "hamlet": ["Xóm A"],
    ...     "criterion_no": ["1"], "total": [20.0], "state": [20.0]})
    >>> funding_by_criterion(lines, att)[["unit", "criterion_no", "funding_total", "funded"]]
        unit criterion_no  funding_total  funded
    0  Xóm A            1           20.0    True
    1  Xóm A            2            0.0   False
    """
    att = attainment
    if len(att) == 0:
        return pd.DataFrame(columns=FUNDING_COLUMNS)
    keys = [Ind.unit, Ind.level, Ind.criteria_set, Ind.criterion_no]
    status = att[Att.status].astype("object")
    per = (att.assign(_not=status.eq(Status.not_met), _unk=status.eq(Status.unknown))
           .groupby(keys, dropna=False, sort=True)
           .agg(criterion_name=(Ind.criterion_name, "first"), indicators_not_met=("_not", "sum"),
                indicators_unknown=("_unk", "sum"))
           .reset_index())
    unmet = per[per["indicators_not_met"] > 0]
    budget = lines.assign(
        _crit=lines[Bud.criterion_no].astype("object"),
        _hamlet=lines[Bud.hamlet].map(_unit_key) if Bud.hamlet in lines else "",
    )
    rows = []
    for _, crit in unmet.iterrows():
        blevel = _budget_level_of_set(crit[Ind.criteria_set], crit[Ind.level])
        same = budget[(budget[Bud.level] == blevel)
                      & (budget["_crit"].astype(str) == str(crit[Ind.criterion_no]))]
        if blevel == Budget.commune:
            direct, shared = same, same.iloc[0:0]
        else:
            unit_key = _unit_key(crit[Ind.unit])
            direct = same[same["_hamlet"] == unit_key]
            shared = same[same["_hamlet"].isin(["", None]) | same[Bud.hamlet].isna()]
        matched = pd.concat([direct, shared])
        total = _sum(matched[Bud.total])
        rows.append({
            "unit": crit[Ind.unit], "level": crit[Ind.level], "budget_level": blevel,
            "criteria_set": crit[Ind.criteria_set], "criterion_no": crit[Ind.criterion_no],
            "criterion_name": crit["criterion_name"],
            "indicators_not_met": int(crit["indicators_not_met"]),
            "indicators_unknown": int(crit["indicators_unknown"]),
            "lines": len(matched), "funding_total": total,
            "funding_state": _sum(matched[Bud.state]) if Bud.state in matched else 0.0,
            "funding_direct": _sum(direct[Bud.total]), "funding_shared": _sum(shared[Bud.total]),
            "funded": len(matched) > 0,
        })
    out = pd.DataFrame(rows, columns=FUNDING_COLUMNS)
    order = out["criterion_no"].map(_number_key)
    return (out.assign(_o=order).sort_values(["unit", "criteria_set", "_o"], kind="stable")
            .drop(columns="_o").reset_index(drop=True))


def _number_key(text: object) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in str(text).split("."))
    except ValueError:
        return (10**6,)


def unfunded_gaps(lines: pd.DataFrame, attainment: pd.DataFrame) -> pd.DataFrame:
    """Return the unmet criteria that no budget line funds ("unfunded gaps").

    Examples
    --------
    >>> att = pd.DataFrame({"unit": ["Xã K"], "level": ["commune"], "criteria_set": ["S"],
    ...     "criterion_no": ["3"], "criterion_name": ["Môi trường"], "indicator_no": ["3.1"],
    ...     "status": ["not_met"]})
    >>> lines = pd.DataFrame({"level": ["commune"], "hamlet": [None], "criterion_no": ["6"],
    ...     "total": [850.0], "state": [850.0]})
    >>> unfunded_gaps(lines, att)[["unit", "criterion_no", "criterion_name"]]
       unit criterion_no criterion_name
    0  Xã K            3     Môi trường
    """
    table = funding_by_criterion(lines, attainment)
    return table[~table["funded"].astype(bool)].reset_index(drop=True)


def unlinked_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """Return the budget lines that name no criterion (money not tied to a gap)."""
    return lines[lines[Bud.criterion_no].isna()].reset_index(drop=True)


@dataclass(frozen=True)
class FundingSection:
    """What the readiness report's funding section shows."""

    summary: FundingSummary
    by_level: pd.DataFrame
    by_source: pd.DataFrame
    by_criterion: pd.DataFrame
    gaps: pd.DataFrame
    finding: str


def readiness_section(lines: pd.DataFrame, attainment: pd.DataFrame | None = None, *,
                      lang: str = "vi") -> FundingSection:
    """Return the tables and a one-sentence finding for the readiness report's funding section.

    Examples
    --------
    >>> lines = pd.DataFrame({"source_file": ["a"], "level": ["commune"], "total": [100.0],
    ...     "state": [70.0], "non_state": [None], "unassigned": [30.0], "state_unsplit": [70.0],
    ...     "criterion_no": [None], "hamlet": [None]})
    >>> readiness_section(lines, lang="en").finding  # doctest: +NORMALIZE_WHITESPACE
    'Budget 100 million VND: state budget 70 (70.0%), other sources 0,
     source not given 30; no attainment table given.'
    """
    summary = summarise_funding(lines)
    if attainment is not None and len(attainment):
        by_crit = funding_by_criterion(lines, attainment)
    else:
        by_crit = pd.DataFrame(columns=FUNDING_COLUMNS)
    gaps = by_crit[~by_crit["funded"].astype(bool)].reset_index(drop=True)
    g = summary.by_source_group
    share = f"{summary.state_share * 100:.1f}"
    if attainment is not None and len(attainment):
        tail = t("funding.finding_gaps", lang, gaps=len(gaps), unmet=len(by_crit))
    else:
        tail = t("funding.finding_no_attainment", lang)
    finding = t("funding.finding", lang, total=format_money(summary.total_million_vnd, lang),
                state=format_money(g[STATE], lang),
                share=share.replace(".", ",") if lang == "vi" else share,
                non_state=format_money(g[NON_STATE], lang),
                unassigned=format_money(g[UNASSIGNED], lang), tail=tail)
    if summary.committed_million_vnd is not None or summary.shortfall_million_vnd is not None:
        finding += t("funding.finding_gap", lang,
                     committed=_money_or_dash(summary.committed_million_vnd, lang),
                     shortfall=_money_or_dash(summary.shortfall_million_vnd, lang))
    return FundingSection(summary, split_by_level(lines), split_by_source(lines), by_crit, gaps,
                          finding)


def _money_or_dash(amount: float | None, lang: str) -> str:
    return "–" if amount is None else format_money(amount, lang)


def lines_for_year(lines: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Return the lines of ``year`` and those with no year (a plan table often has none).

    Examples
    --------
    >>> lines = pd.DataFrame({"year": pd.array([2024, None, 2023], dtype="Int64")})
    >>> len(lines_for_year(lines, year=2024))
    2
    """
    keep = lines[Bud.year].isna() | (lines[Bud.year] == year)
    return lines[keep.astype(bool)].reset_index(drop=True)


def check_parameters(*, raw_dir: str | os.PathLike[str], year: int, lang: str,
                     out_dir: str | os.PathLike[str] = "", commune: str = "",
                     paths: Sequence[str | os.PathLike[str]] = ()) -> list[Path]:
    """Validate the money notebooks' parameters; return their workbooks: ``paths`` when given
    (a batch gives each commune's), else the workbooks under ``raw_dir`` (as a command's
    folder gives them: every workbook format, subfolders too, no Excel lock file).

    ``commune`` is the commune whose tables the notebook keeps (``""``: the one the tables name).

    Raises
    ------
    ParameterError
        With a message naming the parameter, its value and what was expected.
    """
    from ntm_analysis.i18n import check_lang
    from ntm_analysis.paths import WORKBOOK_SUFFIXES, find_workbooks, resolve

    check_lang(lang)
    if not isinstance(commune, str):
        raise ParameterError(f"commune must be text such as 'Kim Phượng', got {commune!r}")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ParameterError(f"year must be a year such as 2024, got {year!r}")
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if paths:
        files = [resolve(p) for p in paths]
        missing = [str(p) for p, f in zip(paths, files, strict=True) if not f.is_file()]
        if missing:
            raise ParameterError(f"paths: no such workbook: {', '.join(missing)}")
    else:
        folder = resolve(raw_dir)
        if not folder.is_dir():
            raise ParameterError(f"raw_dir {str(raw_dir)!r} is not a folder (resolved to "
                                 f"{folder})")
        files = find_workbooks(folder)
        if not files:
            raise ParameterError(f"raw_dir {str(raw_dir)!r} holds no workbook "
                                 f"({', '.join(WORKBOOK_SUFFIXES)}) ({folder})")
    if out_dir and resolve(out_dir).exists() and not resolve(out_dir).is_dir():
        raise ParameterError(f"out_dir {str(out_dir)!r} exists and is not a folder")
    return files
