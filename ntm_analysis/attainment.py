"""Criterion attainment: judge each indicator against its target, then roll up to criteria.

Rules (kept side by side for audit):

* an indicator is **met** when its value satisfies its parsed target (``status_basis='value'``);
* where the value or the target cannot be judged (compound legal text, a word the parser does not
  know), the unit's self-assessment decides (``'self_assessment'``);
* where neither exists the status is **unknown**, counted as not met and reported;
* an indicator of the criteria set that is absent from the workbook is **unknown** with basis
  ``'missing'``;
* a criterion is met only when every one of its indicators is met.

All functions are pure and vectorised: the frame comes first, the input is never modified.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ntm_analysis.catalogue import load_catalogue
from ntm_analysis.parse import (
    BOOL,
    COMPLIANCE,
    EQ,
    GE,
    GT,
    LE,
    LT,
    PERCENT,
    TEXT,
    TRUE,
    parse_target,
)
from ntm_analysis.schema import Att, Basis, Crit, Ind, Status, Summ, conform

_GROUP = [Ind.unit, Ind.unit_id, Ind.level, Ind.commune, Ind.year, Ind.criteria_set]


def _parse_targets(texts: pd.Series) -> pd.DataFrame:
    """Parse each distinct target text once; return comparator, value and unit per row."""
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    parsed = [parse_target(t) for t in uniques]
    # one extra slot at the end for missing texts (code -1)
    comparator = np.array([p.comparator for p in parsed] + [TEXT], dtype=object)
    value = pd.to_numeric(pd.Series([p.value for p in parsed] + [None], dtype=object),
                          errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    unit = np.array([p.unit for p in parsed] + [None], dtype=object)
    return pd.DataFrame({
        Att.target_comparator: pd.array(comparator[codes], dtype="string"),
        Att.target_value: pd.array(value[codes], dtype="Float64"),
        Att.target_unit: pd.array(unit[codes], dtype="string"),
    }, index=texts.index)


def _add_missing(indicators: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """Add an empty row for each catalogue indicator a recognised unit's table lacks."""
    known = indicators[indicators[Ind.criteria_set].notna() & indicators[Ind.unit].notna()]
    if known.empty:
        return indicators
    units = known.groupby(_GROUP, dropna=False, sort=False).agg(
        source_file=(Ind.source_file, "first"), source_sheet=(Ind.source_sheet, "first"),
    ).reset_index()
    cat_rows = catalogue.rename(columns={
        "set_id": Ind.criteria_set, "criterion_name_vi": Ind.criterion_name,
        "indicator_name_vi": Ind.indicator_name,
    })[[Ind.criteria_set, Ind.criterion_no, Ind.criterion_name, Ind.indicator_no,
        Ind.indicator_name, "target_text"]].rename(columns={"target_text": Ind.target_text})
    expected = units.merge(cat_rows, on=Ind.criteria_set, how="inner")
    present = known[_GROUP + [Ind.indicator_no]].drop_duplicates()
    merged = expected.merge(present, on=_GROUP + [Ind.indicator_no], how="left", indicator=True)
    missing = merged[merged["_merge"] == "left_only"].drop(columns="_merge")
    if missing.empty:
        return indicators
    missing = missing.assign(**{Att.status_basis: Basis.missing})
    return pd.concat([indicators, missing], ignore_index=True)


