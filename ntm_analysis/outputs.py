"""Saving figures and tables: the one place where charts and tables reach the disk.

Files are written to a temporary name in the destination folder and renamed into place, so a
reader never sees a half-written file.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

FIGURES = "figures"
TABLES = "tables"


@contextlib.contextmanager
def temporary_beside(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``path``, removed on exit unless renamed away.

    ``atomic_path`` with the rename left to the caller: several files can be written (in any
    order, in threads) and then renamed into place together once all of them succeeded. The
    name matches ``TEMPORARY_PATTERNS``, so an interrupted run's leftovers are recognised.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.parquet"
    >>> with temporary_beside(target) as tmp:
    ...     _ = tmp.write_bytes(b"x")
    ...     os.replace(tmp, target)
    >>> target.read_bytes(), sorted(p.name for p in target.parent.iterdir())
    (b'x', ['a.parquet'])
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_beside(target)
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


#: ``os.open`` flags of a new temporary: never an existing file, not inherited by a child.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _create_beside(target: Path) -> Path:
    """Create an empty ``.NAME.RANDOM.tmp`` beside ``target`` with the permissions a plain
    ``open(target, "w")`` would leave: those of the file it replaces (its owner keeping read and
    write, so the writer can fill it), else ``0o666`` less the umask. (``tempfile.mkstemp``
    makes it ``0o600``, which would keep a shared report from the group or the web server that
    serves it.)"""
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode) | stat.S_IRUSR | stat.S_IWUSR
    except OSError:
        mode = None
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{os.urandom(5).hex()}.tmp"
        try:
            os.close(os.open(tmp, _NEW_FILE, 0o666))
        except FileExistsError:
            continue
        if mode is not None:
            try:
                os.chmod(tmp, mode)
            except BaseException:
                tmp.unlink()
                raise
        return tmp
    raise FileExistsError(errno.EEXIST, f"no free temporary name beside {target}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    On error the temporary file is removed and ``path`` is left as it was.
    """
    with temporary_beside(path) as tmp:
        yield tmp
        os.replace(tmp, path)


def save_figure(fig: Figure, name: str, *, out_dir: str | os.PathLike[str]) -> Path:
    """Save ``fig`` as ``OUT_DIR/figures/NAME.png`` (atomically) and return the path.

    The picture is :func:`render_png`'s: the figure cropped to its content, drawn once.
    """
    path = Path(out_dir) / FIGURES / f"{name}.png"
    data = render_png(fig)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


#: zlib level of saved PNGs: 3 compresses charts twice as fast as the default 6, files 10-20%
#: larger (flat colours compress well at any level). Compressed by zlib-ng where it is installed
#: (a dependency): a report's 7 charts in 0.02 s of CPU instead of 0.065 s, 2 % smaller.
PNG_COMPRESS_LEVEL = 3
#: Inches of tolerance before content counts as sticking out of the figure (rounding).
_OVERFLOW_TOLERANCE = 0.01


def render_png(fig: Figure) -> bytes:
    """Return ``fig`` as PNG bytes, cropped to its content like ``bbox_inches="tight"``, drawn once.

    ``savefig(bbox_inches="tight")`` draws a figure twice: once to measure it and once more on a
    canvas of the measured size, where every text is laid out again. Here the content is measured
    on the canvas it is then drawn on (text measures are cached per canvas), so the figure is
    drawn once and the picture is cut out of that canvas, along the box measured before the
    draw (measured again after it only when a layout engine ran in the draw). Content that
    would stick out of the figure (a long unit name left of the axes) first makes room with
    ``tight_layout``, which keeps the canvas. The resolution is ``savefig.dpi``, the margin
    ``savefig.pad_inches``; an opaque figure is written without an alpha channel. Should the
    content still stick out, the figure is saved by ``savefig`` instead, so nothing is ever
    cut off.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1))
    >>> _ = fig.add_subplot().set_title("Xóm Ao Sen")
    >>> render_png(fig)[1:4]
    b'PNG'
    """
    import io
    import warnings

    import matplotlib as mpl
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import to_rgba

    rc = mpl.rcParams
    dpi = fig.dpi if rc["savefig.dpi"] == "figure" else float(rc["savefig.dpi"])
    pad = float(rc["savefig.pad_inches"])
    old_canvas, old_dpi = fig.canvas, fig.dpi
    try:
        canvas = FigureCanvasAgg(fig)
        fig.set_dpi(dpi)
        renderer = canvas.get_renderer()
        width, height = fig.get_size_inches()
        box = fig.get_tightbbox(renderer)
        if _sticks_out(box, width, height):
            with warnings.catch_warnings():  # when it cannot help, savefig below does
                warnings.simplefilter("ignore")
                fig.tight_layout(pad=pad / (rc["font.size"] / 72))
            box = fig.get_tightbbox(renderer)
        canvas.draw()
        if _layout_runs_in_draw(fig):  # drawing ran the engine: content may have moved
            box = fig.get_tightbbox(renderer)
        if _sticks_out(box, width, height):  # tight_layout could not help: never cut anything
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
            return buffer.getvalue()
        box = box.padded(pad)
        cols, rows = int(renderer.width), int(renderer.height)
        left, top = math.floor(box.x0 * dpi), math.floor(rows - box.y1 * dpi)
        right, bottom = math.ceil(box.x1 * dpi), math.ceil(rows - box.y0 * dpi)
        face = [round(255 * c) for c in to_rgba(fig.get_facecolor())]
        opaque = face[3] == 255 and not rc["savefig.transparent"]
        channels = 3 if opaque else 4  # opaque: the alpha channel says nothing
        drawn = np.asarray(canvas.buffer_rgba())[max(0, top):min(rows, bottom),
                                                 max(0, left):min(cols, right)]
        if channels == 3:
            drawn = _without_alpha(drawn)
        if left < 0 or top < 0 or right > cols or bottom > rows:  # the margin beyond the canvas
            picture = np.empty((bottom - top, right - left, channels), dtype=np.uint8)
            picture[...] = face[:channels]
            y, x = max(0, top) - top, max(0, left) - left
            picture[y:y + drawn.shape[0], x:x + drawn.shape[1]] = drawn
            drawn = picture
        return encode_png(drawn)
    finally:
        fig.set_dpi(old_dpi)
        fig.set_canvas(old_canvas)


