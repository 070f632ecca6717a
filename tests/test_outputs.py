"""Tests of saving figures: one draw, cropped like ``bbox_inches="tight"``, nothing cut off."""

from __future__ import annotations

import io

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from ntm_analysis.outputs import render_png, save_figure
from ntm_analysis.style import apply_style


@pytest.fixture(autouse=True)
def house_style() -> object:
    with mpl.rc_context():
        apply_style()
        yield


def _png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _tight_savefig(fig: Figure) -> Image.Image:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return _png(buffer.getvalue())


def _chart(label: str) -> Figure:
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.barh([0, 1], [3, 5], color=["#009E73", "#D55E00"])
    ax.set_yticks([0, 1], labels=["Xóm Ao Sen", label])
    ax.set_title("Tiêu chí đạt", loc="left")
    return fig


def test_content_inside_the_figure_is_cropped_as_savefig_tight_does() -> None:
    fig = _chart("Xóm Nà Mò")
    fig.subplots_adjust(left=0.3)  # the labels fit: no layout change, only the crop
    expected = _tight_savefig(fig)
    image = _png(render_png(fig))
    assert image.mode == "RGB"  # an opaque figure needs no alpha channel
    assert abs(image.width - expected.width) <= 2 and abs(image.height - expected.height) <= 2
    # the same picture, up to a pixel of rounding at the edges
    ours = np.asarray(image.convert("L"), dtype=float)
    theirs = np.asarray(expected.convert("L").resize(image.size), dtype=float)
    assert np.abs(ours - theirs).mean() < 8
    assert fig.dpi == mpl.rcParams["figure.dpi"]  # the figure is left as it was


def test_long_labels_make_room_instead_of_being_cut() -> None:
    fig = _chart("Xóm Đồng Bòng và Khuổi Chắt Thượng")
    image = _png(render_png(fig))
    dpi, pad = mpl.rcParams["savefig.dpi"], mpl.rcParams["savefig.pad_inches"]
    # the canvas kept (the labels make room inside it; savefig's crop would be twice as wide):
    # at most the padding beyond it, where a title longer than the squeezed axes can reach
    assert image.width <= (4 + 2 * pad) * dpi and image.height <= (3 + 2 * pad) * dpi
    ink = np.asarray(image.convert("L")) < 128
    columns = np.flatnonzero(ink.any(axis=0))
    assert columns[0] > 0 and columns[-1] < image.width - 1  # margin on both sides


def test_text_outside_the_figure_falls_back_to_savefig(tmp_path) -> None:
    fig = _chart("Xóm Ao Sen 2")
    fig.text(1.4, 0.5, "ghi chú ngoài khung")  # no layout brings a figure text inside
    path = save_figure(fig, "outside", out_dir=tmp_path)
    image = _png(path.read_bytes())
    assert image.width > 4 * mpl.rcParams["savefig.dpi"]  # widened, nothing cut off
    assert path == tmp_path / "figures" / "outside.png"
    assert [p.name for p in path.parent.iterdir()] == ["outside.png"]  # no temporary left


def test_a_figure_with_a_layout_engine_is_cropped_after_the_engine_moved_it() -> None:
    """Constrained layout places the axes while drawing: the crop follows the drawn figure."""
    fig = Figure(figsize=(8, 3), layout="constrained")  # the labels fit: no tight_layout
    ax = fig.add_subplot()
    ax.barh([0, 1], [3, 5], color=["#009E73", "#D55E00"])
    ax.set_yticks([0, 1], labels=["Xóm Ao Sen", "Xóm Nà Mò"])
    ax.set_title("Tiêu chí đạt", loc="left")
    image = _png(render_png(fig))  # first: no earlier draw has placed the axes yet
    expected = _tight_savefig(fig)
    assert abs(image.width - expected.width) <= 2 and abs(image.height - expected.height) <= 2
    ours = np.asarray(image.convert("L"), dtype=float)
    theirs = np.asarray(expected.convert("L").resize(image.size), dtype=float)
    assert np.abs(ours - theirs).mean() < 8


def test_png_encoding_gives_back_the_drawn_pixels() -> None:
    """encode_png of a drawn canvas (RGB and RGBA, a cut-out view) decodes to the same pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from ntm_analysis.outputs import encode_png

    fig = _chart("Xóm Nà Mò")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    drawn = np.asarray(canvas.buffer_rgba())
    for pixels, mode in ((drawn[10:200, 5:300, :3], "RGB"), (drawn, "RGBA")):
        image = _png(encode_png(pixels))
        assert image.mode == mode and image.size == (pixels.shape[1], pixels.shape[0])
        assert np.array_equal(np.asarray(image), pixels)


def test_a_transparent_figure_keeps_its_alpha_channel() -> None:
    fig = _chart("Xóm Nà Mò")
    fig.subplots_adjust(left=0.3)
    fig.patch.set_alpha(0.0)
    image = _png(render_png(fig))
    assert image.mode == "RGBA"
    alpha = np.asarray(image)[..., 3]
    assert alpha[0, 0] == 0 and alpha.max() == 255  # clear margin, opaque bars and text


def test_content_at_the_canvas_edge_gets_its_margin_in_the_face_colour() -> None:
    fig = Figure(figsize=(3, 1), facecolor="#D9F2EA")
    fig.text(0.0, 0.0, "Xóm Ao Sen", ha="left", va="bottom")  # touches the bottom-left corner
    image = _png(render_png(fig))
    pixels = np.asarray(image)
    margin = round(mpl.rcParams["savefig.pad_inches"] * mpl.rcParams["savefig.dpi"])
    assert image.mode == "RGB"
    assert (pixels[-margin:, :] == (0xD9, 0xF2, 0xEA)).all()  # below the canvas: face colour
    assert (pixels[:, :margin] == (0xD9, 0xF2, 0xEA)).all()  # left of it too
    assert (pixels[:-margin, margin:] < 128).any()  # and the text itself
