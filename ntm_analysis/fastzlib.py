"""``zlib``, as zlib-ng where it is installed (a dependency), else the standard library's.

zlib-ng has zlib's interface and output format: inflating and CRC-32 run about 1.8 times as
fast (the workbook file check, ``ntm_analysis.sniff``), compressing charts at level 3 about 3
times as fast, a little smaller (the PNG encoder, ``ntm_analysis.outputs``). The standard
library's module serves where zlib-ng has no wheel. Import ``zlib`` and ``ZLIB_ERROR`` from here.
"""

from __future__ import annotations

from typing import cast

try:
    from zlib_ng import zlib_ng as zlib
except ImportError:
    import zlib  # type: ignore[no-redef, unused-ignore]  # (no-redef when zlib-ng is there)

#: zlib's (or zlib-ng's) error (zlib-ng's stub declares an instance, not a class)
ZLIB_ERROR = cast("type[Exception]", zlib.error)

__all__ = ["ZLIB_ERROR", "zlib"]
