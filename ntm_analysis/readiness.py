"""Is a commune ready to be recognised as a model NTM commune (xã NTM kiểu mẫu)?

Decision 319/QĐ-TTg (8 March 2022) recognises a model NTM commune when it

1. meets the advanced-NTM standard (xã NTM nâng cao, 2021–2025 set);
2. has per-capita income at least 10% above the advanced-NTM income level of the same year;
3. has at least one smart hamlet (xóm thông minh, criteria set by the province);
4. meets the province's model criteria in at least one outstanding field (lĩnh vực nổi trội).

The functions here are pure: they take the attainment table (schema ``Att``) and return new
frames. The income thresholds are two *unverified* readings of Decision 318/QĐ-TTg, so condition
2 is always marked ``inferred`` and both readings are shown; nothing here presents them as
official. Money logic (funding, income trends) lives in ``funding`` and ``income``.
"""

from __future__ import annotations

import logging
import math
import re
from functools import lru_cache
from importlib import resources

import pandas as pd

from ntm_analysis import catalogue
from ntm_analysis.errors import ParameterError
from ntm_analysis.export import format_number
from ntm_analysis.i18n import check_lang, status_label, t, term
from ntm_analysis.schema import Att, Ind, Level, Status
from ntm_analysis.text import escape_md, fold

logger = logging.getLogger(__name__)

#: QĐ 319/QĐ-TTg: model-commune income must be at least 110% of the advanced-NTM level.
INCOME_MARGIN = 1.1
#: Row level of the advanced-NTM income threshold in ``data/income_thresholds.csv``.
ADVANCED_INCOME_LEVEL = "xa_NTM_nang_cao"
#: Accent-free words that name the outstanding-field criterion in a model-commune set.
OUTSTANDING_WORDS = "linh vuc noi troi"
#: Source named for values that come from parameters rather than a workbook.
PARAMETER_SOURCE = "parameters"
THRESHOLD_SOURCE = "ntm_analysis/data/income_thresholds.csv"
RECOGNITION_SOURCE = "ntm_analysis/data/recognitions.csv"

FOUND = "found"
INFERRED = "inferred"


class Cond:
    """Columns of the readiness table (one row per condition of Decision 319/QĐ-TTg)."""

    condition_no = "condition_no"
    condition_id = "condition_id"
    condition = "condition"
    status = "status"
    evidence = "evidence"
    source_file = Ind.source_file
    source_sheet = Ind.source_sheet
    basis = "basis"

    dtypes = {
        condition_no: "int64",
        condition_id: "string",
        condition: "string",
        status: "string",
        evidence: "string",
        source_file: "string",
        source_sheet: "string",
        basis: "string",
    }

    @classmethod
    def columns(cls) -> list[str]:
        return list(cls.dtypes)


#: Stable ids of the four conditions, in the decision's order.
CONDITIONS: tuple[str, ...] = ("advanced_ntm", "income", "smart_hamlet", "outstanding")


class Gap:
    """Columns of the gaps table: unmet or unknown indicators ranked within their unit."""

    relative_gap = "relative_gap"
    rank = "rank"

    dtypes = {
        Ind.unit: "string",
        Ind.level: "string",
        Ind.commune: "string",
        Ind.year: "Int64",
        Ind.criteria_set: "string",
        Ind.criterion_no: "string",
        Ind.criterion_name: "string",
        Ind.indicator_no: "string",
        Ind.indicator_name: "string",
        Att.status: "string",
        Ind.target_text: "string",
        Att.target_comparator: "string",
        Att.target_value: "Float64",
        Att.target_unit: "string",
        Ind.value_text: "string",
        Ind.value: "Float64",
        Att.gap: "Float64",
        relative_gap: "Float64",
        rank: "int64",
        Att.catalogue_status: "string",
        Ind.source_file: "string",
        Ind.source_sheet: "string",
        Ind.source_row: "Int64",
    }

    @classmethod
    def columns(cls) -> list[str]:
        return list(cls.dtypes)


# ---------------------------------------------------------------------------- helpers


def number_key(text: object) -> str:
    """Return a sort key that orders numbered items naturally ("1.2" before "1.10").

    Examples
    --------
    >>> sorted(["1.10", "1.2", "10", "2"], key=number_key)
    ['1.2', '1.10', '2', '10']
    """
    if isinstance(text, str):
        s = text
    elif text is None or text is pd.NA or (isinstance(text, float) and math.isnan(text)):
        s = ""
    else:
        s = str(text)
    return re.sub(r"\d+", lambda m: m.group(0).zfill(6), s)


