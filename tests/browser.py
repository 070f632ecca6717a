"""Real-browser checks of report HTML with Debian's headless Chromium (no driver needed).

Tests that use these helpers call :func:`require_chromium` first, which skips them with a
clear reason when Chromium is not installed (CI installs it through ``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

#: Where Debian's ``chromium`` package puts the browser; ``$CHROMIUM`` overrides it.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]


def chromium_path() -> str | None:
    """Return the Chromium executable, or None when it is not installed."""
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """Return the Chromium executable or skip the calling test with the reason."""
    path = chromium_path()
    if path is None:
        pytest.skip(f"headless Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return path


def _run(args: list[str], *, timeout: float = 60) -> str:
    browser = require_chromium()
    with tempfile.TemporaryDirectory(prefix="ntm-chromium-") as profile:
        proc = subprocess.run(
            [browser, *_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, timeout=timeout, check=False,
        )
    if proc.returncode != 0:
        raise AssertionError(
            f"chromium exited with {proc.returncode}: {proc.stderr.decode(errors='replace')[-800:]}"
        )
    return proc.stdout.decode("utf-8")


def render_dom(html_path: str | os.PathLike[str]) -> str:
    """Open ``html_path`` in headless Chromium and return the DOM after scripts would have run."""
    url = Path(html_path).resolve().as_uri()
    return _run(["--virtual-time-budget=2000", "--dump-dom", url])


def screenshot(html_path: str | os.PathLike[str], png_path: str | os.PathLike[str], *,
               width: int = 1200, height: int = 1600) -> Path:
    """Save a PNG screenshot of ``html_path`` rendered by headless Chromium."""
    target = Path(png_path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    url = Path(html_path).resolve().as_uri()
    _run([f"--window-size={width},{height}", f"--screenshot={target}", url])
    if not target.is_file():
        raise AssertionError(f"chromium wrote no screenshot at {target}")
    return target
