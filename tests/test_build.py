"""The package's build id: what caches and run fingerprints are keyed by."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import ntm_analysis
from ntm_analysis import __version__, build_id, files_digest

PACKAGE = Path(ntm_analysis.__file__).parent


def test_the_build_id_is_the_version_and_a_digest_of_the_packages_files() -> None:
    assert build_id() == f"{__version__}+{files_digest(str(PACKAGE))[:12]}"
    # a batch worker or a notebook's kernel, another interpreter, keys its caches alike
    other = subprocess.run([sys.executable, "-c", "import ntm_analysis as n; print(n.build_id())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert other == build_id()


def test_an_edited_reader_or_header_table_is_another_build(tmp_path: Path) -> None:
    copy = tmp_path / "ntm_analysis"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert files_digest(str(copy)) == files_digest(str(PACKAGE))  # paths are relative
    headers = copy / "data" / "money_headers.csv"
    headers.write_bytes(headers.read_bytes() + "content,Nội dung đầu tư mới\n".encode())
    edited = files_digest(str(copy))
    assert edited != files_digest(str(PACKAGE))
    (copy / "income.py").write_text((copy / "income.py").read_text(encoding="utf-8") + "\n",
                                   encoding="utf-8")
    assert files_digest(str(copy)) not in {edited, files_digest(str(PACKAGE))}
