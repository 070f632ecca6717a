"""Regenerate the bundled sample workbooks in data/raw/ (illustrative indicator values).

Usage: python scripts/make_sample_data.py [OUT_DIR]   (default: data/raw)
"""

from __future__ import annotations

import sys
from pathlib import Path

from ntm_analysis.sample import write_sample_data

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "data/raw")
    for path in write_sample_data(out):
        print(path)