def _layout_runs_in_draw(fig: Figure) -> bool:
    """True when drawing ``fig`` runs a layout engine (constrained, tight) that may move content.

    ``tight_layout()`` leaves a ``PlaceHolderLayoutEngine`` behind, which does nothing when the
    figure is drawn: after it, the box measured before the draw still holds (measuring again
    would lay out every text a further time: about 8 % of the hamlet bar chart's render).
    """
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    return engine is not None and not isinstance(engine, PlaceHolderLayoutEngine)


def encode_png(pixels: Any) -> bytes:
    """Return an 8-bit RGB or RGBA array (height × width × 3 or 4) as PNG bytes.

    Every row is stored as its difference from the row above (PNG filter "Up"): on charts,
    where most rows repeat the one above (flat fills, axes, bars), that leaves mostly zeros for
    zlib, and it is one array subtraction instead of trying four filters on every row as
    general-purpose encoders do: about twice as fast as Pillow's, files a few per cent larger.

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> pixels = np.zeros((2, 3, 3), dtype=np.uint8); pixels[1, 2] = (213, 94, 0)
    >>> back = Image.open(io.BytesIO(encode_png(pixels)))
    >>> back.mode, back.size, back.getpixel((2, 1))
    ('RGB', (3, 2), (213, 94, 0))
    """
    import struct

    import numpy as np

    from ntm_analysis.fastzlib import zlib  # zlib-ng: about 3x zlib's speed on charts

    height, width, channels = pixels.shape
    rows = np.ascontiguousarray(pixels).reshape(height, width * channels)
    scanlines = np.empty((height, 1 + width * channels), dtype=np.uint8)
    scanlines[:, 0] = 2  # filter type "Up" (the row above the first counts as zeros)
    scanlines[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=scanlines[1:, 1:])  # modulo 256, as PNG wants

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, {3: 2, 4: 6}[channels], 0, 0, 0)
    data = zlib.compress(scanlines.data, PNG_COMPRESS_LEVEL)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
            + chunk(b"IEND", b""))


def _without_alpha(rgba: Any) -> Any:
    """Return the RGB part of an RGBA array whose rows are contiguous, as a new array.

    Each pixel's first three bytes are copied as one 3-byte item, about three times faster
    than numpy copies three single bytes out of every four.
    """
    import numpy as np

    height, width, _ = rgba.shape
    pixel = np.dtype({"names": ["rgb"], "formats": ["V3"], "offsets": [0], "itemsize": 4})
    rgb = np.ascontiguousarray(rgba.reshape(height, width * 4).view(pixel)["rgb"])
    return rgb.view(np.uint8).reshape(height, width, 3)


def _sticks_out(box: object, width: float, height: float) -> bool:
    tol = _OVERFLOW_TOLERANCE
    x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1  # type: ignore[attr-defined]
    return bool(x0 < -tol or y0 < -tol or x1 > width + tol or y1 > height + tol)


def save_table(df: pd.DataFrame, name: str, *, out_dir: str | os.PathLike[str]) -> Path:
    """Save ``df`` as a formatted workbook ``OUT_DIR/tables/NAME.xlsx`` and return the path."""
    from ntm_analysis import excel

    path = Path(out_dir) / TABLES / f"{name}.xlsx"
    with atomic_path(path) as tmp:
        excel.write_table(df, tmp, sheet_name=name[:31])
    return path
