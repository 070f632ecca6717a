"""Attainment rules (issue 2, item 5) on inline indicator tables."""

from __future__ import annotations

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