def compute_attainment(indicators: pd.DataFrame, *, catalogue: pd.DataFrame | None = None,
                       add_missing: bool = True) -> pd.DataFrame:
    """Judge every indicator and return the attainment table (schema ``Att``).

    Parameters
    ----------
    indicators
        The tidy indicator table (schema ``Ind``).
    catalogue
        Criteria catalogue; default: the package's (``load_catalogue()``).
    add_missing
        Add unknown rows for catalogue indicators absent from a recognised unit's table.

    Examples
    --------
    >>> ind = pd.DataFrame({"unit": ["Xóm A"] * 2, "criteria_set": [None, None],
    ...                     "criterion_no": ["1", "1"], "indicator_no": ["1.1", "1.2"],
    ...                     "target_text": ["≥ 90%", "Đạt"], "value": [95.0, None],
    ...                     "value_unit": ["%", None], "self_assessment": [None, "not_met"]})
    >>> att = compute_attainment(ind)
    >>> att[["indicator_no", "status", "status_basis"]].to_dict("records")
    [{'indicator_no': '1.1', 'status': 'met', 'status_basis': 'value'},
     {'indicator_no': '1.2', 'status': 'not_met', 'status_basis': 'self_assessment'}]
    """
    cat = load_catalogue() if catalogue is None else catalogue
    df = conform(indicators, Ind)
    if add_missing:
        df = _add_missing(df, cat)
    basis_missing = df.get(Att.status_basis, pd.Series(pd.NA, index=df.index)).eq(Basis.missing)
    basis_missing = basis_missing.fillna(False).astype(bool)
    df = conform(df, Ind)
    # catalogue facts: found/inferred status, fallback names and targets
    lookup = cat.rename(columns={"set_id": Ind.criteria_set})[
        [Ind.criteria_set, Ind.indicator_no, "status", "target_text", "criterion_name_vi",
         "indicator_name_vi"]
    ].drop_duplicates([Ind.criteria_set, Ind.indicator_no])
    merged = df[[Ind.criteria_set, Ind.indicator_no]].merge(
        lookup, on=[Ind.criteria_set, Ind.indicator_no], how="left")
    merged.index = df.index
    out = df.copy()
    out[Att.catalogue_status] = merged["status"].astype("string")
    out[Ind.target_text] = out[Ind.target_text].fillna(merged["target_text"].astype("string"))
    out[Ind.criterion_name] = out[Ind.criterion_name].fillna(
        merged["criterion_name_vi"].astype("string"))
    out[Ind.indicator_name] = out[Ind.indicator_name].fillna(
        merged["indicator_name_vi"].astype("string"))
    targets = _parse_targets(out[Ind.target_text])
    out = pd.concat([out, targets], axis=1)

    value = out[Ind.value].astype("float64").to_numpy(na_value=np.nan)
    tval = out[Att.target_value].astype("float64").to_numpy(na_value=np.nan)
    cmp_ = out[Att.target_comparator].fillna(TEXT).to_numpy(dtype=object)
    vunit = out[Ind.value_unit].fillna("").to_numpy(dtype=object)
    tunit = out[Att.target_unit].fillna("").to_numpy(dtype=object)
    # a fraction (0.95) in a percentage row means 95%
    compliance = vunit == COMPLIANCE
    fraction = (tunit == PERCENT) & (vunit != PERCENT) & (vunit != BOOL) & ~compliance & \
        (value > 0) & \
        (value <= 1) & (tval > 1) & np.isin(cmp_, [GE, GT, EQ])
    value = np.where(fraction, value * 100.0, value)
    # a yes/no value against a count target: "Chưa có" is 0 and "Có" is at least 1; against a
    # percentage it says nothing, so the self-assessment decides
    is_bool = vunit == BOOL
    bool_ok = (cmp_ == TRUE) | ((tunit != PERCENT) & (
        (value == 0) | ((value == 1) & (cmp_ == GE) & (tval <= 1)) | ((cmp_ == EQ) & (tval == 0))))
    bool_vs_number = is_bool & ~bool_ok
    # "Đạt" / "Chưa đạt" written as the result states compliance with whatever the target is
    judgeable = (~np.isnan(value) & (cmp_ != TEXT) & ~bool_vs_number &
                 ((cmp_ == TRUE) | ~np.isnan(tval))) | (compliance & ~np.isnan(value))
    eps = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(tval)))
    with np.errstate(invalid="ignore"):
        met = np.select(
            [cmp_ == GE, cmp_ == GT, cmp_ == LE, cmp_ == LT, cmp_ == EQ, cmp_ == TRUE],
            [value >= tval - eps, value > tval + eps, value <= tval + eps, value < tval - eps,
             np.abs(value - tval) <= eps, value > 0],
            default=False,
        )
        gap = np.select(
            [cmp_ == GE, cmp_ == GT, cmp_ == LE, cmp_ == LT, cmp_ == EQ, cmp_ == TRUE],
            [tval - value, tval - value, value - tval, value - tval, np.abs(value - tval),
             np.ones_like(value)],
            default=np.nan,
        )
    met = np.where(compliance, value > 0, met)
    gap = np.where(compliance, np.where(met, 0.0, np.nan), gap)
    gap = np.where(met, 0.0, np.maximum(gap, 0.0))
    computed = np.where(judgeable, np.where(met, Status.met, Status.not_met), np.array(None))
    selfa = out[Ind.self_assessment].to_numpy(dtype=object, na_value=None)
    has_self = pd.notna(selfa)
    status = np.where(judgeable, computed, np.where(has_self, selfa, Status.unknown))
    basis = np.where(judgeable, Basis.value, np.where(has_self, Basis.self_assessment, Basis.none))
    basis = np.where(basis_missing.to_numpy(), Basis.missing, basis)
    out[Ind.value] = pd.array(np.where(np.isnan(value), None, value), dtype="Float64")
    out[Att.computed_status] = pd.array(computed, dtype="string")
    out[Att.status] = pd.array(status, dtype="string")
    out[Att.status_basis] = pd.array(basis, dtype="string")
    out[Att.gap] = pd.array(np.where(judgeable, gap, np.nan), dtype="Float64")
    out.loc[~judgeable, Att.gap] = pd.NA
    out[Att.discrepancy] = pd.array(judgeable & has_self & (computed != selfa), dtype="boolean")
    out = conform(out, Att)
    return _sort(out)


