"""The one house style for charts and tables: status colours, fonts that render Vietnamese.

Every chart function in the suite calls ``apply_style()`` (idempotent) and takes its colours from
``STATUS_COLOURS``; saving goes through ``ntm_analysis.charts.save_figure``.
"""

from __future__ import annotations

from ntm_analysis.vocab import Status

#: Fixed colours for met / not met / unknown, colour-blind safe (Okabe–Ito).
STATUS_COLOURS: dict[str, str] = {
    Status.met: "#009E73",  # bluish green
    Status.not_met: "#D55E00",  # vermillion
    Status.unknown: "#999999",  # grey
}
#: Light fills for tables (HTML and Excel) keyed like ``STATUS_COLOURS``.
STATUS_FILLS: dict[str, str] = {
    Status.met: "#D9F2EA",
    Status.not_met: "#F9DFD0",
    Status.unknown: "#EEEEEE",
}
#: Neutral series colours for money and income charts.
SERIES_COLOURS: list[str] = ["#0072B2", "#E69F00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
#: Fonts with full Vietnamese coverage, first available wins (DejaVu ships with matplotlib).
FONT_FAMILY: list[str] = ["Noto Sans", "DejaVu Sans", "Arial", "sans-serif"]


def apply_style() -> None:
    """Set matplotlib's rc parameters to the house style (safe to call many times)."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": FONT_FAMILY,
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": False,
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "svg.fonttype": "none",
        # glyphs drawn from their outlines as designed, without the font's hinting program:
        # at 150 dpi the difference is hard to see, and laying out and drawing text (most of
        # what a chart costs) takes about a third less time
        "text.hinting": "no_hinting",
    })
