"""Tests for ntm_analysis.funding: splits, money against unmet criteria, report section."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from ntm_analysis.budget import Bud, load_budget
from ntm_analysis.funding import (
    funding_by_criterion,
    readiness_section,
    split_by_level,
    split_by_source,
    summarise_funding,
    unfunded_gaps,
)
from ntm_analysis.sample_money import write_budget_sample


def line(level: str, total: float, *, state: float | None = None, people: float | None = None,
         crit: str | None = None, hamlet: str | None = None) -> dict[str, object]:
    non_state = people
    sources = (state or 0) + (people or 0)
    return {Bud.source_file: "a.xlsx", Bud.level: level, Bud.total: total,
            Bud.state_unsplit: state, Bud.people: people, Bud.state: state,
            Bud.non_state: non_state, Bud.unassigned: total - sources,
            Bud.criterion_no: crit, Bud.hamlet: hamlet}


LINES = pd.DataFrame([
    line("commune", 1000.0, state=800.0, people=100.0, crit="6"),
    line("commune", 200.0, state=200.0),
    line("model_hamlet", 50.0, state=50.0, crit="1", hamlet="Xóm Ao Sen"),
    line("model_hamlet", 30.0, people=30.0, crit="2"),  # no hamlet: shared by every model hamlet
    line("smart_hamlet", 40.0, state=40.0, crit="3", hamlet="Xóm Phai Đá"),
])


def att_rows(unit: str, level: str, cset: str, crit: str, name: str,
             statuses: list[str]) -> list[dict[str, object]]:
    return [{"unit": unit, "level": level, "commune": "Kim Phượng", "year": 2024,
             "criteria_set": cset, "criterion_no": crit, "criterion_name": name,
             "indicator_no": f"{crit}.{i}", "status": s} for i, s in enumerate(statuses, 1)]


ATTAINMENT = pd.DataFrame(
    att_rows("Xã Kim Phượng", "commune", "TN_XA_NTM_KIEUMAU_2022_2025", "6", "Giáo dục",
             ["met", "not_met"])
    + att_rows("Xã Kim Phượng", "commune", "TN_XA_NTM_KIEUMAU_2022_2025", "3", "Môi trường",
               ["not_met", "unknown"])
    + att_rows("Xã Kim Phượng", "commune", "TN_XA_NTM_KIEUMAU_2022_2025", "1", "Sản xuất",
               ["met"])
    + att_rows("Xóm Ao Sen", "hamlet", "TN_XOM_NTM_KIEUMAU_2021_2025", "1", "Quy hoạch",
               ["not_met"])
    + att_rows("Xóm Ao Sen", "hamlet", "TN_XOM_NTM_KIEUMAU_2021_2025", "2", "Giao thông",
               ["not_met"])
    + att_rows("Xóm Cạm Phước", "hamlet", "TN_XOM_NTM_KIEUMAU_2021_2025", "1", "Quy hoạch",
               ["not_met"])
    + att_rows("Xóm Phai Đá", "hamlet", "TN_XOM_THONG_MINH", "3", "Kinh tế số", ["not_met"])
    + att_rows("Xóm Phai Đá", "hamlet", "TN_XOM_THONG_MINH", "1", "Hạ tầng số", ["not_met"])
)


def test_split_by_level_and_source() -> None:
    by_level = split_by_level(LINES).set_index("level")
    assert by_level.loc["commune", "total"] == 1200.0
    assert by_level.loc["commune", "state"] == 1000.0
    assert by_level.loc["commune", "unassigned"] == pytest.approx(100.0)
    assert by_level.loc["model_hamlet", "lines"] == 2
    assert by_level["share"].sum() == pytest.approx(1.0)
    by_source = split_by_source(LINES).set_index("source")
    assert by_source.loc["state_unsplit", "amount"] == 1090.0
    assert by_source.loc["people", "source_group"] == "non_state"
    assert by_source.loc["unassigned", "amount"] == pytest.approx(100.0)
    assert by_source["amount"].sum() == pytest.approx(LINES[Bud.total].sum())


def test_summary_of_the_sample(tmp_path: Path) -> None:
    lines = load_budget(write_budget_sample(tmp_path / "kp.xlsx")).lines
    summary = summarise_funding(lines)
    assert summary.total_million_vnd == 4122.0
    assert summary.by_source_group == {"state": 3792.0, "non_state": 0.0, "unassigned": 330.0}
    assert summary.by_level == {"commune": 3432.0, "model_hamlet": 320.0, "smart_hamlet": 40.0,
                                "unspecified": 330.0}
    assert summary.state_share == pytest.approx(3792 / 4122)
    assert summary.lines == len(lines)


def test_a_funding_gap_tables_allocated_and_missing_amounts_are_summed() -> None:
    lines = LINES.assign(**{Bud.committed: [900.0, 200.0, None, 30.0, None],
                            Bud.shortfall: [100.0, 0.0, None, None, None]})
    summary = summarise_funding(lines)
    assert (summary.committed_million_vnd, summary.shortfall_million_vnd) == (1130.0, 100.0)
    data = summary.as_dict()
    assert (data["committed_million_vnd"], data["shortfall_million_vnd"]) == (1130.0, 100.0)
    assert readiness_section(lines, lang="vi").finding.endswith(
        "Theo bảng: đã bố trí 1.130, còn thiếu 100 triệu đồng.")
    assert readiness_section(lines, lang="en").finding.endswith(
        "As the table gives it: 1,130 allocated, 100 million VND still missing.")
    by_level = split_by_level(lines).set_index("level")
    assert by_level.loc["commune", Bud.committed] == 1100.0
    assert by_level.loc["commune", Bud.shortfall] == 100.0
    assert by_level.loc["model_hamlet", Bud.committed] == 30.0
    # a table without those columns says nothing of them (no key, no sentence, no column)
    assert Bud.committed not in split_by_level(LINES)
    plain = summarise_funding(LINES)
    assert plain.committed_million_vnd is None and "committed_million_vnd" not in plain.as_dict()
    assert "table gives" not in readiness_section(LINES, lang="en").finding


def test_funding_by_criterion_direct_shared_and_commune() -> None:
    table = funding_by_criterion(LINES, ATTAINMENT)
    got = {(r.unit, r.criterion_no): (r.funding_total, r.funding_direct, r.funding_shared, r.lines)
           for r in table.itertuples()}
    assert got == {
        ("Xã Kim Phượng", "3"): (0.0, 0.0, 0.0, 0),
        ("Xã Kim Phượng", "6"): (1000.0, 1000.0, 0.0, 1),
        ("Xóm Ao Sen", "1"): (50.0, 50.0, 0.0, 1),
        ("Xóm Ao Sen", "2"): (30.0, 0.0, 30.0, 1),
        ("Xóm Cạm Phước", "1"): (0.0, 0.0, 0.0, 0),  # Ao Sen's line is not Cạm Phước's
        ("Xóm Phai Đá", "1"): (0.0, 0.0, 0.0, 0),
        ("Xóm Phai Đá", "3"): (40.0, 40.0, 0.0, 1),  # smart-hamlet set matches smart lines
    }
    # met criteria are not listed; unknown indicators are counted
    commune3 = table[(table["unit"] == "Xã Kim Phượng") & (table["criterion_no"] == "3")].iloc[0]
    assert (commune3["indicators_not_met"], commune3["indicators_unknown"]) == (1, 1)
    assert list(table.index) == list(range(len(table)))


def test_unfunded_gaps_and_purity() -> None:
    lines_before, att_before = LINES.copy(), ATTAINMENT.copy()
    gaps = unfunded_gaps(LINES, ATTAINMENT)
    assert sorted(zip(gaps["unit"], gaps["criterion_no"], strict=True)) == [
        ("Xã Kim Phượng", "3"), ("Xóm Cạm Phước", "1"), ("Xóm Phai Đá", "1")]
    pd.testing.assert_frame_equal(LINES, lines_before)
    pd.testing.assert_frame_equal(ATTAINMENT, att_before)


def test_readiness_section_both_languages() -> None:
    vi = readiness_section(LINES, ATTAINMENT, lang="vi")
    en = readiness_section(LINES, ATTAINMENT, lang="en")
    total = LINES[Bud.total].sum()
    assert math.isclose(vi.summary.total_million_vnd, total)
    assert "3/7" in vi.finding and "1.320" in vi.finding
    assert "3 of 7 unmet criteria" in en.finding and "1,320" in en.finding
    assert len(vi.gaps) == 3 and len(vi.by_level) == 3
