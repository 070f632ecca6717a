"""Attainment rules (issue 2, item 5) on inline indicator tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ntm_analysis.attainment import (
    compute_attainment,
    list_discrepancies,
    summarise_attainment,
    summarise_criteria,
)
from ntm_analysis.catalogue import load_catalogue
from ntm_analysis.schema import Att, Ind, Summ

SMART_SET = "TN_XOM_THONG_MINH"


def indicators(rows: list[tuple[object, ...]], *, unit: str = "Xóm A",
               criteria_set: str | None = None) -> pd.DataFrame:
    """rows: (criterion_no, indicator_no, target_text, value, value_unit, self_assessment)."""
    frame = pd.DataFrame(rows, columns=[Ind.criterion_no, Ind.indicator_no, Ind.target_text,
                                        Ind.value, Ind.value_unit, Ind.self_assessment])
    return frame.assign(**{Ind.unit: unit, Ind.level: "hamlet", Ind.year: 2024,
                           Ind.criteria_set: criteria_set, Ind.source_file: "a.xlsx"})


RULES = indicators([
    # value against target
    ("1", "1.1", "≥ 90%", 95.0, "%", "met"),
    ("1", "1.2", "≥ 90%", 85.0, "%", "not_met"),
    # a fraction in a percentage row
    ("1", "1.3", "≥ 90%", 0.95, None, "met"),
    # compound target: the self-assessment decides
    ("2", "2.1", "Hoàn thành tiểu học 100%; THCS ≥ 98%", 99.0, "%", "met"),
    # no value: the self-assessment decides
    ("2", "2.2", "Có", None, None, "not_met"),
    # neither value nor self-assessment: unknown
    ("3", "3.1", "≥ 50%", None, None, None),
    # the value disagrees with the self-assessment: a discrepancy, the value wins
    ("3", "3.2", "Có", 0.0, "bool", "met"),
    # yes/no against a count target
    ("4", "4.1", "≥ 01 mô hình", 1.0, "bool", "met"),
    ("4", "4.2", "Không có hộ nghèo", 0.0, "hộ", "met"),
    ("4", "4.3", "≤ 3%", 4.5, "%", "not_met"),
])


def test_indicator_statuses_and_their_basis() -> None:
    att = compute_attainment(RULES, add_missing=False)
    got = att[[Ind.indicator_no, Ind.value, Att.computed_status, Att.status, Att.status_basis,
               Att.discrepancy]].astype(object).where(att.notna(), None)
    expected = pd.DataFrame([
        ("1.1", 95.0, "met", "met", "value", False),
        ("1.2", 85.0, "not_met", "not_met", "value", False),
        ("1.3", 95.0, "met", "met", "value", False),
        ("2.1", 99.0, None, "met", "self_assessment", False),
        ("2.2", None, None, "not_met", "self_assessment", False),
        ("3.1", None, None, "unknown", "none", False),
        ("3.2", 0.0, "not_met", "not_met", "value", True),
        ("4.1", 1.0, "met", "met", "value", False),
        ("4.2", 0.0, "met", "met", "value", False),
        ("4.3", 4.5, "not_met", "not_met", "value", False),
    ], columns=got.columns, dtype=object)
    pd.testing.assert_frame_equal(got, expected)


def test_gap_is_kept_for_unmet_judged_indicators() -> None:
    att = compute_attainment(RULES, add_missing=False).set_index(Ind.indicator_no)
    assert att.loc["1.2", Att.gap] == 5.0
    assert att.loc["4.3", Att.gap] == pytest.approx(1.5)
    assert att.loc["1.1", Att.gap] == 0.0
    assert pd.isna(att.loc["2.1", Att.gap])


def test_criterion_met_only_when_every_indicator_is() -> None:
    crit = summarise_criteria(compute_attainment(RULES, add_missing=False))
    got = crit[[Ind.criterion_no, "indicators_met", "indicators_total", "indicators_unknown",
                "met"]].astype(object)
    expected = pd.DataFrame([
        ("1", 2, 3, 0, False),
        ("2", 1, 2, 0, False),
        ("3", 0, 2, 1, False),
        ("4", 2, 3, 0, False),
    ], columns=got.columns).astype(object)
    pd.testing.assert_frame_equal(got, expected)
    one = indicators([("1", "1.1", "Có", 1.0, "bool", "met"),
                      ("1", "1.2", "≥ 90%", 91.0, "%", None)])
    assert summarise_criteria(compute_attainment(one, add_missing=False))["met"].tolist() == [True]


def test_unit_summary_counts_unknown_as_not_met_and_reports_it() -> None:
    summary = summarise_attainment(compute_attainment(RULES, add_missing=False))
    row = summary.iloc[0]
    assert (row[Summ.unit], row[Summ.criteria_met], row[Summ.criteria_total],
            row[Summ.indicators_met], row[Summ.indicators_total],
            row[Summ.indicators_unknown], row[Summ.discrepancies]) == \
        ("Xóm A", 0, 4, 5, 10, 1, 1)


def test_discrepancies_are_listed() -> None:
    disc = list_discrepancies(compute_attainment(RULES, add_missing=False))
    assert disc[[Ind.indicator_no, Att.computed_status, Ind.self_assessment]].values.tolist() \
        == [["3.2", "not_met", "met"]]


def test_missing_catalogue_indicators_are_added_as_unknown() -> None:
    ind = indicators([("1", "1.1", "≥ 80%", 86.0, "%", "met"),
                      ("1", "1.2", "100%", 100.0, "%", "met")], criteria_set=SMART_SET)
    att = compute_attainment(ind)
    catalogue = load_catalogue(set_id=SMART_SET)
    assert sorted(att[Ind.indicator_no]) == sorted(catalogue["indicator_no"])
    added = att[~att[Ind.indicator_no].isin(["1.1", "1.2"])]
    assert set(added[Att.status]) == {"unknown"}
    assert set(added[Att.status_basis]) == {"missing"}
    # names and targets come from the catalogue
    assert added[Ind.target_text].notna().all() and added[Ind.indicator_name].notna().all()
    s = summarise_attainment(att).iloc[0]
    n_crit = catalogue["criterion_no"].nunique()
    assert (s[Summ.criteria_met], s[Summ.criteria_total], s[Summ.indicators_met],
            s[Summ.indicators_total], s[Summ.indicators_unknown]) == \
        (0, n_crit, 2, len(catalogue), len(catalogue) - 2)


def test_input_not_modified_and_output_sorted() -> None:
    shuffled = RULES.iloc[::-1].reset_index(drop=True)
    before = shuffled.copy()
    att = compute_attainment(shuffled, add_missing=False)
    pd.testing.assert_frame_equal(shuffled, before)
    assert att[Ind.indicator_no].tolist() == RULES[Ind.indicator_no].tolist()
    assert list(att.index) == list(range(len(att)))
    assert list(att.columns) == Att.columns()


def test_units_are_summarised_separately() -> None:
    both = pd.concat([
        indicators([("1", "1.1", "Có", 1.0, "bool", None)], unit="Xóm A"),
        indicators([("1", "1.1", "Có", 0.0, "bool", None)], unit="Xóm B"),
    ], ignore_index=True)
    s = summarise_attainment(compute_attainment(both, add_missing=False))
    assert s[[Summ.unit, Summ.criteria_met, Summ.indicators_met]].values.tolist() == [
        ["Xóm A", 1, 1], ["Xóm B", 0, 0]]


def test_result_written_as_dat_states_compliance_whatever_the_target() -> None:
    """'Đạt' in the result column means the target is met, even for "Không có hộ nghèo"."""
    ind = pd.DataFrame({
        "unit": ["Xóm A"] * 3, "criterion_no": ["9", "9", "3"],
        "indicator_no": ["9.1", "9.2", "3.2"],
        "target_text": ["Không có hộ nghèo", "≤ 3%", "≥ 03 năm liên tục"],
        "value_text": ["Đạt", "Chưa đạt", "Đạt"],
        "value": [1.0, 0.0, 1.0], "value_unit": ["compliance"] * 3,
        "self_assessment": [None, None, None],
    })
    att = compute_attainment(ind, add_missing=False)
    got = dict(zip(att["indicator_no"], att["status"], strict=True))
    assert got == {"9.1": "met", "9.2": "not_met", "3.2": "met"}
    assert set(att["status_basis"]) == {"value"}


def test_money_in_another_unit_is_compared_in_the_targets_unit() -> None:
    """An income written in đồng, nghìn đồng or tỷ đồng is judged against "≥ 70 triệu
    đồng/người/năm" after conversion (54,030,000 đồng is 54.03 million: not met, 15.97 short);
    the value column keeps the number as written. Taken as millions, each was "met"."""
    target = "≥ 70 triệu đồng/người/năm"
    ind = indicators([
        ("1", "1.1", target, 54_030_000.0, "đồng", None),
        ("1", "1.2", target, 72_500.0, "nghìn đồng", None),
        ("1", "1.3", target, 0.054, "tỷ đồng", None),
        ("1", "1.4", target, 54.03, "triệu đồng/người/năm", None),
        ("1", "1.5", "≥ 01 mô hình", 2.0, "mô hình", None),
        ("1", "1.6", target, 4.5, "triệu đồng/người/tháng", None),  # a month's: 54 a year
        ("1", "1.7", target, 54_030.0, "nghìn VNĐ", None),
    ])
    att = compute_attainment(ind, add_missing=False).set_index(Ind.indicator_no)
    assert list(att[Att.status]) == ["not_met", "met", "not_met", "not_met", "met", "not_met",
                                     "not_met"]
    assert att[Att.gap].tolist() == pytest.approx([15.97, 0.0, 16.0, 15.97, 0.0, 16.0, 15.97])
    assert att.loc["1.1", Ind.value] == 54_030_000.0


VALUE_UNITS = [None, "%", "hộ", "mô hình", "sản phẩm", "đồng", "nghìn đồng", "triệu đồng",
               "tỷ đồng", "triệu đồng/người/tháng", "nghìn VNĐ", "tr.đ", "km", "lần", "Lần"]
TARGET_TEXTS = ["≥ 90%", "≤ 3%", "≥ 01 mô hình", "≥ 70 triệu đồng/người/năm", "≥ 70",
                "≥ 1,1 lần", "≥ 50 km", "100%"]


def test_the_vectorised_unit_rule_is_parse_comparable() -> None:
    """compute_attainment spells the rule of ``parse.comparable`` for whole columns: for every
    pair of a value's unit and a target, a row is left to its self-assessment exactly when
    ``comparable`` says the two cannot be compared (the loader's warnings use ``comparable``)."""
    from ntm_analysis.parse import Value, comparable, parse_target

    pairs = [(u, t) for u in VALUE_UNITS for t in TARGET_TEXTS]
    ind = indicators([("1", f"1.{i + 1}", t, 5.0, u, "met")
                      for i, (u, t) in enumerate(pairs)])
    att = compute_attainment(ind, add_missing=False)
    by_value = dict(zip(att[Ind.indicator_no], att[Att.status_basis] == "value", strict=True))
    expected = {f"1.{i + 1}": comparable(Value("number", 5.0, u, "5"), parse_target(t))
                for i, (u, t) in enumerate(pairs)}
    assert by_value == expected
    assert 0 < sum(expected.values()) < len(pairs)  # both kinds of pair are in the grid


def test_a_value_in_a_unit_the_target_cannot_be_compared_with_is_not_judged() -> None:
    """A count against a percentage, a percentage against a count or money, a count against
    money, money or a count against a ratio ("≥ 1,5 lần"), "Có" against a percentage: the
    self-assessment decides (each was judged by the bare numbers: "120 hộ" met "≥ 90%", "75
    triệu đồng" met "≥ 1,5 lần"); counts of other words, yes/no against a count, none
    ("Không có hộ nghèo") against a percentage (0%: it was left unknown), a bare number and a
    ratio in "Lần" are judged."""
    ind = indicators([
        ("1", "1.1", "≥ 01 mô hình", 95.0, "%", "not_met"),
        ("1", "1.2", "≥ 90%", 2.0, "mô hình", "met"),
        ("1", "1.3", "≥ 90%", 120.0, "hộ", "not_met"),
        ("1", "1.4", "≥ 70 triệu đồng/người/năm", 95.0, "%", None),
        ("1", "1.5", "≥ 70 triệu đồng/người/năm", 95.0, "hộ", None),
        ("2", "2.1", "≥ 01 mô hình", 2.0, "sản phẩm", None),
        ("2", "2.2", "≥ 01 mô hình", 1.0, "bool", None),
        ("2", "2.3", "≥ 90%", 95.0, None, None),
        ("2", "2.4", "Không có hộ nghèo", 0.0, "hộ", None),
        ("3", "3.1", "≥ 1,5 lần", 75.0, "triệu đồng", "met"),
        ("3", "3.2", "≥ 1,5 lần", 120.0, "hộ", None),
        ("3", "3.3", "≥ 90%", 1.0, "bool", "met"),
        ("4", "4.1", "≤ 2%", 0.0, "bool", None),
        ("4", "4.2", "≥ 90%", 0.0, "bool", None),
        ("4", "4.3", "≥ 1,5 lần", 1.6, "Lần", None),
    ])
    att = compute_attainment(ind, add_missing=False)
    got = list(zip(att[Ind.indicator_no], att[Att.status], att[Att.status_basis], strict=True))
    assert got == [
        ("1.1", "not_met", "self_assessment"), ("1.2", "met", "self_assessment"),
        ("1.3", "not_met", "self_assessment"), ("1.4", "unknown", "none"),
        ("1.5", "unknown", "none"), ("2.1", "met", "value"), ("2.2", "met", "value"),
        ("2.3", "met", "value"), ("2.4", "met", "value"),
        ("3.1", "met", "self_assessment"), ("3.2", "unknown", "none"),
        ("3.3", "met", "self_assessment"), ("4.1", "met", "value"),
        ("4.2", "not_met", "value"), ("4.3", "met", "value")]
    assert not att[Att.discrepancy].any()


# ----------------------------------------------------------------------------------------------
# Equivalence with the merge/groupby implementation the vectorised code replaced (issue 5). The
# reference functions below are the previous code, kept verbatim as the specification.

from ntm_analysis.attainment import _GROUP, _add_missing, _sort  # noqa: E402
from ntm_analysis.schema import Basis, Crit, Status, conform  # noqa: E402


def reference_add_missing(ind: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    known = ind[ind[Ind.criteria_set].notna() & ind[Ind.unit].notna()]
    if known.empty:
        return ind
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
        return ind
    missing = missing.assign(**{Att.status_basis: Basis.missing})
    return pd.concat([ind, missing], ignore_index=True)


def reference_sort(df: pd.DataFrame) -> pd.DataFrame:
    key = [tuple(int(p) if p.isdigit() else 0 for p in str(u).split("."))
           for u in df[Ind.indicator_no].astype("object").fillna("")]
    ranks = {k: i for i, k in enumerate(sorted(set(key)))}
    return (df.assign(_k=[ranks[k] for k in key])
              .sort_values([Ind.level, Ind.commune, Ind.unit, Ind.year, Ind.criteria_set, "_k"],
                           na_position="last", kind="stable")
              .drop(columns="_k").reset_index(drop=True))


def reference_summarise_criteria(attainment: pd.DataFrame) -> pd.DataFrame:
    df = conform(attainment, Att)
    df = df[df[Ind.criterion_no].notna()]
    g = df.assign(_met=df[Att.status].eq(Status.met).fillna(False),
                  _unknown=df[Att.status].eq(Status.unknown).fillna(False),
                  ).groupby(_GROUP + [Ind.criterion_no], dropna=False, sort=False)
    out = g.agg(criterion_name=(Ind.criterion_name, "first"),
                indicators_met=("_met", "sum"), indicators_total=(Att.status, "size"),
                indicators_unknown=("_unknown", "sum"),
                source_file=(Ind.source_file, "first"),
                source_sheet=(Ind.source_sheet, "first")).reset_index()
    out["met"] = out["indicators_met"] == out["indicators_total"]
    out = conform(out, Crit)
    num = out[Ind.criterion_no].map(lambda s: int(s) if str(s).isdigit() else 10**6)
    return (out.assign(_n=num).sort_values([Ind.level, Ind.commune, Ind.unit, Ind.year, "_n"],
                                           na_position="last", kind="stable")
               .drop(columns="_n").reset_index(drop=True))


def reference_summarise_attainment(attainment: pd.DataFrame) -> pd.DataFrame:
    df = conform(attainment, Att)
    crit = reference_summarise_criteria(df)
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


@pytest.fixture(scope="module")
def province_indicators(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """Three synthetic communes over three years, rows shuffled, some keys and rows removed."""
    from ntm_analysis.ingest import load_raw_dir
    from ntm_analysis.synth import write_province

    raw = tmp_path_factory.mktemp("province")
    write_province(raw, communes=3, hamlets=(2, 3), seed=7)
    ind = load_raw_dir(raw).result.indicators
    years = pd.concat([ind.assign(**{Ind.year: ind[Ind.year] + i}) for i in range(3)],
                      ignore_index=True)
    shuffled = years.sample(frac=1.0, random_state=3).reset_index(drop=True)
    shuffled = shuffled.drop(index=shuffled.index[::7]).reset_index(drop=True)  # gaps to fill
    # keys that are missing or odd: no commune, no criteria set, a second file for one unit
    shuffled.loc[shuffled.index[:5], Ind.commune] = pd.NA
    shuffled.loc[shuffled.index[5:9], Ind.criteria_set] = pd.NA
    shuffled.loc[shuffled.index[9:12], Ind.source_file] = "zz_other.xlsx"
    shuffled.loc[shuffled.index[12:14], Ind.source_file] = pd.NA
    shuffled.loc[shuffled.index[14:16], Ind.indicator_no] = pd.NA
    shuffled.loc[shuffled.index[16:18], Ind.self_assessment] = "chưa rõ"
    return shuffled


def test_vectorised_missing_rows_equal_the_merge_version(province_indicators: pd.DataFrame
                                                         ) -> None:
    ind = conform(province_indicators, Ind)
    catalogue = load_catalogue()
    new = _add_missing(ind, catalogue)
    old = reference_add_missing(ind, catalogue)
    assert len(new) > len(ind)  # the dropped rows came back as missing
    pd.testing.assert_frame_equal(conform(new, Att), conform(old, Att))
    assert new[Att.status_basis].eq(Basis.missing).sum() == \
        old[Att.status_basis].eq(Basis.missing).sum()


def test_vectorised_sort_equals_sort_values(province_indicators: pd.DataFrame) -> None:
    att = compute_attainment(province_indicators)
    shuffled = att.sample(frac=1.0, random_state=11).reset_index(drop=True)
    pd.testing.assert_frame_equal(_sort(shuffled), reference_sort(shuffled))
    pd.testing.assert_frame_equal(att, reference_sort(att))  # the output is already sorted


def test_vectorised_summaries_equal_the_groupby_version(province_indicators: pd.DataFrame
                                                        ) -> None:
    att = compute_attainment(province_indicators)
    pd.testing.assert_frame_equal(summarise_criteria(att), reference_summarise_criteria(att))
    summary = summarise_attainment(att)
    pd.testing.assert_frame_equal(summary, reference_summarise_attainment(att))
    assert summary[Summ.source_file].str.contains("; ").any()  # joined file names compared
    assert summary[Summ.criteria_total].gt(0).all()


# ----------------------------------------------------------------------------------------------
# compute_attainment against the previous implementation (tests/reference_attainment.py), which
# sorted first and gathered every column; the current code gathers once from integer codes.

import reference_attainment  # noqa: E402


def assert_att_dtypes(att: pd.DataFrame) -> None:
    """Every column has its ``Att`` dtype; texts are categoricals of sorted string categories."""
    assert list(att.columns) == Att.columns()
    for column, dtype in Att.dtypes.items():
        series = att[column]
        assert str(series.dtype) == dtype, column
        if dtype == "category":
            labels = list(series.cat.categories)
            assert labels == sorted(labels) and all(isinstance(x, str) for x in labels)
            assert not series.cat.ordered
    assert conform(att, Att) is not att and conform(att, Att).equals(att)


def odd_values(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows with texts the judge treats specially: fractions, yes/no, 'Đạt', gaps."""
    odd = frame.copy()
    n = len(odd)
    odd.loc[odd.index[0:n:11], Ind.target_text] = pd.NA  # filled from the catalogue
    odd.loc[odd.index[1:n:13], Ind.criterion_name] = pd.NA
    odd.loc[odd.index[2:n:17], Ind.indicator_name] = pd.NA
    odd.loc[odd.index[3:n:19], [Ind.value, Ind.value_unit]] = [0.95, pd.NA]  # a fraction
    odd.loc[odd.index[4:n:23], [Ind.value, Ind.value_unit]] = [1.0, "bool"]
    odd.loc[odd.index[5:n:29], [Ind.value, Ind.value_unit]] = [1.0, "compliance"]
    odd.loc[odd.index[6:n:31], Ind.target_text] = "theo quy định"  # not judgeable
    odd.loc[odd.index[7:n:37], Ind.self_assessment] = "met"
    odd.loc[odd.index[8:n:41], Ind.indicator_no] = "9.99"  # not in the catalogue
    # a fraction whose "%" is the unit column's ("ĐVT"), and one written "0,95%" (0.95%)
    fraction = [Ind.value, Ind.value_unit, Ind.value_text, Ind.target_text]
    odd.loc[odd.index[9:n:43], fraction] = [0.95, "%", "0.95", "≥ 90%"]
    odd.loc[odd.index[10:n:47], fraction] = [0.95, "%", "0,95%", "≥ 90%"]
    odd.loc[odd.index[11:n:53], fraction] = [0.95, "%", "0.95", "≥ 90"]  # a bare target
    return odd


@pytest.mark.parametrize("add_missing", [True, False])
@pytest.mark.parametrize("variant", ["shuffled", "odd", "sorted", "all_keys_known"])
def test_compute_attainment_equals_the_previous_implementation(
        province_indicators: pd.DataFrame, variant: str, add_missing: bool) -> None:
    ind = province_indicators
    if variant == "odd":
        ind = odd_values(ind)
    elif variant == "all_keys_known":  # every row names its unit and criteria set
        ind = ind[ind[Ind.criteria_set].notna() & ind[Ind.unit].notna()].reset_index(drop=True)
    elif variant == "sorted":  # already in output order: the gather is skipped
        ind = conform(reference_attainment.compute_attainment(ind, add_missing=False), Ind)
    before = ind.copy()
    new = compute_attainment(ind, add_missing=add_missing)
    old = reference_attainment.compute_attainment(ind, add_missing=add_missing)
    # the same values; the texts are sorted categoricals instead of strings
    pd.testing.assert_frame_equal(conform(new, reference_attainment.StringAtt), old)
    assert_att_dtypes(new)
    pd.testing.assert_frame_equal(ind, before)  # input untouched
    assert {Status.met, Status.not_met} <= set(new[Att.status].dropna())
    if variant == "odd":  # the special texts reached the judge
        assert new[Att.status_basis].eq(Basis.self_assessment).any()
        assert new[Att.catalogue_status].isna().any()


def test_codes_continued_over_appended_rows_equal_factorize_of_the_whole_column() -> None:
    from ntm_analysis.attainment import _Codes

    head = pd.DataFrame({"t": pd.array(["b", None, "a", "b"], dtype="string"),
                         "y": pd.array([2024, 2025, None, 2024], dtype="Int64")})
    tail = pd.DataFrame({"t": pd.array(["c", "a", None, "c"], dtype="string"),
                         "y": pd.array([2026, 2024, 2026, None], dtype="Int64")})
    whole = pd.concat([head, tail], ignore_index=True)
    continued = _Codes(head, tail=tail)
    assert len(continued) == len(whole)
    for column in ("t", "y"):
        assert continued.values(column).tolist() == whole[column].tolist()
        codes, uniques = continued(column)
        want_codes, want_uniques = pd.factorize(whole[column], use_na_sentinel=True)
        assert codes.tolist() == want_codes.tolist()
        assert list(uniques) == list(want_uniques) and uniques.dtype == whole[column].dtype


def test_text_columns_are_sorted_categoricals_of_the_texts_present(
        province_indicators: pd.DataFrame) -> None:
    att = compute_attainment(odd_values(province_indicators))
    assert_att_dtypes(att)
    strings = conform(att, reference_attainment.StringAtt)
    for column, dtype in Att.dtypes.items():
        if dtype == "category":  # exactly what astype("category") makes of the texts
            assert list(att[column].cat.categories) == sorted(strings[column].dropna().unique())
    # the categorical table behaves like the strings: sorting, comparing with a word, grouping
    assert att.sort_values(Ind.unit, kind="stable").index.tolist() == \
        strings.sort_values(Ind.unit, kind="stable").index.tolist()
    assert att[Att.status].eq(Status.met).tolist() == \
        strings[Att.status].eq(Status.met).fillna(False).tolist()
    assert conform(strings, Att).equals(att)  # conform turns the strings into the same table


def test_summaries_of_categorical_and_string_tables_are_equal(
        province_indicators: pd.DataFrame) -> None:
    """The summaries read categorical codes directly; from string texts they must agree."""
    att = compute_attainment(odd_values(province_indicators))
    # a unit whose rows come from two files: the joined names are sorted
    two_files = att[Ind.unit].eq(att[Ind.unit].iloc[0]).to_numpy()
    att[Ind.source_file] = att[Ind.source_file].cat.add_categories("aa_first.xlsx")
    att.loc[np.flatnonzero(two_files)[:3], Ind.source_file] = "aa_first.xlsx"
    strings = conform(att, reference_attainment.StringAtt)
    for summarise in (summarise_attainment, summarise_criteria):
        pd.testing.assert_frame_equal(summarise(att), summarise(strings))
    pd.testing.assert_frame_equal(summarise_attainment(att),
                                  reference_summarise_attainment(strings))
    assert summarise_attainment(att)[Summ.source_file].str.startswith("aa_first.xlsx; ").any()


def test_continued_codes_widen_when_new_texts_overflow_the_small_type() -> None:
    from ntm_analysis.attainment import _Codes

    head = pd.DataFrame({"t": pd.array([f"x{i:03d}" for i in range(127)], dtype="string")})
    tail = pd.DataFrame({"t": pd.array(["new1", "x000", "new2", None], dtype="string")})
    whole = pd.concat([head, tail], ignore_index=True)
    assert _Codes(head)("t")[0].dtype == np.int8  # 127 texts: the smallest type
    codes, uniques = _Codes(head, tail=tail)("t")
    want_codes, want_uniques = pd.factorize(whole["t"], use_na_sentinel=True)
    assert codes.tolist() == want_codes.tolist() and list(uniques) == list(want_uniques)
    assert codes.max() == 128  # beyond int8


def test_text_columns_hashed_in_threads_give_the_same_table(
        province_indicators: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    import ntm_analysis.attainment as attainment

    lazy = compute_attainment(province_indicators)
    monkeypatch.setattr(attainment, "PREFETCH_MIN_ROWS", 0)  # prefetch even this small table
    monkeypatch.setattr(attainment.os, "cpu_count", lambda: 2)  # and on a one-core machine
    calls: list[str] = []
    real = attainment._factorize

    def counted(values: pd.Series):  # type: ignore[no-untyped-def]
        calls.append(str(values.name))
        return real(values)

    monkeypatch.setattr(attainment, "_factorize", counted)
    threaded = compute_attainment(province_indicators)
    pd.testing.assert_frame_equal(threaded, lazy)
    assert len(calls) == len(set(calls))  # every column hashed once, prefetched or not
    assert {Ind.unit, Ind.target_text, Ind.source_file} <= set(calls)


# ----------------------------------------------------------------------------------------------
# Rows that come in runs (a unit's rows one after the other, as the loader returns them) are
# numbered run by run; the result must be exactly what hashing every row gives.

@pytest.fixture(scope="module")
def loaded_indicators(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """Three synthetic communes over three years in the loader's order (a unit's rows follow
    each other), with odd keys inside the runs (chunked columns: ``arrow_column`` below)."""
    from ntm_analysis.ingest import load_raw_dir
    from ntm_analysis.synth import write_province

    raw = tmp_path_factory.mktemp("province_runs")
    write_province(raw, communes=3, hamlets=(4, 6), seed=11)
    ind = load_raw_dir(raw).result.indicators
    years = pd.concat([ind.assign(**{Ind.year: ind[Ind.year] + i}) for i in range(3)],
                      ignore_index=True)
    years = years.drop(index=years.index[5::9]).reset_index(drop=True)  # rows to add back
    n = len(years)
    years.loc[years.index[n // 3:n // 3 + 2], Ind.commune] = pd.NA  # inside a unit's run
    years.loc[years.index[n // 2], Ind.criteria_set] = pd.NA
    years.loc[years.index[n // 2 + 7], Ind.unit] = pd.NA
    years.loc[years.index[2 * n // 3:2 * n // 3 + 3], Ind.source_file] = "zz_other.xlsx"
    return years


def test_rows_in_runs_give_the_previous_implementations_table(
        loaded_indicators: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    import ntm_analysis.attainment as attainment

    ind = loaded_indicators
    runs: list[int] = []
    real = attainment._run_starts

    def spied(chunks):  # type: ignore[no-untyped-def]
        starts = real(chunks)
        runs.append(-1 if starts is None else len(starts))
        return starts

    monkeypatch.setattr(attainment, "_run_starts", spied)
    for add_missing in (True, False):
        new = compute_attainment(ind, add_missing=add_missing)
        old = reference_attainment.compute_attainment(ind, add_missing=add_missing)
        pd.testing.assert_frame_equal(conform(new, reference_attainment.StringAtt), old)
        assert_att_dtypes(new)
    # the unit's columns went the run way, the indicator's columns the row way
    assert sum(r > 0 for r in runs) >= 6 and -1 in runs


def arrow_column(values: list[object], chunk: int) -> pd.Series:
    """A string Series whose Arrow data is cut into chunks of ``chunk`` rows."""
    import pyarrow as pa

    pieces = [pd.Series(values[i:i + chunk], dtype="string") for i in range(0, len(values),
                                                                            chunk)]
    series = pd.concat(pieces, ignore_index=True)
    assert series.array._pa_array.num_chunks == len(pieces) and isinstance(
        series.array._pa_array, pa.ChunkedArray)
    return series


@pytest.mark.parametrize("chunk", [1, 7, 5000])
@pytest.mark.parametrize("run_length", [1, 3, 40])
def test_arrow_text_codes_equal_pandas_factorize(chunk: int, run_length: int) -> None:
    from ntm_analysis.attainment import _factorize

    rng = np.random.default_rng(run_length * 1000 + chunk)
    words = ["Xóm Bản Lác", "Cạm Phước", "Ao Sen", "", "Phai Đá", None]
    runs = rng.integers(0, len(words), 300)
    lengths = rng.integers(1, 2 * run_length + 1, 300)
    values = [words[w] for w, k in zip(runs, lengths, strict=True) for _ in range(k)]
    column = arrow_column(values, chunk)
    codes, uniques = _factorize(column)
    want_codes, want_uniques = pd.factorize(column, use_na_sentinel=True)
    assert codes.tolist() == want_codes.tolist()
    assert list(uniques) == list(want_uniques) and uniques.dtype == column.dtype
    assert codes.dtype == np.int8


def test_runs_are_used_only_where_they_pay() -> None:
    from ntm_analysis.attainment import RUN_PROBE, RUN_RATIO, _run_starts

    runs = arrow_column(["a"] * 50 + [None] + ["b"] * 50, 30).array._pa_array
    assert _run_starts(runs).tolist() == [0, 50, 51]
    # runs at the start only: the probe says yes, the whole column says no
    tail = [str(i % 5) for i in range(10 * RUN_PROBE)]
    mixed = arrow_column(["x"] * RUN_PROBE + tail, 1000).array._pa_array
    assert _run_starts(mixed) is None
    # short runs from the start: not even compared beyond the probe
    assert _run_starts(arrow_column(["a", "b"] * RUN_PROBE, 1000).array._pa_array) is None
    assert _run_starts(arrow_column(["a"] * RUN_RATIO, 3).array._pa_array).tolist() == [0]


@pytest.mark.parametrize("run_length", [1, 50])
def test_combined_codes_by_runs_equal_the_row_by_row_numbering(run_length: int) -> None:
    from ntm_analysis.attainment import _combine_codes, _combine_row_codes

    rng = np.random.default_rng(run_length)
    lengths = rng.integers(1, 2 * run_length + 1, 400)
    columns = [np.repeat(rng.integers(-1, k, 400), lengths).astype(np.int8) for k in (3, 5, 2)]
    got, first = _combine_codes(columns)
    want, want_first = _combine_row_codes(columns)
    assert got.dtype == want.dtype == np.int64
    assert got.tolist() == want.tolist() and first.tolist() == want_first.tolist()
    # the reference: groups of the keys, numbered by first appearance
    frame = pd.DataFrame({i: c for i, c in enumerate(columns)})
    ref, ref_first = reference_attainment._group_codes(frame, list(frame.columns))
    assert got.tolist() == ref.tolist() and first.tolist() == ref_first.tolist()


def test_an_error_while_hashing_in_a_thread_is_raised_and_no_thread_is_left(
        province_indicators: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import ntm_analysis.attainment as attainment

    monkeypatch.setattr(attainment, "PREFETCH_MIN_ROWS", 0)
    monkeypatch.setattr(attainment.os, "cpu_count", lambda: 2)
    real = attainment._factorize
    started = threading.Event()

    def failing(values: pd.Series):  # type: ignore[no-untyped-def]
        if values.name == Ind.unit:
            started.set()
            raise MemoryError("no room for the unit codes")
        return real(values)

    monkeypatch.setattr(attainment, "_factorize", failing)
    with pytest.raises(MemoryError, match="unit codes"):
        compute_attainment(province_indicators)
    assert started.is_set()  # raised in a prefetch thread, re-raised to the caller
    assert not [t for t in threading.enumerate() if t.name.startswith("ntm-attainment-codes")]
