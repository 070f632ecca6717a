"""Tests for ntm_analysis.charts_money: each chart draws on the given Axes and returns it."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ntm_analysis import charts_money, funding, income  # noqa: E402
from ntm_analysis.budget import load_budget  # noqa: E402
from ntm_analysis.sample_money import write_budget_sample, write_income_sample  # noqa: E402


def test_charts_draw_on_the_given_axes(tmp_path: Path) -> None:
    lines = load_budget(write_budget_sample(tmp_path / "kp.xlsx")).lines
    series = income.load_income(write_income_sample(tmp_path / "tn.xlsx")).series
    section = income.readiness_section(series, year=2024, lang="en")
    fig, axes = plt.subplots(1, 3)
    try:
        assert charts_money.plot_funding_split(lines, ax=axes[0], lang="en") is axes[0]
        # one stacked bar per source group on the total, then one bar per non-empty part
        heights = sorted(round(p.get_height()) for p in axes[0].patches)
        assert heights[-2:] == [3432, 3792] and 330 in heights
        by_crit = funding.funding_by_criterion(lines, _attainment())
        assert charts_money.plot_funding_by_criterion(by_crit, ax=axes[1]) is axes[1]
        assert len(axes[1].patches) == len(by_crit)
        ax = charts_money.plot_income_trends(series, section.progress, ax=axes[2],
                                             thresholds=section.thresholds)
        assert ax is axes[2]
        assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"Kim Phượng"}
    finally:
        plt.close(fig)


def _attainment():  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.DataFrame({"unit": ["Xã Kim Phượng", "Xóm Ao Sen"], "level": ["commune", "hamlet"],
                         "criteria_set": ["TN_XA_NTM_KIEUMAU_2022_2025",
                                          "TN_XOM_NTM_KIEUMAU_2021_2025"],
                         "criterion_no": ["6", "7"], "criterion_name": ["Giáo dục", "An ninh"],
                         "indicator_no": ["6.1", "7.1"], "status": ["not_met", "not_met"]})