def _sort_numbered(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    numbered = {Ind.criterion_no, Ind.indicator_no}
    key_cols = {c: df[c].map(number_key) if c in numbered else df[c] for c in by}
    keys = pd.DataFrame(key_cols, index=df.index)
    order = keys.sort_values(by, kind="mergesort", na_position="last").index
    return df.loc[order].reset_index(drop=True)


def _set_kind(set_id: object) -> str | None:
    if not isinstance(set_id, str):
        return None
    try:
        return catalogue.get_set(set_id).set_kind
    except KeyError:
        return None


def _with_kind(attainment: pd.DataFrame) -> pd.Series:
    kinds = {s: _set_kind(s) for s in attainment[Ind.criteria_set].dropna().unique()}
    return attainment[Ind.criteria_set].map(kinds)


def _select(attainment: pd.DataFrame, *, year: int | None, commune: str | None) -> pd.DataFrame:
    mask = pd.Series(True, index=attainment.index)
    if year is not None:
        mask &= attainment[Ind.year].astype("Int64").eq(year).fillna(False).astype(bool)
    if commune is not None:
        key = fold(commune)
        communes = attainment[Ind.commune].astype("string").fillna("").map(fold)
        units = attainment[Ind.unit].astype("string").fillna("").map(fold)
        is_commune = attainment[Ind.level].eq(Level.commune).fillna(False).astype(bool)
        mask &= communes.eq(key) | (is_commune & units.eq(key))
    return attainment[mask.astype(bool)]


def _join(values: pd.Series) -> str:
    seen = sorted({str(v) for v in values.dropna() if str(v)})
    return "; ".join(seen)


def _words(statuses: pd.Series) -> pd.Series:
    """Status words as strings, a missing status read as unknown (texts may be categorical)."""
    return statuses.astype("string").fillna(Status.unknown)


def _basis(rows: pd.DataFrame) -> str:
    statuses = set(rows[Att.catalogue_status].dropna())
    return FOUND if statuses and statuses <= {FOUND} else INFERRED


def _status_of(statuses: pd.Series) -> str:
    s = _words(statuses)
    if len(s) and s.eq(Status.met).all():
        return Status.met
    if s.eq(Status.not_met).any():
        return Status.not_met
    return Status.unknown


def unit_counts(attainment: pd.DataFrame) -> pd.DataFrame:
    """Count criteria and indicators met per unit × criteria set × year.

    A criterion is met when every one of its indicators is met; ``status`` is ``met`` when every
    criterion is, ``not_met`` when an indicator is not met, and ``unknown`` otherwise.

    Examples
    --------
    >>> att = pd.DataFrame({"unit": ["Xóm A"] * 3, "level": "hamlet", "commune": "X",
    ...     "year": 2024, "criteria_set": "S", "criterion_no": ["1", "1", "2"],
    ...     "status": ["met", "met", "not_met"]})
    >>> unit_counts(att)[["unit", "criteria_met", "criteria_total", "indicators_met",
    ...     "indicators_total", "status"]].values.tolist()
    [['Xóm A', 1, 2, 2, 3, 'not_met']]
    """
    keys = [Ind.unit, Ind.level, Ind.commune, Ind.year, Ind.criteria_set]
    rows = []
    for key, group in attainment.groupby(keys, dropna=False, sort=False):
        status = _words(group[Att.status])
        per_crit = group.assign(_s=status).groupby(Ind.criterion_no, dropna=False)["_s"]
        crit_met = per_crit.apply(lambda s: bool(s.eq(Status.met).all()))
        rows.append({
            **dict(zip(keys, key, strict=True)),
            "criteria_met": int(crit_met.sum()),
            "criteria_total": len(crit_met),
            "indicators_met": int(status.eq(Status.met).sum()),
            "indicators_total": len(status),
            "indicators_unknown": int(status.eq(Status.unknown).sum()),
            "status": _status_of(status),
        })
    out = pd.DataFrame(rows, columns=[*keys, "criteria_met", "criteria_total", "indicators_met",
                                      "indicators_total", "indicators_unknown", "status"])
    return _sort_numbered(out, [Ind.year, Ind.criteria_set, Ind.unit])


@lru_cache(maxsize=1)
def _package_thresholds() -> pd.DataFrame:
    with resources.files("ntm_analysis").joinpath("data", "income_thresholds.csv").open(
        "r", encoding="utf-8"
    ) as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def _package_recognitions() -> pd.DataFrame:
    with resources.files("ntm_analysis").joinpath("data", "recognitions.csv").open(
        "r", encoding="utf-8"
    ) as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def recognitions() -> pd.DataFrame:
    """Return the packaged list of public recognition decisions (a copy), one row per decision.

    >>> recognitions().loc[0, ["commune", "level"]].tolist()
    ['Kim Phượng', 'xa_NTM_nang_cao']
    """
    return _package_recognitions().copy()


def find_recognition(commune: str, *, year: int, level: str = ADVANCED_INCOME_LEVEL,
                     table: pd.DataFrame | None = None) -> pd.Series | None:
    """Return the latest decision recognising ``commune`` at ``level`` by the end of ``year``.

    >>> find_recognition("kim phuong", year=2024)["decision"][:16]
    'QĐ 3261/QĐ-UBND '
    >>> find_recognition("Kim Phượng", year=2022) is None
    True
    """
    df = recognitions() if table is None else table
    years = pd.to_numeric(df["date"].str[:4], errors="coerce")
    hits = df[df["commune"].map(fold).eq(fold(commune)) & df["level"].eq(level) & years.le(year)]
    return None if hits.empty else hits.sort_values("date").iloc[-1]


def income_thresholds() -> pd.DataFrame:
    """Return the packaged income thresholds (a copy), ``threshold_million_vnd`` as float."""
    df = _package_thresholds().copy()
    df["year"] = pd.to_numeric(df["year"]).astype("Int64")
    df["threshold_million_vnd"] = pd.to_numeric(df["threshold_million_vnd"], errors="coerce")
    return df


# ---------------------------------------------------------------------------- conditions


def _condition(no: int, cid: str, status: str, evidence: str, *, source_file: str = "",
               source_sheet: str = "", basis: str, lang: str) -> dict[str, object]:
    return {
        Cond.condition_no: no, Cond.condition_id: cid, Cond.condition: t(f"cond.{cid}", lang),
        Cond.status: status, Cond.evidence: evidence, Cond.source_file: source_file or None,
        Cond.source_sheet: source_sheet or None, Cond.basis: basis,
    }


def _advanced(recognised: bool | str | None, decision: str | None, lang: str, *,
              source: str = PARAMETER_SOURCE) -> dict[str, object]:
    detail = f" ({decision})" if decision else ""
    if recognised is None:
        return _condition(1, "advanced_ntm", Status.unknown, t("ev.advanced_unknown", lang),
                          basis=INFERRED, lang=lang)
    key, status = ("ev.advanced_yes", Status.met) if recognised else ("ev.advanced_no",
                                                                      Status.not_met)
    return _condition(1, "advanced_ntm", status, t(key, lang, detail=detail),
                      source_file=source, basis=FOUND if decision else INFERRED,
                      lang=lang)


def _income(income: float | None, year: int, thresholds: pd.DataFrame, lang: str, *,
            source: str | None = None, source_file: str | None = None) -> dict[str, object]:
    rows = thresholds[
        (thresholds["level"] == ADVANCED_INCOME_LEVEL)
        & pd.to_numeric(thresholds["year"], errors="coerce").eq(year)
    ].sort_values("scenario")
    values = pd.to_numeric(rows["threshold_million_vnd"], errors="coerce")
    readings = [
        t("ev.income_reading", lang, scenario=term("income.scenario", sc, lang),
          threshold=format_number(float(v), lang=lang),
          required=format_number(float(v) * INCOME_MARGIN, lang=lang))
        for sc, v in zip(rows["scenario"], values, strict=True) if pd.notna(v)
    ]
    if not readings:
        return _condition(2, "income", Status.unknown,
                          t("ev.income_no_threshold", lang, year=year),
                          source_file=THRESHOLD_SOURCE, basis=INFERRED, lang=lang)
    required = values.dropna() * INCOME_MARGIN
    text = "; ".join(readings)
    if income is None or pd.isna(income):
        status, evidence = Status.unknown, t("ev.income_missing", lang, readings=text)
    else:
        if _at_least(income, float(required.max())):
            status = Status.met
        elif not _at_least(income, float(required.min())):
            status = Status.not_met
        else:  # the two readings disagree
            status = Status.unknown
        evidence = t("ev.income_value", lang, income=format_number(float(income), lang=lang),
                     readings=text)
        if source:
            evidence = t("ev.income_source", lang, source=source) + evidence
    files = "; ".join(f for f in (source_file, THRESHOLD_SOURCE) if f)
    return _condition(2, "income", status, evidence, source_file=files, basis=INFERRED,
                      lang=lang)


def _at_least(value: float, required: float) -> bool:
    # 1.1 × 50 is 55.000000000000007 in binary floating point: compare with a relative tolerance
    return value >= required or math.isclose(value, required, rel_tol=1e-9)


def _counts_text(counts: pd.DataFrame, lang: str) -> str:
    return "; ".join(
        t("ev.unit_counts", lang, unit=r.unit, criteria_met=r.criteria_met,
          criteria_total=r.criteria_total, indicators_met=r.indicators_met,
          indicators_total=r.indicators_total)
        for r in counts.itertuples(index=False)
    )


def _smart(selected: pd.DataFrame, kinds: pd.Series, lang: str) -> dict[str, object]:
    rows = selected[kinds.eq("smart_hamlet").fillna(False).astype(bool)]
    if rows.empty:
        return _condition(3, "smart_hamlet", Status.unknown, t("ev.smart_none", lang),
                          basis=INFERRED, lang=lang)
    counts = unit_counts(rows)
    met = counts[counts["status"] == Status.met]
    if len(met):
        used = rows[rows[Ind.unit].isin(met[Ind.unit])]
        named = ", ".join(met[Ind.unit].dropna().astype(str))  # an unnamed unit: no name
        status, evidence = Status.met, t("ev.smart_met", lang, units=named)
    else:
        used = rows
        undecided = counts["status"].eq(Status.unknown).any()
        status = Status.unknown if undecided else Status.not_met
        key = "ev.smart_unknown" if undecided else "ev.smart_not_met"
        evidence = t(key, lang, details=_counts_text(counts, lang))
    return _condition(3, "smart_hamlet", status, evidence,
                      source_file=_join(used[Ind.source_file]),
                      source_sheet=_join(used[Ind.source_sheet]), basis=_basis(used), lang=lang)


def outstanding_criterion_no(commune_rows: pd.DataFrame) -> str | None:
    """Return the number of the outstanding-field criterion ("Lĩnh vực nổi trội") of a set.

    The name is looked up in the rows themselves, then in the catalogue of their criteria set.

    Examples
    --------
    >>> outstanding_criterion_no(pd.DataFrame({"criteria_set": ["TN_XA_NTM_KIEUMAU_2022_2025"],
    ...     "criterion_no": ["1"], "criterion_name": ["Sản xuất"]}))
    '6'
    """
    names = commune_rows[[Ind.criterion_no, Ind.criterion_name]].dropna().drop_duplicates()
    for no, name in names.itertuples(index=False):
        if OUTSTANDING_WORDS in fold(str(name)):
            return str(no)
    for set_id in sorted(commune_rows[Ind.criteria_set].dropna().unique()):
        cat = catalogue.load_catalogue(set_id=str(set_id))
        hits = cat[cat["criterion_name_vi"].map(fold).str.contains(OUTSTANDING_WORDS)]
        if len(hits):
            return str(hits["criterion_no"].iloc[0])
    return None


def _outstanding(selected: pd.DataFrame, kinds: pd.Series, criterion: str | None,
                 commune: str, lang: str) -> dict[str, object]:
    rows = selected[kinds.eq("model_commune").fillna(False).astype(bool)]
    number = criterion or outstanding_criterion_no(rows)
    crit_rows = rows[rows[Ind.criterion_no].astype("string").eq(number).fillna(False)
                     .astype(bool)] if number else rows.iloc[0:0]
    if crit_rows.empty:
        return _condition(4, "outstanding", Status.unknown,
                          t("ev.outstanding_missing", lang, commune=commune), basis=INFERRED,
                          lang=lang)
    status = _words(crit_rows[Att.status])
    names = crit_rows[Ind.criterion_name].dropna()
    evidence = t(
        "ev.outstanding", lang, criterion_no=number,
        criterion_name=str(names.iloc[0]) if len(names) else "",
        indicators_met=int(status.eq(Status.met).sum()), indicators_total=len(status),
        indicators_unknown=int(status.eq(Status.unknown).sum()),
    )
    return _condition(4, "outstanding", _status_of(status), evidence,
                      source_file=_join(crit_rows[Ind.source_file]),
                      source_sheet=_join(crit_rows[Ind.source_sheet]), basis=_basis(crit_rows),
                      lang=lang)


def assess_readiness(
    attainment: pd.DataFrame,
    *,
    year: int,
    commune: str,
    income_per_capita: float | None = None,
    income_source: str | None = None,
    income_source_file: str | None = None,
    advanced_ntm_recognised: bool | str | None = None,
    advanced_ntm_decision: str | None = None,
    outstanding_criterion: str | None = None,
    thresholds: pd.DataFrame | None = None,
    lang: str = "vi",
) -> pd.DataFrame:
    """Judge the four conditions of Decision 319/QĐ-TTg for one commune and year.

    Parameters
    ----------
    attainment : DataFrame
        The attainment table (schema ``Att``) for the commune and its hamlets.
    year, commune : int, str
        The year judged and the commune's name (matched without accents or case).
    income_per_capita : float, optional
        Per-capita income in million VND/person/year; ``None`` leaves condition 2 unknown.
    income_source, income_source_file : str, optional
        Where the income figure comes from (e.g. "income table kp.xlsx, sheet 'Thu nhập', row
        5, year 2023"), put at the head of condition 2's evidence; and the file it was read
        from, listed with the threshold table in ``source_file``.
    advanced_ntm_recognised : bool or "auto", optional
        Whether the commune is recognised as advanced NTM; ``None`` leaves condition 1 unknown;
        ``"auto"`` looks the commune up in the packaged ``data/recognitions.csv`` (public
        decisions, each with its source) and is unknown when it is not listed.
    advanced_ntm_decision : str, optional
        The recognising decision (e.g. "QĐ 3261/QĐ-UBND 20/12/2023"), quoted as evidence.
    outstanding_criterion : str, optional
        The number of the outstanding-field criterion in the commune set; by default the
        criterion whose name contains "Lĩnh vực nổi trội".
    thresholds : DataFrame, optional
        Income thresholds like ``data/income_thresholds.csv``; by default the packaged table.
        Every reading of level ``xa_NTM_nang_cao`` for ``year`` is shown; condition 2 is met only
        when income clears all of them, not met when it clears none, unknown in between.
    lang : {"vi", "en"}
        Language of the ``condition`` and ``evidence`` text.

    Returns
    -------
    DataFrame
        One row per condition (columns ``Cond``), in the decision's order.

    Examples
    --------
    >>> att = pd.DataFrame({"unit": ["Xóm Phai Đá"] * 2, "level": "hamlet",
    ...     "commune": "Kim Phượng", "year": 2024, "criteria_set": "TN_XOM_THONG_MINH",
    ...     "criterion_no": ["1", "2"], "criterion_name": ["Hạ tầng số", "Xã hội số"],
    ...     "status": ["met", "met"], "catalogue_status": "inferred",
    ...     "source_file": "kp.xlsx", "source_sheet": "Phai Đá"})
    >>> r = assess_readiness(att, year=2024, commune="Kim Phượng",
    ...     advanced_ntm_recognised=True, income_per_capita=70.0, lang="en")
    >>> dict(zip(r.condition_id, r.status))  # doctest: +NORMALIZE_WHITESPACE
    {'advanced_ntm': 'met', 'income': 'met', 'smart_hamlet': 'met',
     'outstanding': 'unknown'}
    """
    check_lang(lang)
    selected = _select(attainment, year=year, commune=commune)
    kinds = _with_kind(selected)
    table = income_thresholds() if thresholds is None else thresholds
    advanced_source = PARAMETER_SOURCE
    if advanced_ntm_recognised == "auto":
        advanced_source = RECOGNITION_SOURCE
        found = find_recognition(commune, year=year)
        advanced_ntm_recognised = None if found is None else True
        if found is not None and not advanced_ntm_decision:
            advanced_ntm_decision = f"{found['decision']}; {found['source']}"
    elif isinstance(advanced_ntm_recognised, str):
        raise ParameterError(f"advanced_ntm_recognised must be True, False, None or 'auto'; "
                             f"got {advanced_ntm_recognised!r}")
    rows = [
        _advanced(advanced_ntm_recognised, advanced_ntm_decision, lang, source=advanced_source),
        _income(income_per_capita, year, table, lang, source=income_source,
                source_file=income_source_file),
        _smart(selected, kinds, lang),
        _outstanding(selected, kinds, outstanding_criterion, commune, lang),
    ]
    out = pd.DataFrame(rows, columns=Cond.columns())
    return out.astype(Cond.dtypes).sort_values(Cond.condition_no).reset_index(drop=True)


def readiness_verdict(conditions: pd.DataFrame, *, commune: str, year: int,
                      lang: str = "vi") -> str:
    """Say in one or two sentences whether the commune can be recognised and what blocks it.

    Examples
    --------
    >>> conds = pd.DataFrame({"condition_no": [1, 2], "condition": ["A", "B"],
    ...     "status": ["met", "not_met"], "basis": ["found", "inferred"]})
    >>> verdict = readiness_verdict(conds, commune="Kim Phượng", year=2024, lang="en")
    >>> verdict.split(". ")[1]
    'Blocked by: (2) B'
    """
    check_lang(lang)
    ordered = conditions.sort_values(Cond.condition_no)

    def listed(status: str) -> str:
        part = ordered[ordered[Cond.status] == status]
        return "; ".join(f"({r.condition_no}) {escape_md(r.condition)}"
                         for r in part.itertuples())

    blocking, unknown = listed(Status.not_met), listed(Status.unknown)
    commune = escape_md(commune)  # workbook text inside Markdown: shown, never rendered
    if blocking:
        text = t("verdict.blocked", lang, commune=commune, year=year, blocking=blocking)
        if unknown:
            text += t("verdict.also_unknown", lang, unknown=unknown)
    elif unknown:
        text = t("verdict.undecided", lang, commune=commune, year=year, unknown=unknown)
    else:
        text = t("verdict.ready", lang, commune=commune, year=year, n=len(ordered))
    inferred = ordered[ordered[Cond.basis] == INFERRED][Cond.condition_no]
    if len(inferred):
        text += t("verdict.inferred", lang, conditions=", ".join(str(n) for n in inferred))
    return text


# ---------------------------------------------------------------------------- gaps


def gaps_by_unit(attainment: pd.DataFrame, *, include_unknown: bool = True) -> pd.DataFrame:
    """List each unit's unmet (and unknown) indicators, ranked by relative distance to target.

    ``relative_gap`` is ``gap / |target_value|`` (0.25 = a quarter of the target still missing);
    an unmet yes/no indicator, or one without a numeric target, counts as 1 (all missing); an
    unknown indicator has no relative gap and ranks last. ``rank`` restarts at 1 in every unit ×
    criteria set × year.

    Examples
    --------
    >>> att = pd.DataFrame({"unit": ["Xóm A"] * 3, "criteria_set": "S", "year": 2024,
    ...     "indicator_no": ["1.1", "1.2", "2.1"], "status": ["not_met", "met", "not_met"],
    ...     "target_value": [100.0, 1.0, 50.0], "gap": [10.0, 0.0, 25.0]})
    >>> g = gaps_by_unit(att)
    >>> g[["indicator_no", "relative_gap", "rank"]].values.tolist()
    [['2.1', 0.5, 1], ['1.1', 0.1, 2]]
    """
    df = attainment.copy()
    for col in Gap.columns():
        if col not in df.columns:
            df[col] = pd.NA
    status = df[Att.status].astype("string").fillna(Status.unknown)
    keep = status.eq(Status.not_met)
    if include_unknown:
        keep |= status.eq(Status.unknown)
    df = df[keep.astype(bool)].copy()
    df[Att.status] = status[keep.astype(bool)]
    target = pd.to_numeric(df[Att.target_value], errors="coerce").astype("Float64")
    gap = pd.to_numeric(df[Att.gap], errors="coerce").astype("Float64")
    usable = target.notna() & target.ne(0) & gap.notna()
    relative = (gap / target.abs()).where(usable.fillna(False).astype(bool))
    relative = relative.mask(df[Att.status].eq(Status.not_met) & relative.isna(), 1.0)
    df[Gap.relative_gap] = relative.astype("Float64")
    df = df[Gap.columns()].astype({k: v for k, v in Gap.dtypes.items() if k != Gap.rank})
    df["_neg"] = -df[Gap.relative_gap]
    df = _sort_numbered(df, [Ind.year, Ind.criteria_set, Ind.unit, "_neg", Ind.indicator_no])
    df[Gap.rank] = (df.groupby([Ind.year, Ind.criteria_set, Ind.unit], dropna=False).cumcount()
                    + 1).astype("int64")
    return df[Gap.columns()].reset_index(drop=True)


def criterion_status(criteria: pd.DataFrame) -> pd.Series:
    """Return each criterion row's status word from a ``Crit`` frame (met / not met / unknown).

    A criterion that is not met but whose only unmet indicators are unknown is ``unknown``.

    >>> crit = pd.DataFrame({"met": [True, False, False], "indicators_met": [2, 1, 1],
    ...     "indicators_total": [2, 3, 3], "indicators_unknown": [0, 2, 1]})
    >>> criterion_status(crit).tolist()
    ['met', 'unknown', 'not_met']
    """
    met = criteria["met"].astype("boolean")
    total = criteria["indicators_total"]
    known_ok = criteria["indicators_met"] + criteria["indicators_unknown"]
    undecided = met.isna() | (known_ok.eq(total) & criteria["indicators_unknown"].gt(0))
    words = pd.Series(Status.not_met, index=criteria.index, dtype="string")
    words = words.mask(undecided.fillna(True).astype(bool), Status.unknown)
    return words.mask(met.fillna(False).astype(bool), Status.met)


def compare_units(criteria: pd.DataFrame, *, lang: str | None = None) -> pd.DataFrame:
    """Put units side by side: one row per criterion, one column per unit holding its status.

    With ``lang`` the statuses are translated labels ("Đạt"), otherwise status words.

    Examples
    --------
    >>> crit = pd.DataFrame({"unit": ["Xóm A", "Xóm B"], "criterion_no": ["1", "1"],
    ...     "criterion_name": ["Quy hoạch"] * 2, "met": [True, False],
    ...     "indicators_met": [2, 0], "indicators_total": [2, 2], "indicators_unknown": [0, 0]})
    >>> compare_units(crit, lang="vi").values.tolist()
    [['1', 'Quy hoạch', 'Đạt', 'Chưa đạt']]
    """
    df = criteria.assign(_status=criterion_status(criteria))
    if lang is not None:
        df["_status"] = df["_status"].map(lambda s: status_label(s, lang))
    wide = df.pivot_table(index=[Ind.criterion_no, Ind.criterion_name], columns=Ind.unit,
                          values="_status", aggfunc="first", sort=False)
    wide = wide.reset_index()
    wide.columns.name = None
    units = sorted(c for c in wide.columns if c not in (Ind.criterion_no, Ind.criterion_name))
    wide = wide[[Ind.criterion_no, Ind.criterion_name, *units]]
    return _sort_numbered(wide, [Ind.criterion_no])


def describe_provenance(frame: pd.DataFrame, *, lang: str = "vi") -> str:
    """Say where a figure's rows come from and how many of their criteria are found/inferred.

    Examples
    --------
    >>> att = pd.DataFrame({"source_file": ["kp.xlsx"] * 2, "source_sheet": ["Xã"] * 2,
    ...     "criteria_set": "S", "criterion_no": ["1", "2"],
    ...     "catalogue_status": ["found", "inferred"]})
    >>> describe_provenance(att, lang="en")
    "Source: kp.xlsx (sheet 'Xã'); criteria found: 1; inferred: 1"
    """
    check_lang(lang)
    pairs = frame[[Ind.source_file, Ind.source_sheet]].drop_duplicates().dropna(how="all")
    shown = sorted(
        t("prov.sheet", lang, file=escape_md(f), sheet=escape_md(s))
        if isinstance(s, str) and s else escape_md(f)
        for f, s in pairs.itertuples(index=False)
    )
    sources = t("prov.sources", lang, sources="; ".join(shown) or t("prov.none", lang))
    if Att.catalogue_status not in frame.columns or Ind.criterion_no not in frame.columns:
        return sources
    per_crit = frame.groupby([Ind.criteria_set, Ind.criterion_no], dropna=False)[
        Att.catalogue_status
    ].agg(lambda s: FOUND if set(s.dropna()) == {FOUND} else INFERRED)
    found = int(per_crit.eq(FOUND).sum())
    return f"{sources}; " + t("prov.criteria", lang, found=found, inferred=len(per_crit) - found)


def primary_set(frame: pd.DataFrame, *, unit: str) -> str | None:
    """Return the criteria set with most rows for ``unit`` (ties: the smaller id), or ``None``.

    >>> primary_set(pd.DataFrame({"unit": ["A", "A", "A"], "criteria_set": ["S", "T", "T"]}),
    ...             unit="A")
    'T'
    """
    rows = frame[frame[Ind.unit].astype("string").fillna("").map(fold).eq(fold(unit))]
    counts = rows[Ind.criteria_set].dropna().astype("string").value_counts()  # present sets
    if counts.empty:
        return None
    best = counts[counts == counts.max()].index
    return str(sorted(best)[0])


def gap_comparison(attainment: pd.DataFrame, *, unit: str) -> pd.DataFrame:
    """Compare one unit's unmet indicators with the other units assessed on the same set.

    One row per unmet or unknown indicator of ``unit``, in the order of ``gaps_by_unit`` (furthest
    from target first), with the unit's value, its relative gap, then each other unit's value
    text (or status word when it has no value) and how many other units meet the indicator.

    Examples
    --------
    >>> att = pd.DataFrame({"unit": ["Xóm A", "Xóm B", "Xóm A", "Xóm B"], "criteria_set": "S",
    ...     "year": 2024, "indicator_no": ["1.1", "1.1", "1.2", "1.2"],
    ...     "indicator_name": ["Đường", "Đường", "Nhà", "Nhà"],
    ...     "status": ["not_met", "met", "met", "met"], "value_text": ["60%", "95%", "1", "1"],
    ...     "target_value": [90.0, 90.0, 1.0, 1.0], "gap": [30.0, 0.0, 0.0, 0.0]})
    >>> gap_comparison(att, unit="Xóm A")[["indicator_no", "Xóm B", "others_met"]].values.tolist()
    [['1.1', '95%', 1]]
    """
    gaps = gaps_by_unit(attainment)
    mine = gaps[gaps[Ind.unit].astype("string").fillna("").map(fold).eq(fold(unit))]
    columns = [Ind.indicator_no, Ind.indicator_name, Ind.target_text, Ind.value_text,
               Gap.relative_gap, Att.status]
    if mine.empty:
        return pd.DataFrame(columns=[*columns, "others_met"])
    sets = set(mine[Ind.criteria_set].dropna())
    years = set(mine[Ind.year].dropna())
    name = str(mine[Ind.unit].iloc[0])
    others = attainment[attainment[Ind.criteria_set].isin(sets)
                        & attainment[Ind.unit].notna() & attainment[Ind.unit].ne(name)]
    if years:
        others = others[others[Ind.year].isin(years)]
    others = others.assign(_shown=others[Ind.value_text].astype("string").where(
        others[Ind.value_text].notna() & others[Ind.value_text].astype("string").ne(""),
        others[Att.status].astype("string")))
    wide = others.pivot_table(index=Ind.indicator_no, columns=Ind.unit, values="_shown",
                              aggfunc="first")
    met = others[others[Att.status] == Status.met].groupby(Ind.indicator_no).size()
    out = mine[[c for c in columns if c in mine.columns]].copy()
    for col in sorted(wide.columns, key=number_key):
        out[col] = out[Ind.indicator_no].map(wide[col]).astype("string")
    out["others_met"] = out[Ind.indicator_no].map(met).fillna(0).astype("int64")
    return out.reset_index(drop=True)


def attainment_sentences(summary: pd.DataFrame, *, lang: str = "vi") -> str:
    """Say for each unit of a summary (schema ``Summ``) how many criteria and indicators it meets.

    One Markdown bullet per unit, in unit order (the chart titles say the same).

    >>> summ = pd.DataFrame({"unit": ["Kim Phượng"], "criteria_met": [3], "criteria_total": [6],
    ...                      "indicators_met": [25], "indicators_total": [35]})
    >>> attainment_sentences(summ)
    '- Kim Phượng đạt 3/6 tiêu chí, 25/35 chỉ tiêu'
    """
    check_lang(lang)
    counts = ["criteria_met", "criteria_total", "indicators_met", "indicators_total"]
    rows = _sort_numbered(summary, [Ind.unit])
    return "\n".join(
        "- " + t("title.unit_attainment_one", lang, unit=escape_md(r[Ind.unit]),
                 **{k: int(r[k]) for k in counts})
        for _, r in rows.iterrows()
    )
