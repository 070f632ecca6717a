"""The previous ``compute_attainment`` (integer codes, sort then gather every column), kept verbatim as
the specification that the faster code in ``ntm_analysis.attainment`` must reproduce exactly. Its
text columns are strings (``StringAtt``); the current table holds the same values as categoricals."""
# ruff: noqa
# mypy: ignore-errors
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
from ntm_analysis.schema import _Schema


class StringAtt(_Schema):
    """``Att`` as it was when this code was current: every text column ``"string"``."""

    dtypes = {c: "string" if t == "category" else t for c, t in Att.dtypes.items()}

_GROUP = [Ind.unit, Ind.unit_id, Ind.level, Ind.commune, Ind.year, Ind.criteria_set]
#: Sort keys of the attainment table (then the indicator number, numerically).
_SORT = [Ind.level, Ind.commune, Ind.unit, Ind.year, Ind.criteria_set]


def _group_codes(df: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct key combinations of ``columns`` in order of first appearance.

    Missing values are keys like any other (as ``groupby(dropna=False)`` and ``merge`` treat
    them). Returns each row's group code and, per code, the position of its first row: the
    same groups, in the same order, as ``groupby(columns, dropna=False, sort=False)``.
    """
    n = len(df)
    codes = np.zeros(n, dtype="int64")
    for col in columns:
        c, uniques = pd.factorize(df[col], use_na_sentinel=False)
        codes, _ = pd.factorize(codes * (len(uniques) + 1) + c)  # kept dense: no overflow
        codes = codes.astype("int64", copy=False)
    if not columns:
        return codes, np.zeros(min(n, 1), dtype="int64")
    _, first = np.unique(codes, return_index=True)  # codes number groups by first appearance
    return codes, first


def _sort_codes(values: pd.Series) -> np.ndarray:
    """Integer keys that sort like ``values`` (``sort_values``, missing values last)."""
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    return np.where(codes < 0, len(uniques), codes)


def _string_take(labels: list[str | None], codes: np.ndarray) -> pd.arrays.StringArray:
    """A string array holding ``labels[code]`` per row (a code of -1, or a None label, is NA)."""
    small = pd.array(labels, dtype="string")
    return small.take(codes, allow_fill=True)


def _first_valid(values: pd.Series, codes: np.ndarray, n_groups: int) -> pd.Series:
    """Per group, the first non-missing value (what ``groupby(...).first()`` returns)."""
    valid = values.notna().to_numpy()
    positions = np.flatnonzero(valid)
    taken = np.full(n_groups, -1, dtype="int64")
    groups, first = np.unique(codes[positions], return_index=True)
    taken[groups] = positions[first]
    array = values.array.take(taken, allow_fill=True)
    return pd.Series(array)


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
    """Add an empty row for each catalogue indicator a recognised unit's table lacks.

    Units are numbered by first appearance and (unit, indicator number) pairs encoded as
    integers, so finding the missing pairs is one ``np.isin`` rather than two merges.
    """
    known = indicators[indicators[Ind.criteria_set].notna() & indicators[Ind.unit].notna()]
    if known.empty:
        return indicators
    known = known.reset_index(drop=True)
    codes, first = _group_codes(known, _GROUP)
    units = known[_GROUP].take(first).reset_index(drop=True)
    for col in (Ind.source_file, Ind.source_sheet):
        units[col] = _first_valid(known[col], codes, len(first))
    cat_rows = catalogue.rename(columns={
        "set_id": Ind.criteria_set, "criterion_name_vi": Ind.criterion_name,
        "indicator_name_vi": Ind.indicator_name,
    })[[Ind.criteria_set, Ind.criterion_no, Ind.criterion_name, Ind.indicator_no,
        Ind.indicator_name, "target_text"]].rename(columns={"target_text": Ind.target_text})
    cat_rows = cat_rows.reset_index(drop=True)
    # expected pairs: each unit × the catalogue rows of its set, in catalogue order
    cat_set = cat_rows[Ind.criteria_set].astype("object").to_numpy()
    unit_set = units[Ind.criteria_set].astype("object").to_numpy()
    by_set = {key: np.flatnonzero(cat_set == key) for key in pd.unique(cat_set)}
    empty = np.zeros(0, dtype="int64")
    rows_of = [by_set.get(key, empty) for key in unit_set]
    counts = np.array([len(r) for r in rows_of], dtype="int64")
    if not counts.sum():
        return indicators
    exp_unit = np.repeat(np.arange(len(units)), counts)
    exp_cat = np.concatenate(rows_of)
    # indicator numbers of the table and of the catalogue, numbered together
    numbers = pd.concat([known[Ind.indicator_no].astype("object"),
                         cat_rows[Ind.indicator_no].astype("object")], ignore_index=True)
    no_codes, no_uniques = pd.factorize(numbers, use_na_sentinel=False)
    width = len(no_uniques) + 1
    present = codes * width + no_codes[:len(known)]
    expected = exp_unit * width + no_codes[len(known):][exp_cat]
    lacking = ~np.isin(expected, present)
    if not lacking.any():
        return indicators
    unit_part = units.take(exp_unit[lacking]).reset_index(drop=True)
    cat_part = cat_rows.drop(columns=Ind.criteria_set).take(exp_cat[lacking]).reset_index(
        drop=True)
    missing = pd.concat([unit_part, cat_part], axis=1)
    missing = missing[_GROUP + [Ind.source_file, Ind.source_sheet, Ind.criterion_no,
                                Ind.criterion_name, Ind.indicator_no, Ind.indicator_name,
                                Ind.target_text]]
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
    ].drop_duplicates([Ind.criteria_set, Ind.indicator_no]).reset_index(drop=True)
    row_of = _catalogue_rows(df, lookup)
    out = df.copy()

    def fact(column: str) -> pd.api.extensions.ExtensionArray:
        return pd.array(lookup[column].astype("object").tolist(), dtype="string").take(
            row_of, allow_fill=True)

    out[Att.catalogue_status] = fact("status")
    out[Ind.target_text] = out[Ind.target_text].fillna(pd.Series(fact("target_text")))
    out[Ind.criterion_name] = out[Ind.criterion_name].fillna(
        pd.Series(fact("criterion_name_vi")))
    out[Ind.indicator_name] = out[Ind.indicator_name].fillna(
        pd.Series(fact("indicator_name_vi")))
    targets = _parse_targets(out[Ind.target_text])
    out = pd.concat([out, targets], axis=1)

    value = out[Ind.value].astype("float64").to_numpy(na_value=np.nan)
    tval = out[Att.target_value].astype("float64").to_numpy(na_value=np.nan)
    # comparators and units as small integer codes: comparisons on 10⁶ Python strings are slow
    cmp_codes, cmp_uniques = pd.factorize(out[Att.target_comparator].fillna(TEXT))
    cmp_names = list(cmp_uniques)

    def is_cmp(name: str) -> np.ndarray:
        return cmp_codes == (cmp_names.index(name) if name in cmp_names else -2)

    ge, gt, le, lt, eq, true, text = (is_cmp(c) for c in (GE, GT, LE, LT, EQ, TRUE, TEXT))
    vunit = out[Ind.value_unit].fillna("")
    v_percent = vunit.eq(PERCENT).to_numpy(dtype=bool)
    is_bool = vunit.eq(BOOL).to_numpy(dtype=bool)
    t_percent = out[Att.target_unit].fillna("").eq(PERCENT).to_numpy(dtype=bool)
    # a fraction (0.95) in a percentage row means 95%
    compliance = vunit.eq(COMPLIANCE).to_numpy(dtype=bool)
    # (also when the "%" is the unit column's, not written in the cell: "0,95%" is 0.95%)
    # (against a bare number too: the unit column's "%" is the target's)
    written = out[Ind.value_text].fillna("").str.contains("%", regex=False).to_numpy(dtype=bool)
    t_bare = out[Att.target_unit].isna().to_numpy(dtype=bool)
    fraction = ((t_percent & ~v_percent) | (v_percent & ~written & (t_percent | t_bare))) & \
        ~is_bool & ~compliance & (value > 0) & (value <= 1) & (tval > 1) & (ge | gt | eq)
    value = np.where(fraction, value * 100.0, value)
    # a yes/no value against a count target: "Chưa có" is 0 and "Có" is at least 1; against a
    # percentage "Có" says nothing, so the self-assessment decides, but none ("Không có hộ
    # nghèo") is 0%
    bool_ok = true | (value == 0) | (~t_percent & (
        ((value == 1) & ge & (tval <= 1)) | (eq & (tval == 0))))
    bool_vs_number = is_bool & ~bool_ok
    # "Đạt" / "Chưa đạt" written as the result states compliance with whatever the target is
    judgeable = (~np.isnan(value) & ~text & ~bool_vs_number & (true | ~np.isnan(tval))) | \
        (compliance & ~np.isnan(value))
    eps = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(tval)))
    with np.errstate(invalid="ignore"):
        met = np.select(
            [ge, gt, le, lt, eq, true],
            [value >= tval - eps, value > tval + eps, value <= tval + eps, value < tval - eps,
             np.abs(value - tval) <= eps, value > 0],
            default=False,
        )
        gap = np.select(
            [ge, gt, le, lt, eq, true],
            [tval - value, tval - value, value - tval, value - tval, np.abs(value - tval),
             np.ones_like(value)],
            default=np.nan,
        )
    met = np.where(compliance, value > 0, met)
    gap = np.where(compliance, np.where(met, 0.0, np.nan), gap)
    gap = np.where(met, 0.0, np.maximum(gap, 0.0))
    # statuses as codes into one small label list, turned into strings once at the end
    labels: list[str | None] = [Status.met, Status.not_met, Status.unknown, Basis.value,
                                Basis.self_assessment, Basis.none, Basis.missing]
    code = {label: i for i, label in enumerate(labels)}
    computed = np.where(judgeable, np.where(met, code[Status.met], code[Status.not_met]), -1)
    # self-assessments: the known words share the codes above; any other text keeps its own
    self_codes, self_uniques = pd.factorize(out[Ind.self_assessment])
    has_self = self_codes >= 0
    self_labels = [str(u) for u in self_uniques]
    all_labels = labels + [u for u in dict.fromkeys(self_labels) if u not in code]
    index = {label: i for i, label in enumerate(all_labels)}
    self_as = np.array([index[u] for u in self_labels] + [-1], dtype="int64")
    self_code = self_as[self_codes]  # code -1 takes the last slot: no self-assessment
    status = np.where(judgeable, computed, np.where(has_self, self_code, code[Status.unknown]))
    basis = np.where(judgeable, code[Basis.value],
                     np.where(has_self, code[Basis.self_assessment], code[Basis.none]))
    basis = np.where(basis_missing.to_numpy(), code[Basis.missing], basis)
    out[Ind.value] = pd.array(value, dtype="Float64")  # NaN → NA
    out[Att.computed_status] = _string_take(all_labels, computed)
    out[Att.status] = _string_take(all_labels, status)
    out[Att.status_basis] = _string_take(all_labels, basis)
    out[Att.gap] = pd.array(np.where(judgeable, gap, np.nan), dtype="Float64")
    out[Att.discrepancy] = pd.array(judgeable & has_self & (computed != self_code),
                                    dtype="boolean")
    out = conform(out, StringAtt)
    return _sort(out)


def _catalogue_rows(df: pd.DataFrame, lookup: pd.DataFrame) -> np.ndarray:
    """Row of ``lookup`` matching each row's (criteria set, indicator number), or -1."""
    keys = pd.concat([df[[Ind.criteria_set, Ind.indicator_no]].astype("object"),
                      lookup[[Ind.criteria_set, Ind.indicator_no]].astype("object")],
                     ignore_index=True)
    codes, _ = _group_codes(keys, [Ind.criteria_set, Ind.indicator_no])
    n = len(df)
    where = np.full(int(codes.max()) + 1 if len(codes) else 0, -1, dtype="int64")
    lookup_codes = codes[n:]
    valid = lookup[Ind.criteria_set].notna().to_numpy() & \
        lookup[Ind.indicator_no].notna().to_numpy()  # a missing key never matches
    where[lookup_codes[valid][::-1]] = np.flatnonzero(valid)[::-1]  # first row wins
    return where[codes[:n]]


def _indicator_rank(numbers: pd.Series) -> np.ndarray:
    """Numeric rank of indicator numbers: "1.10" after "1.9"; equal numbers share a rank."""
    codes, uniques = pd.factorize(numbers.fillna(""))
    # the numeric key of each distinct number "1.10" → (1, 10), ranked once, spread by code
    keys = [tuple(int(p) if p.isdigit() else 0 for p in str(u).split(".")) for u in uniques]
    dense = {k: i for i, k in enumerate(sorted(set(keys)))}  # equal keys share a rank
    rank = np.array([dense[k] for k in keys], dtype="int64")
    return rank[codes]


def _sort(df: pd.DataFrame) -> pd.DataFrame:
    """Sort by unit keys then indicator number (stable; missing keys last); index reset."""
    keys = [_sort_codes(df[c]) for c in _SORT] + [_indicator_rank(df[Ind.indicator_no])]
    order = np.lexsort(keys[::-1])  # the last key given to lexsort is the primary one
    return _take_rows(df, order)


def _take_rows(df: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """``df.take(order).reset_index(drop=True)``, faster for string columns.

    Gathering 10⁶ Arrow strings in random order is slow; numbering the distinct texts and
    gathering the numbers gives the same column in a fraction of the time.
    """
    if len(order) == len(df) and bool(np.all(order == np.arange(len(order)))):
        return df.reset_index(drop=True)  # already in order: nothing to gather
    columns = {}
    for name, series in df.items():
        if isinstance(series.dtype, pd.StringDtype):
            codes, uniques = pd.factorize(series)
            small = pd.array(np.asarray(uniques, dtype=object), dtype=series.dtype)
            columns[name] = pd.Series(small.take(codes[order], allow_fill=True))
        else:
            columns[name] = series.take(order).reset_index(drop=True)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(order)))


