"""Tests of ntm_analysis.export: escaped tables, code-free offline HTML, checked in Chromium."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from browser import render_dom, require_chromium, screenshot
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from notebook_fixtures import (
    CHART_TABLE,
    HAMLET_ROWS,
    SCRIPT_TEXT,
    make_project,
    write_hamlets,
)

from ntm_analysis.errors import ParameterError
from ntm_analysis.export import display_table, export_html, format_number, render_html
from ntm_analysis.run import run_notebook
from ntm_analysis.style import STATUS_FILLS

# A 1x1 PNG.
PNG_B64 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU"
           "5ErkJggg==")
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|@import|url\(\s*["']?https?:""",
                    re.IGNORECASE)


def test_format_number_by_language() -> None:
    assert format_number(1250.5, lang="vi") == "1.250,5"
    assert format_number(1250.5, lang="en") == "1,250.5"
    assert format_number(2_000_000, lang="vi") == "2.000.000"
    assert format_number(0.125, lang="vi", digits=2) == "0,12"
    assert format_number(float("nan")) == ""
    assert format_number(pd.NA) == ""
    assert format_number("Xóm 1") == "Xóm 1"


def test_display_table_escapes_translates_and_colours() -> None:
    table = pd.DataFrame({
        "<th>name</th>": [row[0] for row in HAMLET_ROWS],
        "value": [row[1] for row in HAMLET_ROWS],
        "status": [row[2] for row in HAMLET_ROWS],
    })
    before = table.copy()
    html = display_table(table, lang="vi").to_html()
    assert "<script>" not in html and "<img" not in html and "<th>name</th>" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=" in html
    assert "&lt;th&gt;name&lt;/th&gt;" in html
    assert "1.250,5" in html and "Xóm Đồng Nhân" in html
    assert html.count(">Chưa đạt<") == 2 and html.count(">Đạt<") == 1
    for colour in STATUS_FILLS.values():
        assert f"background-color: {colour}" in html
    pd.testing.assert_frame_equal(table, before)  # input not mutated

    english = display_table(table, lang="en").to_html()
    assert ">Not met<" in english and "1,250.5" in english
    with pytest.raises(ParameterError, match="lang"):
        display_table(table, lang="fr")


def _notebook() -> object:
    nb = new_notebook()
    nb.metadata["title"] = "Báo cáo Kim Phượng"
    table_html = display_table(pd.DataFrame({"tên": [SCRIPT_TEXT], "status": ["met"]})).to_html()
    nb.cells = [
        new_markdown_cell("# Mức độ sẵn sàng của xã Kim Phượng"),
        new_code_cell("secret_code_marker = 1\nprint('Xin chào')", execution_count=1, outputs=[
            new_output("stream", name="stdout", text="Xin chào Kim Phượng\n"),
            new_output("stream", name="stderr", text="DeprecationWarning: noise\n"),
        ]),
        new_code_cell("table", execution_count=2, outputs=[
            new_output("execute_result", data={"text/html": table_html, "text/plain": "t"},
                       execution_count=2),
        ]),
        new_code_cell("chart", execution_count=3, outputs=[
            new_output("display_data", data={"image/png": PNG_B64, "text/plain": "<Figure>"}),
        ]),
    ]
    hidden = new_code_cell("hidden_cell_marker = 1", execution_count=4, outputs=[
        new_output("stream", name="stdout", text="hidden output\n")])
    hidden.metadata["tags"] = ["remove_cell"]
    nb.cells.append(hidden)
    return nb


def test_the_page_title_is_the_reports_first_heading() -> None:
    nb = _notebook()
    del nb.metadata["title"]
    # the heading a cell displays (the report's own, with the unit) before a Markdown cell's
    nb.cells[2].outputs.insert(0, new_output("display_data", data={
        "text/markdown": "Dẫn nhập\n\n# **Kim Phượng**: sẵn sàng năm 2024?\n## Chi tiết"}))
    assert "<title>Kim Phượng: sẵn sàng năm 2024?</title>" in render_html(nb)
    nb.cells[2].outputs.pop(0)
    assert "<title>Mức độ sẵn sàng của xã Kim Phượng</title>" in render_html(nb)
    nb.cells = nb.cells[1:]
    assert "<title>báo cáo</title>" in render_html(nb, default_title="báo cáo")
    assert "<title>Tên riêng</title>" in render_html(nb, title="Tên riêng")


