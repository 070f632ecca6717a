"""HTML export of executed notebooks for the steering committee: no code, no scripts, printable.

The report is one self-contained file: charts are embedded as base64 PNG, nothing is loaded from
the internet (the lab template's require.js, MathJax, Mermaid and widget scripts are dropped by
``templates/ntm_report.html.j2``), and it carries a print style for A4 paper.

Text that comes from workbooks is escaped where it is displayed: notebooks show tables through
:func:`display_table` (a pandas ``Styler`` with ``escape="html"``) or ``DataFrame.to_html``, which
escape by default; the exporter passes outputs through unchanged and never un-escapes them.
"""

from __future__ import annotations

import copy
import functools
import logging
import math
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ntm_analysis.errors import RunError
from ntm_analysis.i18n import LANGS as LANGUAGES
from ntm_analysis.i18n import check_lang, term
from ntm_analysis.outputs import atomic_path
from ntm_analysis.style import STATUS_FILLS
from ntm_analysis.vocab import Status

if TYPE_CHECKING:
    import nbformat
    import pandas as pd
    from pandas.io.formats.style import Styler

logger = logging.getLogger(__name__)

#: Folder holding the report template (package data).
TEMPLATE_DIR = Path(__file__).parent / "templates"
#: File name of the report template inside ``TEMPLATE_DIR``.
TEMPLATE_FILE = "ntm_report.html.j2"
#: Column that :func:`display_table` colours by status.
STATUS_COLUMN = "status"
#: Environment variable naming the folder of the compiled-template cache (see
#: :func:`template_cache_dir`); empty turns the cache off.
TEMPLATE_CACHE_ENV = "NTM_TEMPLATE_CACHE"
#: Cell tags whose whole cell is left out of the HTML.
REMOVE_CELL_TAGS = frozenset({"remove_cell", "remove-cell", "hide"})

#: How statuses read in each report language (the wording lives in :mod:`ntm_analysis.i18n`).
STATUS_LABELS: dict[str, dict[str, str]] = {
    lang: {str(st): term("status", st, lang) for st in (Status.met, Status.not_met, Status.unknown)}
    for lang in LANGUAGES
}


def format_number(value: object, *, lang: str = "vi", digits: int = 2) -> str:
    """Format a number for a report: Vietnamese ``1.250,5`` or English ``1,250.5``.

    At most ``digits`` decimals are shown and trailing zeros are dropped; text is returned as it
    is and missing values as an empty string.

    Examples
    --------
    >>> format_number(1250.5)
    '1.250,5'
    >>> format_number(1250.5, lang="en")
    '1,250.5'
    >>> format_number(25.0)
    '25'
    >>> format_number(None)
    ''
    """
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return ""
        text = f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,d}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if lang == "vi":
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text
    try:
        import pandas as pd

        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalars
        return format_number(value.item(), lang=lang, digits=digits)
    return str(value)


def format_money(value: float, lang: str = "vi") -> str:
    """A sum of money (million VND) as reports write it: whole, ``4.122`` in Vietnamese.

    >>> format_money(4122.0), format_money(4122.0, "en")
    ('4.122', '4,122')
    """
    return format_number(value, lang=lang, digits=0)


