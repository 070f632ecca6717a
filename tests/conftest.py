"""Shared fixtures: the project root, the bundled sample workbooks, and a check that the suite
leaves nothing in the temporary directory."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def sample_paths() -> list[Path]:
    paths = sorted((ROOT / "data" / "raw").glob("kim_phuong_2024_*.xlsx"))
    assert paths, "sample workbooks missing from data/raw"
    return paths


@pytest.fixture(scope="session", autouse=True)
def _template_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the suite's compiled report templates (``ntm_analysis.export``) in a folder of its
    own, for this process and every one it starts, not in the user's cache folder."""
    from ntm_analysis.export import TEMPLATE_CACHE_ENV

    saved = os.environ.get(TEMPLATE_CACHE_ENV)
    os.environ[TEMPLATE_CACHE_ENV] = str(tmp_path_factory.mktemp("template-cache"))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(TEMPLATE_CACHE_ENV, None)
        else:
            os.environ[TEMPLATE_CACHE_ENV] = saved


@pytest.fixture(scope="session", autouse=True)
def _nothing_left_in_temp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Give the suite, and every process it starts, a temporary directory of its own
    (``TMPDIR``) and fail if anything is left in it at the end: kernels, fork servers,
    workers and libraries must clean up after themselves, as they do on a user's machine.

    pytest's own ``tmp_path`` folders stay where they were (its base folder is fixed first),
    and so does this process's ``multiprocessing`` folder, which ``multiprocessing`` removes
    when the process exits, after this check. This process's kernel pool is closed first, as
    its exit would close it. The folder's path is short: sockets are made
    in it.
    """
    from multiprocessing import util

    tmp_path_factory.getbasetemp()
    util.get_temp_dir()
    temp = tempfile.mkdtemp(prefix="ntm-tests-")
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = temp
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    try:
        yield
    finally:
        # what this process's exit does: its kernel pool (a test may have run a notebook
        # here with a forked kernel) stops its fork server, which removes its folder
        pool = getattr(sys.modules.get("ntm_analysis.kernels"), "_POOL", None)
        if pool is not None:
            pool.close()
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved
        tempfile.tempdir = None
        left = sorted(p.name for p in Path(temp).iterdir())
        shutil.rmtree(temp, ignore_errors=True)
    assert not left, f"the test suite left these in the temporary directory: {left}"