def _sort(df: pd.DataFrame) -> pd.DataFrame:
    codes, uniques = pd.factorize(df[Ind.indicator_no].fillna(""))
    # the numeric key of each distinct number "1.10" → (1, 10), ranked once, spread by code
    keys = [tuple(int(p) if p.isdigit() else 0 for p in str(u).split(".")) for u in uniques]
    dense = {k: i for i, k in enumerate(sorted(set(keys)))}  # equal keys share a rank
    rank = np.array([dense[k] for k in keys], dtype="int64")
    return (df.assign(_k=rank[codes])
              .sort_values([Ind.level, Ind.commune, Ind.unit, Ind.year, Ind.criteria_set, "_k"],
                           na_position="last", kind="stable")
              .drop(columns="_k").reset_index(drop=True))


def summarise_criteria(attainment: pd.DataFrame) -> pd.DataFrame:
    """Return one row per unit × criterion (schema ``Crit``): met only when all indicators are.

    Examples
    --------
    >>> att = pd.DataFrame({"unit": ["A", "A", "A"], "criterion_no": ["1", "1", "2"],
    ...                     "status": ["met", "not_met", "met"]})
    >>> summarise_criteria(att)[["criterion_no", "indicators_met", "met"]].to_dict("records")
    [{'criterion_no': '1', 'indicators_met': 1, 'met': False},
     {'criterion_no': '2', 'indicators_met': 1, 'met': True}]
    """
    df = conform(attainment, Att)
    df = df[df[Ind.criterion_no].notna()]
    keys = _GROUP + [Ind.criterion_no]
    g = df.assign(
        _met=df[Att.status].eq(Status.met).fillna(False),
        _unknown=df[Att.status].eq(Status.unknown).fillna(False),
    ).groupby(keys, dropna=False, sort=False)
    out = g.agg(
        criterion_name=(Ind.criterion_name, "first"),
        indicators_met=("_met", "sum"),
        indicators_total=(Att.status, "size"),
        indicators_unknown=("_unknown", "sum"),
        source_file=(Ind.source_file, "first"),
        source_sheet=(Ind.source_sheet, "first"),
    ).reset_index()
    out["met"] = out["indicators_met"] == out["indicators_total"]
    out = conform(out, Crit)
    num = out[Ind.criterion_no].map(lambda s: int(s) if str(s).isdigit() else 10**6)
    return (out.assign(_n=num).sort_values([Ind.level, Ind.commune, Ind.unit, Ind.year, "_n"],
                                           na_position="last", kind="stable")
               .drop(columns="_n").reset_index(drop=True))


def summarise_attainment(attainment: pd.DataFrame) -> pd.DataFrame:
    """Return one row per unit × criteria set × year (schema ``Summ``).

    Counts: criteria met/total, indicators met/total, unknown (counted as not met) and
    discrepancies between the computed and the self-assessed status.
    """
    df = conform(attainment, Att)
    if df.empty:
        return conform(pd.DataFrame(columns=Summ.columns()), Summ)
    crit = summarise_criteria(df)
    by_unit = df.assign(
        _met=df[Att.status].eq(Status.met).fillna(False),
        _unknown=df[Att.status].eq(Status.unknown).fillna(False),
        _disc=df[Att.discrepancy].fillna(False),
    ).groupby(_GROUP, dropna=False, sort=False).agg(
        indicators_met=("_met", "sum"), indicators_total=(Att.status, "size"),
        indicators_unknown=("_unknown", "sum"), discrepancies=("_disc", "sum"),
        source_file=(Ind.source_file, lambda s: "; ".join(sorted(set(s.dropna())))),
    ).reset_index()
    crit_counts = crit.groupby(_GROUP, dropna=False, sort=False).agg(
        criteria_met=("met", "sum"), criteria_total=("met", "size")).reset_index()
    out = by_unit.merge(crit_counts, on=_GROUP, how="left")
    out[["criteria_met", "criteria_total"]] = out[["criteria_met", "criteria_total"]].fillna(0)
    out = conform(out, Summ)
    return out.sort_values([Summ.level, Summ.commune, Summ.unit, Summ.year],
                           na_position="last", kind="stable").reset_index(drop=True)


def list_discrepancies(attainment: pd.DataFrame) -> pd.DataFrame:
    """Return the indicators whose computed status disagrees with the self-assessment."""
    df = conform(attainment, Att)
    return df[df[Att.discrepancy].fillna(False)].reset_index(drop=True)


def list_gaps(attainment: pd.DataFrame) -> pd.DataFrame:
    """Return the indicators that are not met (including unknown), largest relative gap first."""
    df = conform(attainment, Att)
    gaps = df[df[Att.status] != Status.met].copy()
    rel = (gaps[Att.gap] / gaps[Att.target_value].where(gaps[Att.target_value] != 0)).astype(
        "Float64")
    gaps["relative_gap"] = rel
    return gaps.sort_values([Ind.unit, "relative_gap"], ascending=[True, False],
                            na_position="last", kind="stable").reset_index(drop=True)
