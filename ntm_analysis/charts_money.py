"""Charts for money questions: the budget split, funding against unmet criteria, income trends.

Every function takes its data and an optional ``ax``, draws in the house style and returns the
``Axes``; none saves or shows (saving goes through ``ntm_analysis.outputs.save_figure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.ticker import MaxNLocator

from ntm_analysis import funding, income
from ntm_analysis.charts import title_at_top
from ntm_analysis.export import format_money
from ntm_analysis.i18n import t, term
from ntm_analysis.style import SERIES_COLOURS, STATUS_COLOURS, apply_style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_GROUP_COLOURS = {
    funding.STATE: SERIES_COLOURS[0],
    funding.NON_STATE: SERIES_COLOURS[1],
    funding.UNASSIGNED: STATUS_COLOURS["unknown"],
}


def _axes(ax: Axes | None, size: tuple[float, float] = (8, 4.5)) -> Axes:
    apply_style()
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def plot_funding_split(lines: pd.DataFrame, *, ax: Axes | None = None,
                       lang: str = "vi") -> Axes:
    """Draw a waterfall from the total down to each level, stacked by source group.

    The first bar is the total; each following bar floats at the level it takes off the total,
    split into state budget, other sources and the part with no source.
    """
    ax = _axes(ax)
    table = funding.split_by_level(lines)
    table = table[(table["total"] != 0) | table["level"].isin(funding.MAIN_LEVELS)]
    total = float(table["total"].sum())
    groups = [funding.STATE, funding.NON_STATE, funding.UNASSIGNED]
    labels = [t("funding.total", lang)] + [term("funding.level", lv, lang)
                                          for lv in table["level"]]
    x = range(len(labels))
    # total bar, stacked by group
    bottom = 0.0
    for g in groups:
        amount = float(table[g].sum())
        ax.bar(0, amount, bottom=bottom, color=_GROUP_COLOURS[g],
               label=term("funding.source", g, lang))
        bottom += amount
    ax.text(0, total, format_money(total, lang), ha="center", va="bottom")
    remaining = total
    for i, (_, row) in enumerate(table.iterrows(), start=1):
        top = remaining
        base = top - float(row["total"])
        level_bottom = base
        for g in groups:
            amount = float(row[g])
            if amount:
                ax.bar(i, amount, bottom=level_bottom, color=_GROUP_COLOURS[g])
                level_bottom += amount
        ax.text(i, top, format_money(float(row["total"]), lang), ha="center", va="bottom")
        remaining = base
    ax.set_xticks(list(x), labels, rotation=15, ha="right")
    ax.set_ylabel(t("funding.million", lang))
    ax.set_title(t("chart.funding_split", lang))
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_funding_by_criterion(by_criterion: pd.DataFrame, *, ax: Axes | None = None,
                              lang: str = "vi") -> Axes:
    """Draw one horizontal bar per unmet criterion: its funding, unfunded gaps marked in colour.

    ``by_criterion`` is the frame of ``funding.funding_by_criterion``.
    """
    title_y = title_at_top(ax is None)
    ax = _axes(ax, (8, max(2.5, 0.35 * len(by_criterion) + 1)))
    if not len(by_criterion):
        ax.text(0.5, 0.5, t("chart.funding_criteria_none", lang), ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    table = by_criterion.iloc[::-1]
    names = [f"{u} · TC {c} {n if isinstance(n, str) else ''}".strip()
             for u, c, n in zip(table["unit"], table["criterion_no"], table["criterion_name"],
                                strict=True)]
    values = table["funding_total"].astype(float).tolist()
    funded = table["funded"].astype(bool).tolist()
    colours = [SERIES_COLOURS[0] if f else STATUS_COLOURS["not_met"] for f in funded]
    ax.barh(range(len(names)), values, color=colours)
    for i, (v, f) in enumerate(zip(values, funded, strict=True)):
        ax.text(v, i, " " + (format_money(v, lang) if f else t("funding.unfunded", lang)),
                va="center", fontsize=8,
                color="black" if f else STATUS_COLOURS["not_met"])
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel(t("funding.million", lang))
    ax.set_title(t("chart.funding_criteria", lang), y=title_y)
    return ax


def plot_income_trends(series: pd.DataFrame, progress: pd.DataFrame | None = None, *,
                       ax: Axes | None = None, lang: str = "vi",
                       thresholds: pd.DataFrame | None = None) -> Axes:
    """Draw observed income per unit, the projection on the observed trend and the targets.

    ``progress`` (from ``income.compute_progress``) adds dashed projections to the target year;
    targets are drawn as markers with a horizontal target line; ``thresholds`` (rows of
    ``income.threshold_test``) adds one dotted line per threshold reading.
    """
    ax = _axes(ax)
    S = income.IncomeSeries
    units = sorted(series[S.unit].dropna().unique())
    for i, unit in enumerate(units):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        part = series[series[S.unit] == unit]
        obs = part[part[S.kind] == income.OBSERVED].sort_values(S.year)
        ax.plot(obs[S.year].astype(int), obs[S.value].astype(float), marker="o", color=colour,
                label=unit)
        tgt = part[part[S.kind] == income.TARGET]
        if len(tgt):
            ax.scatter(tgt[S.year].astype(int), tgt[S.value].astype(float), marker="*", s=120,
                       color=colour, zorder=3)
        if progress is not None and len(obs):
            row = progress[progress["unit"] == unit]
            if len(row) and pd.notna(row.iloc[0]["projected_value"]):
                r = row.iloc[0]
                ax.plot([int(r["latest_year"]), int(r["target_year"])],
                        [float(r["latest_value"]), float(r["projected_value"])],
                        linestyle="--", color=colour, alpha=0.8)
    targets = series[series[S.kind] == income.TARGET][S.value].dropna().unique()
    for value in sorted(float(v) for v in targets):
        ax.axhline(value, color=STATUS_COLOURS["met"], linewidth=1, linestyle="-", alpha=0.6)
        ax.text(ax.get_xlim()[0], value, f" {term('income.kind', income.TARGET, lang)} {value:g}",
                va="bottom", fontsize=8, color=STATUS_COLOURS["met"])
    if thresholds is not None and len(thresholds):
        readings = thresholds.drop_duplicates("scenario")
        for _, r in readings.iterrows():
            ax.axhline(float(r["threshold_million_vnd"]), color=STATUS_COLOURS["unknown"],
                       linestyle=":", linewidth=1)
            ax.text(ax.get_xlim()[1], float(r["threshold_million_vnd"]),
                    f"{term('income.scenario', r['scenario'], lang)} "
                    f"{float(r['threshold_million_vnd']):g} ",
                    ha="right", va="bottom", fontsize=7, color="#555555")
    ax.plot([], [], linestyle="--", color="grey", label=t("income.projection", lang))
    ax.set_xlabel(t("income.axis_year", lang))
    ax.set_ylabel(t("income.axis_income", lang))
    ax.set_title(t("chart.income", lang))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(frameon=False, fontsize=8)
    return ax