def display_table(df: pd.DataFrame, *, lang: str = "vi", digits: int = 2) -> Styler:
    """Return a readable, escaped ``Styler`` for a report table.

    Every cell, column header and index label is HTML-escaped (workbook text may hold ``<`` or
    ``&``), numbers are formatted for ``lang``, values of a ``status`` column are translated and
    filled with the house status colours, and the index is hidden. The frame is not modified.

    Parameters
    ----------
    df : DataFrame
        The table to show.
    lang : {"vi", "en"}
        Language of status labels and number format.
    digits : int
        Maximum number of decimals shown.

    Returns
    -------
    Styler
        Display it as the last expression of a notebook cell.

    Examples
    --------
    >>> import pandas as pd
    >>> html = display_table(pd.DataFrame({"tên": ["<b>Xóm</b>"], "status": ["met"]})).to_html()
    >>> "&lt;b&gt;Xóm&lt;/b&gt;" in html and "Đạt" in html and "<b>" not in html
    True
    """
    import pandas as pd

    check_lang(lang)
    labels = STATUS_LABELS[lang]
    fills = {labels[k]: v for k, v in STATUS_FILLS.items() if k in labels}

    def fmt(value: object) -> str:
        return format_number(value, lang=lang, digits=digits)

    shown = df.copy()
    if STATUS_COLUMN in shown.columns:
        shown[STATUS_COLUMN] = shown[STATUS_COLUMN].map(
            lambda v: labels.get(v, v) if isinstance(v, str) else v
        )
    styler = shown.style.format(fmt, escape="html", na_rep="")
    styler = styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    styler = styler.hide(axis="index")
    styler = styler.set_table_styles([
        {"selector": "", "props": "border-collapse: collapse; font-size: 0.9em;"},
        {"selector": "th", "props": "background: #f0f0f0; text-align: left; padding: 3px 6px;"
                                    " border: 1px solid #cccccc;"},
        {"selector": "td", "props": "padding: 3px 6px; border: 1px solid #cccccc;"
                                    " vertical-align: top; text-align: left;"},
    ])
    numeric: list[Any] = [c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])
               and not pd.api.types.is_bool_dtype(shown[c])]
    if numeric:
        styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
    if STATUS_COLUMN in shown.columns:
        styler = styler.map(
            lambda v: f"background-color: {fills[v]};" if v in fills else "",
            subset=[STATUS_COLUMN],
        )
    return styler


def _read_notebook(nb_path_or_node: str | os.PathLike[str] | nbformat.NotebookNode) -> Any:
    import nbformat

    if isinstance(nb_path_or_node, str | os.PathLike):
        path = Path(nb_path_or_node)
        try:
            return nbformat.read(path, as_version=4)
        except (OSError, ValueError) as exc:
            raise RunError(f"{path}: cannot read the executed notebook: {exc}") from exc
    return copy.deepcopy(nb_path_or_node)


def _strip_for_report(nb: Any) -> Any:
    """Drop what a reader should not see: stderr streams, error tracebacks, removed cells."""
    kept = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_CELL_TAGS or "injected-parameters" in tags:
            continue
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                out for out in cell.get("outputs", [])
                if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
            ]
        kept.append(cell)
    nb.cells = kept
    return nb


#: Output areas made focusable (keyboard scrolling of wide tables), as nbconvert does.
_OUTPUT_DIV = re.compile(r'<div class="([^"]*\bjp-OutputArea-output\b[^"]*)"')
#: Numeric character references of non-ASCII characters (never markup, so safe to write out).
_NON_ASCII_ENTITY = re.compile(r"&#(1[2-9][0-9]|[2-9][0-9]{2}|[0-9]{4,6});")
#: Images that came without alternative text.
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)")


def template_cache_dir() -> Path | None:
    """Return the folder where the report templates are kept compiled, or None (no cache).

    ``$NTM_TEMPLATE_CACHE`` when set (empty: no cache), else ``ntm-analysis/jinja2`` in the
    user's cache folder (``$XDG_CACHE_HOME`` when it is an absolute path, else ``~/.cache``).
    The folder is made private (mode 0700); one that is not this user's own, or that others
    may write to, is not used: compiled templates are code that the exporter loads.

    Examples
    --------
    >>> import os, tempfile
    >>> saved = os.environ.get("NTM_TEMPLATE_CACHE")
    >>> os.environ["NTM_TEMPLATE_CACHE"] = folder = tempfile.mkdtemp()
    >>> template_cache_dir() == Path(folder)
    True
    >>> os.environ["NTM_TEMPLATE_CACHE"] = ""
    >>> template_cache_dir() is None
    True
    >>> os.rmdir(folder)
    >>> if saved is None: del os.environ["NTM_TEMPLATE_CACHE"]
    ... else: os.environ["NTM_TEMPLATE_CACHE"] = saved
    """
    import stat

    chosen = os.environ.get(TEMPLATE_CACHE_ENV)
    if chosen is not None:
        if not chosen:
            return None
        folder = Path(chosen).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME", "")
        if not os.path.isabs(base):  # unset, empty or relative: ignored, as the spec says
            base = os.path.join(os.path.expanduser("~"), ".cache")
        folder = Path(base) / "ntm-analysis" / "jinja2"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError as exc:
        logger.debug("no template cache in %s: %s", folder, exc)
        return None
    owner = getattr(os, "getuid", lambda: info.st_uid)()
    if info.st_uid != owner or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        logger.debug("no template cache in %s: not private to this user", folder)
        return None
    return folder


