"""Tests of the readiness conditions (QĐ 319/QĐ-TTg), the verdict, gaps and comparisons."""

from __future__ import annotations

import pandas as pd
import pytest

from ntm_analysis import catalogue, readiness
from ntm_analysis.errors import ParameterError
from ntm_analysis.export import format_number
from ntm_analysis.readiness import Cond, Gap
from ntm_analysis.schema import Att, conform

COMMUNE_SET = "TN_XA_NTM_KIEUMAU_2022_2025"
HAMLET_SET = "TN_XOM_NTM_KIEUMAU_2021_2025"
SMART_SET = "TN_XOM_THONG_MINH"


def rows_for(unit: str, set_id: str, statuses: dict[str, str], *, level: str,
             year: int = 2024, commune: str = "Kim Phượng", sheet: str | None = None,
             default: str = "met") -> list[dict[str, object]]:
    """One attainment row per catalogue indicator of ``set_id``; statuses by indicator_no."""
    cat = catalogue.load_catalogue(set_id=set_id)
    return [
        {
            "source_file": f"{set_id.lower()}.xlsx", "source_sheet": sheet or unit,
            "source_row": 6 + i, "unit": unit, "level": level, "commune": commune,
            "year": year, "criteria_set": set_id, "criterion_no": r.criterion_no,
            "criterion_name": r.criterion_name_vi, "indicator_no": r.indicator_no,
            "indicator_name": r.indicator_name_vi, "status": statuses.get(r.indicator_no, default),
            "catalogue_status": r.status, "target_value": r.target_value,
            "gap": 0.0 if statuses.get(r.indicator_no, default) == "met" else None,
        }
        for i, r in enumerate(cat.itertuples())
    ]


def attainment(*parts: list[dict[str, object]]) -> pd.DataFrame:
    return conform(pd.DataFrame([row for part in parts for row in part]), Att)


def outstanding_no() -> str:
    cat = catalogue.load_catalogue(set_id=COMMUNE_SET)
    hit = cat[cat["criterion_name_vi"].str.startswith("Lĩnh vực nổi trội")]
    return str(hit["criterion_no"].iloc[0])


def status(table: pd.DataFrame, cid: str) -> str:
    return str(table.set_index(Cond.condition_id).loc[cid, Cond.status])


def test_all_conditions_met_gives_a_ready_verdict() -> None:
    att = attainment(rows_for("Kim Phượng", COMMUNE_SET, {}, level="commune"),
                     rows_for("Xóm Phai Đá", SMART_SET, {}, level="hamlet"))
    table = readiness.assess_readiness(att, year=2024, commune="Kim Phượng",
                                       income_per_capita=1000.0, advanced_ntm_recognised=True,
                                       advanced_ntm_decision="QĐ 3261/QĐ-UBND 20/12/2023")
    assert table.columns.tolist() == Cond.columns()
    assert table[Cond.condition_id].tolist() == list(readiness.CONDITIONS)
    assert table[Cond.status].tolist() == ["met"] * 4
    assert "QĐ 3261/QĐ-UBND 20/12/2023" in table[Cond.evidence].iloc[0]
    assert table[Cond.basis].iloc[0] == "found"
    assert table[Cond.basis].iloc[1] == "inferred"  # income thresholds are never official
    verdict = readiness.readiness_verdict(table, commune="Kim Phượng", year=2024)
    assert verdict.startswith("Kim Phượng đáp ứng cả 4 điều kiện")
    assert "suy luận" in verdict


def test_blocking_conditions_are_named_in_the_verdict() -> None:
    no = outstanding_no()
    att = attainment(
        rows_for("Kim Phượng", COMMUNE_SET, {f"{no}.1": "not_met"}, level="commune"),
        rows_for("Xóm Phai Đá", SMART_SET, {"1.1": "not_met"}, level="hamlet"),
    )
    table = readiness.assess_readiness(att, year=2024, commune="Kim Phượng", lang="en")
    assert status(table, "advanced_ntm") == "unknown"
    assert status(table, "smart_hamlet") == "not_met"
    assert status(table, "outstanding") == "not_met"
    smart = table.set_index(Cond.condition_id).loc["smart_hamlet"]
    assert "Xóm Phai Đá" in smart[Cond.evidence]
    assert smart[Cond.source_file] == f"{SMART_SET.lower()}.xlsx"
    verdict = readiness.readiness_verdict(table, commune="Kim Phượng", year=2024, lang="en")
    assert "Blocked by: (3) At least one smart hamlet; (4) Outstanding field" in verdict
    assert "Still unknown: (1)" in verdict