def test_render_html_has_no_code_prompts_or_remote_resources() -> None:
    html = render_html(_notebook(), lang="vi")
    assert re.search(r'<html[^>]*\blang="vi"', html)
    assert re.search(r'<meta charset="utf-8"', html, re.IGNORECASE)
    assert "<title>Báo cáo Kim Phượng</title>" in html
    assert "secret_code_marker" not in html and "hidden_cell_marker" not in html
    assert "hidden output" not in html and "DeprecationWarning" not in html
    code_or_prompt = r'class="[^"]*(?:jp-InputPrompt|jp-OutputPrompt|jp-CodeMirrorEditor|highlight)'
    assert not re.search(code_or_prompt, html)
    assert "In&nbsp;[" not in html and not re.search(r">\s*Out\[", html)
    assert "<script" not in html.lower()
    assert not REMOTE.search(html), REMOTE.search(html)
    images = re.findall(r"<img[^>]*>", html)
    assert len(images) == 1
    assert f'src="data:image/png;base64,{PNG_B64}"' in images[0] and 'alt="Biểu đồ"' in images[0]
    assert "Xin chào Kim Phượng" in html
    assert "&lt;script&gt;" in html
    assert "@media print" in html and "size: A4" in html
    assert html == unicodedata.normalize("NFC", html)


def test_export_html_writes_utf8_file_and_english_lang(tmp_path: Path) -> None:
    path = export_html(_notebook(), tmp_path / "r" / "report.html", title="Readiness", lang="en")
    html = path.read_text(encoding="utf-8")
    assert re.search(r'<html[^>]*\blang="en"', html)
    assert "<title>Readiness</title>" in html
    assert "Mức độ sẵn sàng của xã Kim Phượng" in html
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML of a real papermill run of the chart/table fixture notebook."""
    root = make_project(tmp_path_factory.mktemp("export") / "proj")
    workbook = write_hamlets(root / "data" / "raw" / "hamlets.xlsx")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NTM_PROJECT_ROOT", str(root))
        result = run_notebook(CHART_TABLE, parameters={"paths": [str(workbook)]},
                              out_dir=root / "outputs" / "fixture")
    assert result.html_path is not None
    return result.html_path


@pytest.mark.slow
def test_exported_run_html_is_self_contained(report_html: Path) -> None:
    html = report_html.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert not REMOTE.search(html)
    assert "read_excel" not in html and "record_facts" not in html  # no code
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) == 1
    assert "Báo cáo thử: xã Kim Phượng" in html
    assert html == unicodedata.normalize("NFC", html)


@pytest.mark.slow
def test_chromium_runs_inline_scripts_in_a_control_page(tmp_path: Path) -> None:
    """Control: the browser check below can fail, because Chromium does run inline scripts."""
    require_chromium()
    page = tmp_path / "control.html"
    page.write_text("<html><body><script>document.documentElement.setAttribute("
                    "'data-pwned','1')</script></body></html>", encoding="utf-8")
    assert re.search(r"<html[^>]*data-pwned=\"1\"", render_dom(page))


@pytest.mark.slow
def test_report_in_chromium_shows_markup_as_text_and_runs_nothing(report_html: Path,
                                                                  tmp_path: Path) -> None:
    require_chromium()
    dom = render_dom(report_html)
    assert not re.search(r"<html[^>]*data-pwned", dom)  # the injected script did not run
    assert "<title>PWNED" not in dom  # the injected onerror handler did not run
    assert "&lt;script&gt;document.documentElement" in dom  # shown as text
    assert "&lt;img src=x onerror=" in dom
    assert "Xóm Ao Sen" in dom and "Xóm Đồng Nhân" in dom and "1.250,5" in dom
    assert "Kim Phượng: tỷ lệ đạt theo xóm" not in dom or "<img" in dom
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', dom)) == 1
    assert "read_excel" not in dom
    shot = screenshot(report_html, tmp_path / "report.png", width=900, height=900)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 5000  # a rendered page, not an empty canvas


def test_page_is_written_as_nbconvert_wrote_it_without_reparsing_it() -> None:
    """The exporter skips nbconvert's BeautifulSoup pass and does its two edits on the text."""
    html = render_html(_notebook(), lang="vi")
    outputs = re.findall(r'<div class="[^"]*\bjp-OutputArea-output\b[^"]*"[^>]*>', html)
    assert outputs and all('tabindex="0"' in div for div in outputs)  # focusable, as before
    assert "Mức độ sẵn sàng của xã Kim Phượng" in html  # no numeric entities for Vietnamese
    assert not re.search(r"&#(?:1[2-9]\d|[2-9]\d\d|\d{4,});", html)
    assert "&lt;script&gt;" in html and "<script" not in html.lower()  # escapes kept
    assert html.count("<img") == len(re.findall(r"<img\b[^>]*\balt=", html))