def _bytecode_cache() -> Any:
    """Jinja's file cache of compiled templates in :func:`template_cache_dir` (None: no cache).

    Compiling nbconvert's lab template and the report template costs a process about 0.1 s
    of CPU for each language, paid by every ``ntm run`` or ``ntm report`` that exports and by
    every batch's worker fork server (while the kernel template starts); with the cache, it
    is paid once per machine and template version. Jinja recompiles a template whose source
    changed (the cache is keyed by its name and path and checks its source's checksum) and
    ignores entries of another Python version; entries are written under a temporary name and
    renamed. A cache entry that cannot be read (damaged, no permission) or written only costs
    the compile.
    """
    from jinja2 import FileSystemBytecodeCache

    folder = template_cache_dir()
    if folder is None:
        return None

    class QuietCache(FileSystemBytecodeCache):
        def load_bytecode(self, bucket: Any) -> None:
            try:
                super().load_bytecode(bucket)
            except Exception as exc:  # noqa: BLE001 - damaged or unreadable: compile again
                logger.debug("template cache entry unusable: %s", exc)
                bucket.reset()

        def dump_bytecode(self, bucket: Any) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError as exc:  # a full disk, a folder gone: the next process compiles
                logger.debug("template cache not written: %s", exc)

    return QuietCache(str(folder))


@functools.lru_cache(maxsize=1)
def _exporter_class() -> type:
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter

    class ReportExporter(HTMLExporter):
        """nbconvert's HTML exporter without its BeautifulSoup pass over the finished page,
        its templates kept compiled between processes (:func:`_bytecode_cache`).

        ``HTMLExporter.from_notebook_node`` parses the whole page again (about 0.1 s for a
        report with seven embedded charts) only to add ``alt`` to images that lack it and
        ``tabindex`` to output areas; both are done here on the text. The page otherwise
        keeps the template's own markup (attribute order, spacing); non-ASCII characters that
        the Markdown filter wrote as numeric references are written out, as the pass did.
        """

        def _create_environment(self) -> Any:
            environment = super()._create_environment()
            environment.bytecode_cache = _bytecode_cache()
            return environment

        def from_notebook_node(  # type: ignore[override]
                self, nb: Any, resources: Any = None, **kw: Any) -> tuple[str, Any]:
            from nbconvert.filters.highlight import Highlight2HTML
            from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            page = _IMG_WITHOUT_ALT.sub(
                '<img alt="No description has been provided for this image"', page)
            page = _OUTPUT_DIV.sub(r'<div class="\1" tabindex="0"', page)
            # characters the Markdown filter wrote as numeric entities, as the pass wrote them
            page = _NON_ASCII_ENTITY.sub(lambda m: chr(int(m.group(1))), page)
            return page, resources

    return ReportExporter


@functools.lru_cache(maxsize=4)
def _exporter(lang: str) -> Any:
    """One HTML exporter per language and process: its templates compile once, not per report
    (a batch worker exports many). The notebook is validated once, after all preprocessors
    (``optimistic_validation``), instead of after each of the dozen (mostly disabled) ones.

    Consecutive printed outputs of a cell are shown as one block (nbconvert's
    ``CoalesceStreamsPreprocessor``): a kernel sends what a cell prints in chunks cut by a
    timer, so on a busy machine one ``print`` can arrive as two outputs, which the report would
    otherwise show as two blocks; a line rewritten with ``\r`` (a progress bar) shows its last
    state only. Outputs keep their order (text is joined only where nothing came between).
    """
    from traitlets.config import Config

    return _exporter_class()(
        config=Config({"CoalesceStreamsPreprocessor": {"enabled": True}}),
        optimistic_validation=True,
        template_name="lab",
        extra_template_paths=[str(TEMPLATE_DIR)],
        template_file=TEMPLATE_FILE,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        theme="light",
        language_code=lang,
    )


