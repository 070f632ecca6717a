"""Tests of the house-style charts on real matplotlib (Agg) figures."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from ntm_analysis import charts, readiness  # noqa: E402
from ntm_analysis.errors import ParameterError  # noqa: E402
from ntm_analysis.schema import Ind  # noqa: E402
from ntm_analysis.style import STATUS_COLOURS  # noqa: E402

HAMLET_SET = "TN_XOM_NTM_KIEUMAU_2021_2025"


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def summary_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "unit": ["Xóm Cạm Phước", "Kim Phượng", "Xóm Ao Sen"],
        "level": ["hamlet", "commune", "hamlet"],
        "criteria_set": [HAMLET_SET, "TN_XA_NTM_KIEUMAU_2022_2025", HAMLET_SET],
        "year": [2024, 2024, 2024],
        "criteria_met": [3, 3, 10], "criteria_total": [10, 6, 10],
        "indicators_met": [23, 25, 31], "indicators_total": [31, 35, 31],
    })


def gaps_attainment() -> pd.DataFrame:
    return pd.DataFrame({
        "unit": ["Xóm Ao Sen"] * 4 + ["Xóm Bản Lác"], "level": "hamlet",
        "criteria_set": HAMLET_SET, "year": 2024,
        "criterion_no": ["2", "6", "3", "1", "2"],
        "criterion_name": ["Giao thông", "Môi trường", "Văn hóa", "Quy hoạch", "Giao thông"],
        "indicator_no": ["2.1", "6.2", "3.1", "1.1", "2.1"],
        "indicator_name": ["Đường trục xóm được cứng hóa", "Tỷ lệ hộ có nhà tiêu hợp vệ sinh",
                           "Nhà văn hóa xóm", "Quy hoạch xóm", "Đường trục xóm"],
        "status": ["not_met", "not_met", "unknown", "met", "not_met"],
        "target_value": [100.0, 90.0, 1.0, 1.0, 100.0],
        "gap": [20.0, 45.0, None, 0.0, 5.0],
    })


def criteria_frame() -> pd.DataFrame:
    rows = []
    statuses = {  # unit -> criterion -> (met, unknown, total)
        "Xóm Bản Lác": {"1": (2, 0, 2), "2": (1, 0, 4), "10": (1, 1, 2)},
        "Xóm Ao Sen": {"1": (1, 0, 2), "2": (4, 0, 4), "10": (0, 0, 2)},
    }
    names = {"1": "Quy hoạch", "2": "Giao thông", "10": "Thu nhập"}
    for unit, crits in statuses.items():
        for no, (met, unknown, total) in crits.items():
            rows.append({"unit": unit, "criteria_set": HAMLET_SET, "criterion_no": no,
                         "criterion_name": names[no], "indicators_met": met,
                         "indicators_unknown": unknown, "indicators_total": total,
                         "met": met == total})
    return pd.DataFrame(rows)


def test_unit_attainment_bars_and_titles() -> None:
    summary = summary_frame()
    fig, ax = plt.subplots()
    assert charts.plot_unit_attainment(summary, ax=ax) is ax
    ticks = sorted(zip(ax.get_yticks(), ax.get_yticklabels(), strict=True), key=lambda p: -p[0])
    assert [label.get_text() for _, label in ticks] == sorted(summary["unit"])  # top first
    bar_texts = [t.get_text() for t in ax.texts]
    for r in summary.itertuples():
        label = f"{r.criteria_met}/{r.criteria_total} TC · {r.indicators_met}/{r.indicators_total}"
        assert f"{label} CT" in bar_texts
    # one bar per unit over a grey 100 % track; widths are shares of indicators met
    shares = sorted(p.get_width() for p in ax.patches)
    assert shares == pytest.approx(sorted(summary.indicators_met / summary.indicators_total))
    tracks = ax.collections[0].get_paths()  # one collection of tracks, one per bar
    assert [(t.vertices[:, 0].min(), t.vertices[:, 0].max()) for t in tracks] == [(0, 1)] * 3
    centres = sorted((t.vertices[:, 1].min() + t.vertices[:, 1].max()) / 2 for t in tracks)
    assert centres == pytest.approx(sorted(p.get_y() + p.get_height() / 2 for p in ax.patches))
    complete = summary[summary.criteria_met == summary.criteria_total]
    assert ax.get_title(loc="left").startswith(f"{len(complete)}/{len(summary)} đơn vị")

    one = summary[summary.unit == "Kim Phượng"]
    ax = charts.plot_unit_attainment(one)
    r = one.iloc[0]
    assert ax.get_title(loc="left") == (
        f"Kim Phượng đạt {r.criteria_met}/{r.criteria_total} tiêu chí, "
        f"{r.indicators_met}/{r.indicators_total} chỉ tiêu")
    ax = charts.plot_unit_attainment(one, lang="en")
    assert ax.get_title(loc="left").startswith("Kim Phượng meets ")
    colour = ax.patches[0].get_facecolor()[:3]
    assert colour == pytest.approx(to_rgb(STATUS_COLOURS["not_met"]))


@pytest.mark.parametrize("dpi", [100, 150])
def test_bar_labels_sit_where_bar_label_puts_them(dpi: int) -> None:
    summary = summary_frame().assign(indicators_met=[0, 25, 31])  # a bar of width 0 too
    ax = charts.plot_unit_attainment(summary)
    ax.figure.set_dpi(dpi)
    texts = list(ax.texts)
    assert len(texts) == len(summary)
    [bars] = ax.containers
    reference = ax.bar_label(bars, labels=[t.get_text() for t in texts], padding=4, fontsize=9)
    renderer = ax.figure.canvas.get_renderer()
    for text, annotation in zip(texts, reference, strict=True):
        assert text.get_window_extent(renderer).bounds == pytest.approx(
            annotation.get_window_extent(renderer).bounds, abs=0.01)


def _own_and_given(plot, *args, **kwargs):  # type: ignore[no-untyped-def]
    """The chart on axes it made, and on axes of the same size passed to it."""
    own = plot(*args, **kwargs)
    _, given = plt.subplots(figsize=own.figure.get_size_inches())
    assert plot(*args, ax=given, **kwargs) is given
    return own, given


@pytest.mark.parametrize("chart", ["attainment", "gaps", "funding"])
def test_bar_charts_fix_the_title_where_matplotlib_would_place_it(chart: str) -> None:
    from ntm_analysis import charts_money, funding
    from ntm_analysis.outputs import render_png

    if chart == "attainment":
        own, given = _own_and_given(charts.plot_unit_attainment, summary_frame())
    elif chart == "gaps":
        gaps = readiness.gaps_by_unit(gaps_attainment())
        own, given = _own_and_given(charts.plot_gaps, gaps, unit="Xóm Ao Sen")
    else:
        lines = pd.DataFrame({"level": ["model_hamlet"], "hamlet": ["Xóm Ao Sen"],
                              "criterion_no": ["2"], "total": [120.0], "state": [120.0]})
        by_crit = funding.funding_by_criterion(lines, gaps_attainment())
        assert len(by_crit) >= 3 and by_crit["funded"].any() and not by_crit["funded"].all()
        own, given = _own_and_given(charts_money.plot_funding_by_criterion, by_crit)
    titles = [t for t in (own.title, own._left_title) if t.get_text()]
    assert titles and all(t.get_position()[1] == 1.0 for t in titles)
    assert own._autotitlepos is False and given._autotitlepos is not False
    # fixed on its own axes, placed automatically on the caller's: the same picture
    assert render_png(own.figure) == render_png(given.figure)


def test_a_title_on_given_axes_still_clears_tick_labels_on_top() -> None:
    _, ax = plt.subplots(figsize=(7.5, 3))
    ax.xaxis.tick_top()  # the caller's axes, with its x tick labels above
    charts.plot_unit_attainment(summary_frame(), ax=ax)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    assert (ax._left_title.get_window_extent(renderer).y0
            >= ax.xaxis.get_tightbbox(renderer).y1 - 1)


def test_heatmap_cell_colours_follow_statuses() -> None:
    crit = criteria_frame()
    ax = charts.plot_criteria_heatmap(crit)
    units = [t.get_text() for t in ax.get_yticklabels()]
    numbers = [t.get_text().split(".")[0] for t in ax.get_xticklabels()]
    assert units == ["Xóm Ao Sen", "Xóm Bản Lác"]
    assert numbers == ["1", "2", "10"]  # natural order, not "1", "10", "2"
    grid = ax.collections[0].get_array()  # the cells: one mesh, rows as the y labels
    assert grid.shape == (len(units), len(numbers), 3)
    expected = dict(zip(crit.index, readiness.criterion_status(crit), strict=True))
    for idx, row in crit.iterrows():
        i, j = units.index(row["unit"]), numbers.index(row["criterion_no"])
        assert tuple(grid[i, j]) == pytest.approx(to_rgb(STATUS_COLOURS[expected[idx]]))
    labels = ax.collections[1]  # each cell's "met/total", at (criterion, unit) positions
    placed = dict(zip(map(tuple, labels.get_offsets()), labels.labels, strict=True))
    assert placed == {
        (numbers.index(r.criterion_no), units.index(r.unit)):
            f"{r.indicators_met}/{r.indicators_total}" for r in crit.itertuples()}
    # Vietnamese labels survive, NFC, and the title names the most often unmet criterion
    assert "Xóm Bản Lác" in units
    assert "Thu nhập" in ax.get_xticklabels()[2].get_text()
    title = ax.get_title(loc="left")
    assert title.startswith("0/2 đơn vị đạt đủ 3 tiêu chí")
    assert "10. Thu nhập" in title  # unmet in both hamlets


def test_heatmap_figure_pickles_with_its_cell_labels() -> None:
    import pickle

    ax = charts.plot_criteria_heatmap(criteria_frame())
    copy = pickle.loads(pickle.dumps(ax.figure))  # as matplotlib figures do
    labels = copy.axes[0].collections[1]
    assert labels.labels == ax.collections[1].labels
    assert (labels.get_offsets() == ax.collections[1].get_offsets()).all()
    plt.close(copy)


@pytest.mark.parametrize("dpi", [100, 200])
def test_heatmap_cell_labels_are_drawn_centred_at_their_size_in_points(dpi: int) -> None:
    import numpy as np

    crit = criteria_frame()
    ax = charts.plot_criteria_heatmap(crit)
    fig = ax.figure
    fig.set_dpi(dpi)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    height = pixels.shape[0]
    labels = ax.collections[1]
    widths = {}
    for (x, y), label in zip(labels.get_offsets(), labels.labels, strict=True):
        (x0, y0), (x1, y1) = ax.transData.transform([(x - 0.4, y - 0.4), (x + 0.4, y + 0.4)])
        rows = slice(int(height - max(y0, y1)), int(height - min(y0, y1)))
        window = pixels[rows, int(x0):int(x1)]
        ink = np.argwhere((window > 240).all(axis=-1))  # the white label on its coloured cell
        assert len(ink), f"no label drawn in the cell of {label!r}"
        centre = (np.array(window.shape[:2]) - 1) / 2
        assert np.abs((ink.min(axis=0) + ink.max(axis=0)) / 2 - centre).max() <= 1.5
        widths[label] = (ink[:, 1].max() - ink[:, 1].min() + 1) / dpi * 72  # in points
    # "2/2" in bold at 9 points is about 14 points wide, at any resolution
    assert widths["2/2"] == pytest.approx(14, abs=1.5)


def test_heatmap_needs_one_set_and_draws_vietnamese_glyphs() -> None:
    crit = pd.concat([criteria_frame(),
                      criteria_frame().assign(criteria_set="TN_XOM_THONG_MINH")])
    with pytest.raises(ParameterError, match="mixes criteria sets"):
        charts.plot_criteria_heatmap(crit)
    ax = charts.plot_criteria_heatmap(crit, criteria_set=HAMLET_SET, lang="en")
    assert ax.get_title(loc="left").startswith("0/2 units meet all 3 criteria")
    # drawing with the house fonts raises no missing-glyph warning (warnings are errors here)
    ax.figure.canvas.draw()
    all_met = criteria_frame().assign(met=True, indicators_unknown=0)
    all_met["indicators_met"] = all_met["indicators_total"]
    ax = charts.plot_criteria_heatmap(all_met)
    assert ax.get_title(loc="left") == "Cả 2 đơn vị đạt đủ 3 tiêu chí"


def test_gaps_chart_ranks_bars_by_relative_distance() -> None:
    gaps = readiness.gaps_by_unit(gaps_attainment())
    with pytest.raises(ParameterError, match="several units"):
        charts.plot_gaps(gaps)
    ax = charts.plot_gaps(gaps, unit="Xóm Ao Sen")
    ticks = sorted(zip(ax.get_yticks(), ax.get_yticklabels(), strict=True), key=lambda p: -p[0])
    labels = [label.get_text() for _, label in ticks]  # top first
    assert [label.split()[0] for label in labels] == ["6.2", "2.1", "3.1"]
    widths = [p.get_width() for p in ax.patches[:3]]
    assert widths[:2] == pytest.approx([45 / 90 * 100, 20 / 100 * 100])
    assert ax.patches[2].get_facecolor()[:3] == pytest.approx(to_rgb(STATUS_COLOURS["unknown"]))
    assert ax.get_title(loc="left").startswith("Xóm Ao Sen: 2 chỉ tiêu chưa đạt")
    assert "6.2 Tỷ lệ hộ có nhà tiêu" in ax.get_title(loc="left")
    ax = charts.plot_gaps(gaps, unit="Xóm Ao Sen", top=1, lang="en")
    assert len(ax.get_yticklabels()) == 1
    assert ax.get_title(loc="left").startswith("Xóm Ao Sen: 2 indicators not met")
    ax = charts.plot_gaps(gaps.iloc[0:0], unit="Xóm Phai Đá")
    assert ax.get_title(loc="left") == "Xóm Phai Đá: không còn chỉ tiêu chưa đạt"


def test_a_gap_without_an_indicator_name_is_labelled_by_its_number() -> None:
    """An indicator the catalogue does not know, with no name in its workbook: its bar is
    labelled "9.9" (a missing name, NA in the gaps table, stopped the chart: 'boolean value
    of NA is ambiguous')."""
    gaps = readiness.gaps_by_unit(gaps_attainment())
    gaps = gaps[gaps[Ind.unit] == "Xóm Ao Sen"].reset_index(drop=True)
    gaps[Ind.indicator_name] = gaps[Ind.indicator_name].astype("string")
    gaps.loc[0, [Ind.indicator_no, Ind.indicator_name]] = ["9.9", pd.NA]
    ax = charts.plot_gaps(gaps, unit="Xóm Ao Sen")
    assert "9.9" in [label.get_text() for label in ax.get_yticklabels()]


def test_charts_draw_on_given_axes_and_never_save(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    fig, axes = plt.subplots(1, 2)
    assert charts.plot_unit_attainment(summary_frame(), ax=axes[0]) is axes[0]
    assert charts.plot_criteria_heatmap(criteria_frame(), ax=axes[1]) is axes[1]
    fig.canvas.draw()
    assert list(tmp_path.iterdir()) == []


def test_missing_columns_are_named() -> None:
    with pytest.raises(ParameterError, match="summary lacks column"):
        charts.plot_unit_attainment(pd.DataFrame({"unit": ["A"]}))


def test_heatmap_of_a_set_with_no_units_says_so() -> None:
    """A commune without smart hamlets still gets a (blank) chart and a plain title."""
    import matplotlib.pyplot as plt

    from ntm_analysis.schema import Crit, conform

    empty = conform(pd.DataFrame(columns=Crit.columns()), Crit)
    fig, ax = plt.subplots()
    try:
        ax = charts.plot_criteria_heatmap(empty, ax=ax, lang="en")
        assert ax.get_title(loc="left") == "No unit was reviewed against this criteria set"
    finally:
        plt.close(fig)