def test_smart_hamlet_unknown_and_absent() -> None:
    one_unknown = attainment(rows_for("Xóm Phai Đá", SMART_SET, {"2.1": "unknown"},
                                      level="hamlet"))
    table = readiness.assess_readiness(one_unknown, year=2024, commune="Kim Phượng")
    assert status(table, "smart_hamlet") == "unknown"
    assert status(table, "outstanding") == "unknown"  # no commune rows at all
    # a second hamlet meeting the set is enough
    two = attainment(rows_for("Xóm Phai Đá", SMART_SET, {"2.1": "not_met"}, level="hamlet"),
                     rows_for("Xóm Kim Tiến", SMART_SET, {}, level="hamlet"))
    table = readiness.assess_readiness(two, year=2024, commune="Kim Phượng")
    assert status(table, "smart_hamlet") == "met"
    assert "Xóm Kim Tiến" in table[Cond.evidence].iloc[2]
    assert "Xóm Phai Đá" not in table[Cond.evidence].iloc[2]
    none = attainment(rows_for("Xóm Ao Sen", HAMLET_SET, {}, level="hamlet"))
    table = readiness.assess_readiness(none, year=2024, commune="Kim Phượng", lang="en")
    assert status(table, "smart_hamlet") == "unknown"
    assert table[Cond.evidence].iloc[2] == "No smart-hamlet assessment in the data"


def test_other_years_and_communes_are_ignored() -> None:
    att = attainment(
        rows_for("Xóm Phai Đá", SMART_SET, {}, level="hamlet", year=2023),
        rows_for("Xóm Khác", SMART_SET, {}, level="hamlet", commune="Bảo Cường"),
        rows_for("Xóm Phai Đá", SMART_SET, {"1.1": "not_met"}, level="hamlet"),
    )
    table = readiness.assess_readiness(att, year=2024, commune="kim phuong")  # accent-free
    assert status(table, "smart_hamlet") == "not_met"


def test_outstanding_criterion_found_through_the_catalogue_and_overridable() -> None:
    no = outstanding_no()
    rows = rows_for("Kim Phượng", COMMUNE_SET, {"1.1": "not_met"}, level="commune")
    for row in rows:
        row["criterion_name"] = None  # the workbook had no criterion names
    att = attainment(rows)
    table = readiness.assess_readiness(att, year=2024, commune="Kim Phượng", lang="en")
    n_indicators = sum(1 for r in rows if r["criterion_no"] == no)
    assert status(table, "outstanding") == "met"
    assert f"Criterion {no} " in table[Cond.evidence].iloc[3]
    assert f"{n_indicators}/{n_indicators} indicators met" in table[Cond.evidence].iloc[3]
    table = readiness.assess_readiness(att, year=2024, commune="Kim Phượng",
                                       outstanding_criterion="1")
    assert status(table, "outstanding") == "not_met"


@pytest.mark.parametrize(
    ("income", "expected"),
    [(60.0, "met"), (55.0, "met"), (50.0, "unknown"), (43.9, "not_met"), (None, "unknown")],
)
def test_income_uses_both_threshold_readings(income: float | None, expected: str) -> None:
    thresholds = pd.DataFrame({
        "level": ["xa_NTM_nang_cao", "xa_NTM_nang_cao", "xa_NTM_nang_cao", "xa_NTM"],
        "year": [2024, 2024, 2023, 2024],
        "scenario": ["A", "B", "A", "A"],
        "threshold_million_vnd": [50.0, 40.0, 10.0, 1.0],
    })
    # readings A and B need 1.1 × 50 = 55 and 1.1 × 40 = 44
    table = readiness.assess_readiness(attainment(), year=2024, commune="Kim Phượng",
                                       income_per_capita=income, thresholds=thresholds,
                                       lang="en")
    row = table.set_index(Cond.condition_id).loc["income"]
    assert row[Cond.status] == expected
    assert row[Cond.basis] == "inferred"
    assert "reading A: advanced-NTM level 50 → needs ≥ 55 " in row[Cond.evidence]
    assert "reading B: advanced-NTM level 40 → needs ≥ 44 " in row[Cond.evidence]
    assert "not verified" in row[Cond.evidence]