def test_printed_chunks_of_a_cell_are_one_block_in_order() -> None:
    """A print the kernel sent in two chunks (as on a busy machine) is one block; text printed
    after a table stays after it; a line rewritten with \r shows its last state."""
    cell = new_code_cell("print(...)", outputs=[
        new_output("stream", name="stdout", text="Xã Kim"),
        new_output("stream", name="stdout", text=" Phượng\n"),
        new_output("stream", name="stderr", text="a warning\n"),
        new_output("stream", name="stdout", text="đạt 3/6\n"),
        new_output("display_data", data={"text/markdown": "**bảng tiêu chí**"}),
        new_output("stream", name="stdout", text="tiến độ 50%\rtiến độ 100%\n"),
    ])
    html = render_html(new_notebook(cells=[cell]), lang="vi")
    blocks = re.findall(r"<pre>(.*?)</pre>", html, re.DOTALL)
    assert blocks == ["Xã Kim Phượng\nđạt 3/6\n", "tiến độ 100%\n"], blocks
    assert html.index("Xã Kim Phượng") < html.index("bảng tiêu chí") < html.index("tiến độ 100%")
    assert "a warning" not in html and "tiến độ 50%" not in html


def _entries(folder: Path) -> dict[str, tuple[int, int]]:
    """Each cache entry's name → (inode, modification time): a rewrite changes both."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}


@pytest.fixture
def own_template_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A template cache folder of this test's; exporters are made afresh before and after."""
    from ntm_analysis import export

    folder = tmp_path / "cache"
    monkeypatch.setenv(export.TEMPLATE_CACHE_ENV, str(folder))
    export._exporter.cache_clear()
    yield folder
    export._exporter.cache_clear()


def test_report_templates_are_compiled_once_and_loaded_after(own_template_cache: Path) -> None:
    """The first exporter compiles the templates into the cache; a new one (as in the next
    process) loads them (the entries are not written again) and writes the same page. A
    damaged entry is compiled and written again, and the page is the same."""
    from ntm_analysis import export

    nb = _notebook()
    first = render_html(nb, lang="vi")
    written = _entries(own_template_cache)
    assert len(written) >= 2  # the report template and the lab templates it extends
    assert own_template_cache.stat().st_mode & 0o777 == 0o700  # private
    export._exporter.cache_clear()
    assert render_html(nb, lang="vi") == first
    assert _entries(own_template_cache) == written  # loaded, not compiled again
    damaged = sorted(own_template_cache.iterdir())[0]
    good = damaged.read_bytes()
    from jinja2.bccache import bc_magic

    damaged.write_bytes(bc_magic + b"\x00not a pickle")  # Jinja's header, then garbage
    export._exporter.cache_clear()
    assert render_html(nb, lang="vi") == first
    assert damaged.read_bytes() == good  # compiled and written again


def test_template_cache_that_others_may_write_to_is_not_used(
        own_template_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled templates are code: a cache folder others may write to is never read or
    written; the export works without it, as it does with the cache turned off."""
    import os

    from ntm_analysis import export

    own_template_cache.mkdir()
    os.chmod(own_template_cache, 0o777)
    assert export.template_cache_dir() is None
    nb = _notebook()
    page = render_html(nb, lang="en")
    assert list(own_template_cache.iterdir()) == []
    monkeypatch.setenv(export.TEMPLATE_CACHE_ENV, "")
    export._exporter.cache_clear()
    assert export.template_cache_dir() is None
    assert render_html(nb, lang="en") == page


def test_template_cache_folder_follows_xdg_cache_home(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``$NTM_TEMPLATE_CACHE`` the cache is in the user's cache folder:
    ``$XDG_CACHE_HOME`` when absolute, else ``~/.cache`` (a relative one is ignored)."""
    from ntm_analysis import export

    monkeypatch.delenv(export.TEMPLATE_CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert export.template_cache_dir() == tmp_path / "xdg" / "ntm-analysis" / "jinja2"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    assert export.template_cache_dir() == tmp_path / "home" / ".cache" / "ntm-analysis" / "jinja2"
    assert not (tmp_path / "relative").exists()
