"""Guards that keep hostile workbooks harmless: a hardened XML parser for openpyxl.

openpyxl parses workbook XML with ``defusedxml`` when that package is installed and the
``OPENPYXL_DEFUSEDXML`` environment variable is not set to anything but ``True``; then entity
expansion ("billion laughs") and external entities are refused by the parser itself.
``assert_defused`` makes sure that is the case before the suite reads any workbook; the XML
declaration scan in :mod:`ntm_analysis.sniff` refuses such workbooks even earlier.
"""

from __future__ import annotations

from ntm_analysis.errors import NtmError


class UnsafeEnvironmentError(NtmError):
    """The Python environment lacks a protection the suite relies on."""

    exit_code = 6


def assert_defused() -> None:
    """Raise ``UnsafeEnvironmentError`` unless openpyxl parses XML through defusedxml.

    Examples
    --------
    >>> assert_defused()  # defusedxml is a dependency of ntm-analysis
    """
    try:
        import defusedxml  # noqa: F401
    except ImportError:
        raise UnsafeEnvironmentError(
            "the package 'defusedxml' is not installed, so openpyxl would parse workbooks with an"
            " XML parser open to entity-expansion attacks; install it (pip install defusedxml)"
        ) from None
    import openpyxl

    if not getattr(openpyxl, "DEFUSEDXML", False):
        raise UnsafeEnvironmentError(
            "openpyxl is not using defusedxml (is OPENPYXL_DEFUSEDXML set to something other than"
            " 'True'?); refusing to read workbooks with an unprotected XML parser"
        )