def test_income_with_the_packaged_readings() -> None:
    shipped = readiness.income_thresholds()
    shipped = shipped[(shipped["level"] == "xa_NTM_nang_cao") & (shipped["year"] == 2024)]
    assert len(shipped) == 2  # the two unverified readings of QĐ 318/QĐ-TTg
    required = shipped["threshold_million_vnd"] * readiness.INCOME_MARGIN
    between = float(required.min() + required.max()) / 2
    table = readiness.assess_readiness(attainment(), year=2024, commune="Kim Phượng",
                                       income_per_capita=between)
    row = table.set_index(Cond.condition_id).loc["income"]
    assert row[Cond.status] == "unknown"
    for value in shipped["threshold_million_vnd"]:
        shown = format_number(float(value), lang="vi")  # Vietnamese decimals: 46,2
        assert f"mức NTM nâng cao {shown} →" in row[Cond.evidence]
    # the readings by name, not by the thresholds table's identifiers (A_fixed_table …)
    assert "cách đọc A (bảng mức cố định theo vùng): mức NTM nâng cao" in row[Cond.evidence]
    assert "cách đọc B (1,1 × mức xã NTM): mức NTM nâng cao" in row[Cond.evidence]
    assert "_" not in row[Cond.evidence]
    none = readiness.assess_readiness(attainment(), year=1990, commune="Kim Phượng", lang="en")
    assert none[Cond.evidence].iloc[1] == "No advanced-NTM income threshold for 1990"


def test_assess_readiness_does_not_modify_its_input() -> None:
    att = attainment(rows_for("Kim Phượng", COMMUNE_SET, {"1.1": "not_met"}, level="commune"))
    before = att.copy()
    readiness.assess_readiness(att, year=2024, commune="Kim Phượng")
    readiness.gaps_by_unit(att)
    pd.testing.assert_frame_equal(att, before)


def test_gaps_rank_by_relative_distance_within_each_unit() -> None:
    att = attainment([
        {"unit": "Xóm Ao Sen", "year": 2024, "criteria_set": HAMLET_SET, "indicator_no": "2.1",
         "status": "not_met", "target_value": 100.0, "gap": 40.0},
        {"unit": "Xóm Ao Sen", "year": 2024, "criteria_set": HAMLET_SET, "indicator_no": "1.10",
         "status": "not_met", "target_value": 80.0, "gap": 40.0},
        {"unit": "Xóm Ao Sen", "year": 2024, "criteria_set": HAMLET_SET, "indicator_no": "1.2",
         "status": "not_met", "target_value": None, "gap": None},
        {"unit": "Xóm Ao Sen", "year": 2024, "criteria_set": HAMLET_SET, "indicator_no": "3.1",
         "status": "unknown", "target_value": 90.0, "gap": None},
        {"unit": "Xóm Ao Sen", "year": 2024, "criteria_set": HAMLET_SET, "indicator_no": "4.1",
         "status": "met", "target_value": 90.0, "gap": 0.0},
        {"unit": "Xóm Bản Lác", "year": 2024, "criteria_set": HAMLET_SET, "indicator_no": "2.1",
         "status": "not_met", "target_value": 100.0, "gap": 10.0},
    ])
    gaps = readiness.gaps_by_unit(att)
    assert gaps.columns.tolist() == Gap.columns()
    got = gaps[["unit", "indicator_no", "relative_gap", "rank"]].astype(object).values.tolist()
    assert got == [
        ["Xóm Ao Sen", "1.2", 1.0, 1],  # not met without a number: all of it missing
        ["Xóm Ao Sen", "1.10", 40 / 80, 2],
        ["Xóm Ao Sen", "2.1", 40 / 100, 3],
        ["Xóm Ao Sen", "3.1", pd.NA, 4],
        ["Xóm Bản Lác", "2.1", 10 / 100, 1],
    ]
    assert readiness.gaps_by_unit(att, include_unknown=False)["indicator_no"].tolist() == [
        "1.2", "1.10", "2.1", "2.1"]
    # deterministic whatever the input order
    shuffled = att.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(readiness.gaps_by_unit(shuffled), gaps)


