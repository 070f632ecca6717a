"""House-style charts of attainment: units met, unit × criterion grid, one unit's gaps.

Every function takes its data first and an optional matplotlib ``Axes``, draws on it and returns
it; none saves or shows (``ntm_analysis.outputs.save_figure`` saves). Colours for met / not met /
unknown come from ``ntm_analysis.style.STATUS_COLOURS``; all text goes through
``ntm_analysis.i18n`` so a chart reads in Vietnamese (default) or English. Titles state the
finding ("Kim Phượng đạt 3/6 tiêu chí, 25/35 chỉ tiêu").
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.collections import PathCollection

from ntm_analysis.errors import ParameterError
from ntm_analysis.i18n import check_lang, status_label, t
from ntm_analysis.readiness import Gap, criterion_status, number_key
from ntm_analysis.schema import Att, Ind, Status, Summ
from ntm_analysis.style import STATUS_COLOURS, apply_style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

logger = logging.getLogger(__name__)

#: Characters per line of wrapped tick labels.
LABEL_WIDTH = 18


def _axes(ax: Axes | None, *, size: tuple[float, float]) -> Axes:
    apply_style()
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=size)
    return new_ax


def title_at_top(created: bool) -> float | None:
    """Return the title's ``y`` (``set_title``) for a bar chart with named y ticks, x axis below.

    matplotlib places a title automatically, above any x tick labels at the top; to do so it
    measures every y tick label (for an offset text) each time the figure is measured or drawn,
    four times for a saved chart: a tenth of the hamlet bar chart's render. On axes made by the
    chart (``created``) nothing is above them, so the title is fixed at their top (``y=1``,
    plus the pad), where the automatic placement puts it: the same picture. On an axes the
    caller passed (it may have a twin with ticks on top) the placement stays automatic (None).
    """
    return 1.0 if created else None


def _legend(ax: Axes, statuses: list[str], lang: str, **kwargs: Any) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=STATUS_COLOURS[s], label=status_label(s, lang)) for s in statuses]
    ax.legend(handles=handles, frameon=False, **kwargs)


class CellLabels(PathCollection):
    """Short labels, one per data point, drawn as one collection of glyph outlines
    (:func:`cell_labels`); ``labels`` holds the texts in the order of ``get_offsets()``."""

    labels: list[str]


def cell_labels(ax: Axes, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str], *,
                fontsize: float, color: str = "black", weight: str = "normal") -> CellLabels:
    """Draw each of ``labels`` centred on its point ``(x, y)`` (data coordinates) of ``ax``.

    A heat map's cells each carry a label such as "3/4": 150 cells of a 15-hamlet grid as
    ``Axes.text`` artists cost about 40 % of its render, since every text is laid out when it
    is measured and again when it is drawn. Here each distinct label's outline is made once
    (``TextPath``, the rcParams font at ``fontsize`` points) and all of them are drawn in one
    call, at their size in points whatever the resolution. The labels are centred on their ink
    and left out of the layout's measuring (they sit inside their cells). The returned
    collection keeps the texts in ``labels``; a figure with it pickles as any other.
    """
    import numpy as np
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    prop = FontProperties(size=fontsize, weight=weight)
    outlines: dict[str, Any] = {}
    for label in labels:
        if label not in outlines:
            path = TextPath((0, 0), label, prop=prop)
            # the box of the outline's points (``get_extents`` solves every curve for its
            # extremes, most of this function's time): a glyph's control points lie on or
            # just beside its ink
            points = path.vertices[path.codes != Path.CLOSEPOLY] if path.codes is not None \
                else path.vertices
            (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
            outlines[label] = path.transformed(
                Affine2D().translate(-(x0 + x1) / 2, -(y0 + y1) / 2))
    fig = ax.get_figure(root=True)
    assert fig is not None
    collection = CellLabels(
        [outlines[label] for label in labels],
        offsets=np.column_stack([np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)]),
        offset_transform=ax.transData,
        transform=Affine2D().scale(1 / 72) + fig.dpi_scale_trans,  # points to pixels
        facecolors=color, edgecolors="none", linewidths=0, zorder=3)
    collection.labels = list(labels)
    collection.set_in_layout(False)
    ax.add_collection(collection, autolim=False)
    return collection


def _bar_end_labels(ax: Axes, bars: Any, labels: Sequence[str], *, padding: float,
                    fontsize: float) -> None:
    """Label each horizontal bar of ``bars`` (widths of 0 or more) past its end, where
    ``Axes.bar_label`` puts its label (``padding`` points beyond the end), with plain texts: an
    annotation costs about twice a text each time the figure is measured or drawn.
    """
    from matplotlib.transforms import offset_copy

    beyond = offset_copy(ax.transData, fig=ax.get_figure(root=True), x=padding, y=0,
                         units="points")
    for bar, label in zip(bars, labels, strict=True):
        ax.text(bar.get_x() + bar.get_width(), bar.get_y() + bar.get_height() / 2, label,
                ha="left", va="center", fontsize=fontsize, transform=beyond)


def _require(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ParameterError(f"{what} lacks column(s) {', '.join(missing)}")


def _one_set(df: pd.DataFrame, criteria_set: str | None, what: str) -> pd.DataFrame:
    if criteria_set is not None:
        return df[df[Ind.criteria_set] == criteria_set]
    sets = sorted(df[Ind.criteria_set].dropna().unique())
    if len(sets) > 1:
        raise ParameterError(
            f"{what} mixes criteria sets ({', '.join(sets)}); pass criteria_set= to choose one"
        )
    return df


def plot_unit_attainment(summary: pd.DataFrame, *, ax: Axes | None = None, lang: str = "vi",
                         title: str | None = None) -> Axes:
    """Draw one horizontal bar per unit: the share of indicators met, labelled "25/35".

    Parameters
    ----------
    summary : DataFrame
        Rows of schema ``Summ`` (one per unit × criteria set × year).
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    lang : {"vi", "en"}
    title : str, optional
        Overrides the computed title, which states the finding.

    Returns
    -------
    Axes
    """
    from matplotlib.collections import PolyCollection

    check_lang(lang)
    cols = [Summ.unit, Summ.criteria_met, Summ.criteria_total, Summ.indicators_met,
            Summ.indicators_total]
    _require(summary, cols, "summary")
    data = summary.sort_values([Summ.unit], key=lambda s: s.map(number_key)).reset_index(drop=True)
    title_y = title_at_top(ax is None)
    ax = _axes(ax, size=(7.5, 0.6 * max(len(data), 1) + 1.4))
    if data.empty:
        ax.set_title(title or t("title.gaps_none", lang, unit="—"), y=title_y)
        return ax
    total = data[Summ.indicators_total].astype(float)
    met = data[Summ.indicators_met].astype(float)
    share = (met / total.where(total > 0)).fillna(0.0)
    complete = data[Summ.criteria_met].eq(data[Summ.criteria_total]) & data[
        Summ.criteria_total].gt(0)
    colours = [STATUS_COLOURS[Status.met] if c else STATUS_COLOURS[Status.not_met]
               for c in complete]
    positions = list(range(len(data)))[::-1]  # first unit on top
    # the grey 100 % track behind each bar: one collection (15 bar patches cost more to add
    # and to draw, and nothing reads them)
    ax.add_collection(PolyCollection(
        [[(0, y - 0.3), (1, y - 0.3), (1, y + 0.3), (0, y + 0.3)] for y in positions],
        facecolors=STATUS_COLOURS[Status.unknown], alpha=0.25, edgecolors="none",
        linewidths=0), autolim=False)
    bars = ax.barh(positions, share, color=colours, height=0.6)
    labels = [
        t("chart.bar_label", lang, **{k: int(r[k]) for k in cols[1:]})
        for _, r in data.iterrows()
    ]
    _bar_end_labels(ax, bars, labels, padding=4, fontsize=9)
    ax.set_yticks(positions, labels=list(data[Summ.unit]))
    ax.set_xlim(0, 1.45)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], labels=["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel(t("chart.indicators_met_share", lang))
    if title is None:
        if len(data) == 1:
            row = data.iloc[0]
            title = t("title.unit_attainment_one", lang, unit=row[Summ.unit],
                      **{k: int(row[k]) for k in cols[1:]})
        else:
            best = data.iloc[int(share.to_numpy().argmax())]
            title = t("title.unit_attainment_many", lang, complete=int(complete.sum()),
                      units=len(data), best=best[Summ.unit],
                      indicators_met=int(best[Summ.indicators_met]),
                      indicators_total=int(best[Summ.indicators_total]))
    ax.set_title(title, loc="left", y=title_y)
    _legend(ax, [Status.met, Status.not_met], lang, loc="lower right", fontsize=8)
    return ax


def plot_criteria_heatmap(criteria: pd.DataFrame, *, ax: Axes | None = None, lang: str = "vi",
                          criteria_set: str | None = None, title: str | None = None) -> Axes:
    """Draw a unit × criterion grid coloured met / not met / unknown, each cell "met/total".

    Parameters
    ----------
    criteria : DataFrame
        Rows of schema ``Crit`` (one per unit × criterion) of one criteria set.
    ax : Axes, optional
    lang : {"vi", "en"}
    criteria_set : str, optional
        The set to draw when ``criteria`` holds several (otherwise ``ParameterError``).
    title : str, optional
        Overrides the computed title.

    Returns
    -------
    Axes
        Its first collection is the grid of cells (a ``QuadMesh``): ``get_array()`` holds
        their colours (RGB), rows in the order of the y tick labels. Its second holds the
        cells' "met/total" labels (:func:`cell_labels`: ``labels``, ``get_offsets()``).
    """
    import numpy as np
    from matplotlib.colors import to_rgb

    check_lang(lang)
    _require(criteria, [Ind.unit, Ind.criteria_set, Ind.criterion_no, Ind.criterion_name, "met",
                        "indicators_met", "indicators_total", "indicators_unknown"], "criteria")
    data = _one_set(criteria, criteria_set, "criteria").copy()
    data["_status"] = criterion_status(data)
    units = sorted(data[Ind.unit].dropna().unique(), key=number_key)
    numbers = sorted(data[Ind.criterion_no].dropna().unique(), key=number_key)
    names = data.drop_duplicates(Ind.criterion_no).set_index(Ind.criterion_no)[Ind.criterion_name]
    # one row per drawn cell (the first of duplicates), placed by position, row-major
    cells = data.drop_duplicates([Ind.unit, Ind.criterion_no]).assign(
        _i=lambda d: d[Ind.unit].map({u: i for i, u in enumerate(units)}),
        _j=lambda d: d[Ind.criterion_no].map({n: j for j, n in enumerate(numbers)}),
    ).dropna(subset=["_i", "_j"]).sort_values(["_i", "_j"])
    rows, cols = cells["_i"].astype(int).to_numpy(), cells["_j"].astype(int).to_numpy()
    grid = np.ones((max(len(units), 1), max(len(numbers), 1), 3))
    rgb = {status: to_rgb(colour) for status, colour in STATUS_COLOURS.items()}
    grid[rows, cols] = np.array([rgb[str(s)] for s in cells["_status"]]).reshape(-1, 3)
    ax = _axes(ax, size=(max(6.0, 1.15 * len(numbers) + 2.5), 0.7 * len(units) + 2.2))
    # the cells as one mesh whose white edges part them; row 0 on top
    edges_x = np.arange(grid.shape[1] + 1) - 0.5
    edges_y = np.arange(grid.shape[0] + 1) - 0.5
    ax.pcolormesh(edges_x, edges_y, grid, edgecolors="white", linewidth=2, antialiased=True)
    ax.set_xlim(edges_x[0], edges_x[-1])
    ax.set_ylim(edges_y[-1], edges_y[0])
    cell_labels(ax, cols, rows, [f"{int(met)}/{int(total)}" for met, total in zip(
        cells["indicators_met"], cells["indicators_total"], strict=True)],
        fontsize=9, color="white", weight="bold")
    ax.set_yticks(range(len(units)), labels=units)
    xlabels = [textwrap.fill(f"{no}. {names.get(no, '')}", LABEL_WIDTH) for no in numbers]
    ax.set_xticks(range(len(numbers)), labels=xlabels, fontsize=8)
    ax.tick_params(axis="x", bottom=False, top=False, labelbottom=False, labeltop=True)
    ax.tick_params(axis="y", left=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title is None:
        per_unit = data.groupby(Ind.unit)["_status"].agg(lambda s: bool(s.eq(Status.met).all()))
        complete = sum(bool(v) for v in per_unit)
        unmet = data[data["_status"] != Status.met]
        if data.empty:
            title = t("title.heatmap_empty", lang)
        elif unmet.empty:
            title = t("title.heatmap_all_met", lang, units=len(units),
                      criteria_total=len(numbers))
        else:
            counts = unmet.groupby(Ind.criterion_no).size()
            top = max(counts.index, key=lambda n: (counts[n], -numbers.index(n)))
            title = t("title.heatmap", lang, complete=complete, units=len(units),
                      criteria_total=len(numbers), worst=f"{top}. {names.get(top, '')}")
    ax.set_title(textwrap.fill(title, 90), loc="left", pad=12)
    _legend(ax, [Status.met, Status.not_met, Status.unknown], lang, loc="upper left",
            bbox_to_anchor=(0, -0.02), ncol=3, fontsize=8)
    return ax


def _gap_label(row: pd.Series) -> str:
    name = row[Ind.indicator_name]
    name = name if isinstance(name, str) else ""  # (a missing name is NA, or NaN)
    return textwrap.shorten(f"{row[Ind.indicator_no]} {name}", width=60, placeholder="…")


def plot_gaps(gaps: pd.DataFrame, *, unit: str | None = None, ax: Axes | None = None,
              lang: str = "vi", top: int | None = None, title: str | None = None) -> Axes:
    """Draw one unit's unmet indicators ranked by relative distance to their target.

    Parameters
    ----------
    gaps : DataFrame
        The output of ``readiness.gaps_by_unit`` (columns ``Gap``).
    unit : str, optional
        The unit to draw; needed when ``gaps`` holds several units.
    ax : Axes, optional
    lang : {"vi", "en"}
    top : int, optional
        Draw only the ``top`` furthest indicators.
    title : str, optional
        Overrides the computed title.

    Returns
    -------
    Axes
        One bar per indicator, furthest first (top); unknown indicators are grey stubs.
    """
    check_lang(lang)
    _require(gaps, [Ind.unit, Ind.indicator_no, Ind.indicator_name, Att.status,
                    Gap.relative_gap, Gap.rank], "gaps")
    units = sorted(gaps[Ind.unit].dropna().unique())
    if unit is None:
        if len(units) > 1:
            raise ParameterError(f"gaps holds several units ({', '.join(units)}); pass unit=")
        unit = units[0] if units else ""
    data = gaps[gaps[Ind.unit] == unit].sort_values(Gap.rank).reset_index(drop=True)
    n_unmet = int(data[Att.status].eq(Status.not_met).sum())
    if top is not None:
        data = data.head(top)
    title_y = title_at_top(ax is None)
    ax = _axes(ax, size=(8.0, 0.38 * max(len(data), 1) + 1.6))
    if data.empty:
        ax.set_title(title or t("title.gaps_none", lang, unit=unit), loc="left", y=title_y)
        ax.set_axis_off()
        return ax
    rel = data[Gap.relative_gap].astype("Float64")
    unknown = data[Att.status].ne(Status.not_met)
    widths = [0.02 if u else float(r) * 100 for r, u in zip(rel.fillna(0), unknown, strict=True)]
    colours = [STATUS_COLOURS[Status.unknown] if u else STATUS_COLOURS[Status.not_met]
               for u in unknown]
    positions = list(range(len(data)))[::-1]
    bars = ax.barh(positions, widths, color=colours, height=0.6)
    notes = [
        t("chart.gap_unknown", lang) if u else f"{float(r) * 100:.0f}%"
        for r, u in zip(rel.fillna(0), unknown, strict=True)
    ]
    _bar_end_labels(ax, bars, notes, padding=3, fontsize=8)
    ax.set_yticks(positions, labels=[_gap_label(r) for _, r in data.iterrows()], fontsize=8)
    ax.set_xlabel(t("chart.relative_gap", lang))
    ax.set_xlim(0, max(max(widths) * 1.2, 10))
    if title is None:
        known = data[~unknown]
        worst = _gap_label(known.iloc[0]) if len(known) else t("chart.gap_unknown", lang)
        title = t("title.gaps", lang, unit=unit, n=n_unmet, worst=worst)
    ax.set_title(textwrap.fill(title, 80), loc="left", y=title_y)
    _legend(ax, [Status.not_met, Status.unknown], lang, loc="lower right", fontsize=8)
    return ax