def first_heading(nb: nbformat.NotebookNode) -> str | None:
    """The report's first top-level heading as plain text, for the page title: the first ``#``
    line a cell displayed as Markdown (the report's own, "Kim Phượng: sẵn sàng công nhận xã NTM
    kiểu mẫu năm 2024?"), else the first of a Markdown cell; None when there is none.

    >>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
    >>> nb = new_notebook(cells=[new_markdown_cell("# Báo cáo · Report"), new_code_cell(
    ...     "x", outputs=[new_output("display_data", data={"text/markdown": "# **Kim Phượng**"})])])
    >>> first_heading(nb)
    'Kim Phượng'
    """
    def heading(text: object) -> str | None:
        source = "".join(text) if isinstance(text, list) else str(text or "")
        for line in source.splitlines():
            if line.startswith("# "):
                plain = re.sub(r"[*_`]+", "", line[2:]).strip()
                if plain:
                    return plain
        return None

    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            found = heading(output.get("data", {}).get("text/markdown"))
            if found:
                return found
    for cell in nb.cells:
        found = heading(cell.source) if cell.cell_type == "markdown" else None
        if found:
            return found
    return None


def render_html(nb_path_or_node: str | os.PathLike[str] | nbformat.NotebookNode, *,
                title: str | None = None, lang: str = "vi",
                default_title: str = "ntm-analysis") -> str:
    """Return the report HTML of an executed notebook as text (see :func:`export_html`)."""
    check_lang(lang)
    nb = _strip_for_report(_read_notebook(nb_path_or_node))
    exporter = _exporter(lang)
    name = title or nb.metadata.get("title") or first_heading(nb) or default_title
    nb.metadata["title"] = name
    resources = {"metadata": {"name": name}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return unicodedata.normalize("NFC", body)


def warm_up(langs: Sequence[str] = LANGUAGES) -> None:
    """Compile what a process's first report export would: the report templates of each of
    ``langs`` and nbformat's notebook validators (strict and relaxed, as papermill and
    nbclient use them).

    A batch worker exports one report per run; its first export otherwise spends about 0.15 s
    of CPU compiling Jinja templates and JSON schemas (measured in a worker). The batch's worker
    fork server calls this once (:mod:`ntm_analysis.worker_warm`), while the kernel template
    starts on the other core, and every worker forked from it inherits the result.
    """
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("ntm-analysis")])
    nbformat.validate(nb)
    nbformat.validate(nb, relax_add_props=True)
    for lang in langs:
        render_html(nb, lang=lang)


def export_html(nb_path_or_node: str | os.PathLike[str] | nbformat.NotebookNode,
                html_path: str | os.PathLike[str], *, title: str | None = None,
                lang: str = "vi", default_title: str = "ntm-analysis") -> Path:
    """Write an executed notebook as a self-contained report HTML file and return its path.

    No code and no prompts are shown; charts are embedded; no script is loaded from anywhere;
    ``<html lang=...>`` is ``lang``; stderr output and cells tagged ``remove_cell`` are left out.
    The file is written atomically in UTF-8.

    Parameters
    ----------
    nb_path_or_node : path or NotebookNode
        The executed notebook.
    html_path : path
        Where to write the HTML.
    title : str, optional
        The page title (default: the notebook's ``title`` metadata, else the report's first
        heading, :func:`first_heading`, else ``default_title``).
    lang : {"vi", "en"}
        The report language.
    """
    html = render_html(nb_path_or_node, title=title, lang=lang, default_title=default_title)
    target = Path(html_path)
    with atomic_path(target) as tmp:
        tmp.write_text(html, encoding="utf-8")
    logger.info("wrote %s", target)
    return target