def test_compare_units_side_by_side() -> None:
    crit = pd.DataFrame({
        "unit": ["Xóm Bản Lác", "Xóm Ao Sen", "Xóm Ao Sen", "Xóm Bản Lác"],
        "criterion_no": ["10", "10", "2", "2"],
        "criterion_name": ["Thu nhập", "Thu nhập", "Giao thông", "Giao thông"],
        "met": [True, False, False, False],
        "indicators_met": [2, 1, 3, 2], "indicators_total": [2, 2, 4, 4],
        "indicators_unknown": [0, 1, 0, 0],
    })
    wide = readiness.compare_units(crit)
    assert wide.columns.tolist() == ["criterion_no", "criterion_name", "Xóm Ao Sen",
                                     "Xóm Bản Lác"]
    assert wide.values.tolist() == [["2", "Giao thông", "not_met", "not_met"],
                                    ["10", "Thu nhập", "unknown", "met"]]
    assert readiness.compare_units(crit, lang="en")["Xóm Ao Sen"].tolist() == [
        "Not met", "Unknown"]


def test_unit_counts_match_the_statuses_written() -> None:
    statuses = {"1.1": "not_met", "2.1": "unknown"}
    att = attainment(rows_for("Xóm Ao Sen", HAMLET_SET, statuses, level="hamlet"))
    counts = readiness.unit_counts(att).iloc[0]
    n = len(att)
    assert (counts["indicators_met"], counts["indicators_total"]) == (n - 2, n)
    n_crit = att["criterion_no"].nunique()
    unmet_crit = len({k.split(".")[0] for k in statuses})
    assert (counts["criteria_met"], counts["criteria_total"]) == (n_crit - unmet_crit, n_crit)
    assert counts["status"] == "not_met"


def test_describe_provenance_counts_found_and_inferred_criteria() -> None:
    att = attainment(rows_for("Xóm Ao Sen", HAMLET_SET, {}, level="hamlet", sheet="Phụ biểu 02"))
    per_crit = att.groupby("criterion_no")["catalogue_status"].agg(
        lambda s: set(s) == {"found"})
    text = readiness.describe_provenance(att, lang="en")
    assert text == (f"Source: {HAMLET_SET.lower()}.xlsx (sheet 'Phụ biểu 02'); "
                    f"criteria found: {int(per_crit.sum())}; "
                    f"inferred: {int((~per_crit).sum())}")


def test_auto_recognition_uses_the_packaged_public_decisions() -> None:
    listed = readiness.recognitions().iloc[0]
    since = int(listed["date"][:4])
    table = readiness.assess_readiness(attainment(), year=since + 1, commune=listed["commune"],
                                       advanced_ntm_recognised="auto")
    row = table.iloc[0]
    assert row[Cond.status] == "met" and row[Cond.basis] == "found"
    assert listed["decision"] in row[Cond.evidence] and listed["source"] in row[Cond.evidence]
    assert row[Cond.source_file] == readiness.RECOGNITION_SOURCE
    before = readiness.assess_readiness(attainment(), year=since - 1,
                                        commune=listed["commune"], advanced_ntm_recognised="auto")
    assert before[Cond.status].iloc[0] == "unknown"
    other = readiness.assess_readiness(attainment(), year=since + 1, commune="Bảo Cường",
                                       advanced_ntm_recognised="auto")
    assert other[Cond.status].iloc[0] == "unknown"
    with pytest.raises(ParameterError, match="must be True, False, None or 'auto'"):
        readiness.assess_readiness(attainment(), year=2024, commune="X",
                                   advanced_ntm_recognised="maybe")


def test_income_evidence_names_its_source_and_uses_vietnamese_decimals() -> None:
    thresholds = pd.DataFrame({"level": ["xa_NTM_nang_cao"] * 2, "year": [2024, 2024],
                               "scenario": ["A", "B"], "threshold_million_vnd": [50.0, 46.2]})
    source = "kp_thu_nhap.xlsx, trang 'Thu nhập', dòng 5, năm 2023"
    table = readiness.assess_readiness(attainment(), year=2024, commune="Kim Phượng",
                                       income_per_capita=54.03, income_source=source,
                                       income_source_file="kp_thu_nhap.xlsx",
                                       thresholds=thresholds)
    row = table.set_index(Cond.condition_id).loc["income"]
    # 54.03 is below 1.1 × 50 = 55 (reading A) and above 1.1 × 46.2 = 50.82 (reading B)
    assert row[Cond.status] == "unknown"
    assert row[Cond.evidence].startswith(f"Nguồn số thu nhập: {source}. Thu nhập 54,03 ")
    assert "cần ≥ 55 " in row[Cond.evidence] and "cần ≥ 50,82 " in row[Cond.evidence]
    assert row[Cond.source_file] == f"kp_thu_nhap.xlsx; {readiness.THRESHOLD_SOURCE}"
