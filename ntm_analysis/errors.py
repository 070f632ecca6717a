"""One exception hierarchy for the suite; only the CLI turns these into exit codes.

Every error that concerns an input names where it happened (file, sheet, row, column) so that a
person can open the workbook and fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


#: Exit code of a command stopped by Ctrl-C: 128 + SIGINT, as a shell reports a program that
#: SIGINT ended.
EXIT_INTERRUPTED = 130


class NtmError(Exception):
    """Base class of every error the suite raises on purpose."""

    exit_code = 1


@dataclass(frozen=True)
class Location:
    """Where in a workbook something was found; every part is optional."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.sheet is not None:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)


class InputError(NtmError):
    """An input file cannot be read as asked; the message names file, sheet, row or cell."""

    exit_code = 2

    def __init__(self, location: Location, problem: str, *, code: str | None = None) -> None:
        self.location = location
        self.problem = problem
        #: The issue code of the issues table (``data/issue_codes.csv``) when the error names
        #: a kind of file reports can explain in their language; None for the generic one.
        self.code = code
        where = str(location)
        super().__init__(f"{where}: {problem}" if where else problem)


class ValidationError(NtmError):
    """Validation found errors; ``issues`` holds every problem found, not just the first."""

    exit_code = 3

    def __init__(self, issues: pd.DataFrame, message: str | None = None) -> None:
        self.issues = issues
        errors = issues[issues["severity"] == "error"] if len(issues) else issues
        if message is None:
            first = errors.iloc[0] if len(errors) else None
            if first is not None:
                message = format_issue(first)
                if len(errors) > 1:
                    message += f" (and {len(errors) - 1} more error(s))"
            else:
                message = "validation failed"
        super().__init__(message)


class ParameterError(NtmError):
    """A notebook or command parameter has a value that cannot be used."""

    exit_code = 4


class UsageError(NtmError):
    """The library was called in a way that cannot work (e.g. a batch started from a script's
    unguarded top level, see :mod:`ntm_analysis.mainguard`)."""

    exit_code = 8


class RunError(NtmError):
    """A notebook run failed; ``output_path`` keeps the partial notebook."""

    exit_code = 5

    def __init__(self, message: str, *, output_path: str | None = None,
                 cell: int | None = None) -> None:
        self.output_path = output_path
        self.cell = cell
        super().__init__(message)


def format_issue(issue: object) -> str:
    """Render one row of an issues table as ``file, sheet 'S', row R, column 'C': problem``.

    Examples
    --------
    >>> format_issue({"source_file": "a.xlsx", "source_sheet": "Xã", "source_row": 7,
    ...               "column": "Hiện trạng", "value": "n/a", "problem": "expected a number",
    ...               "severity": "error"})
    "a.xlsx, sheet 'Xã', row 7, column 'Hiện trạng': expected a number, got 'n/a'"
    """
    get = issue.get if hasattr(issue, "get") else (lambda k, d=None: getattr(issue, k, d))

    def clean(v: object) -> object:
        try:
            import pandas as pd

            return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v
        except (TypeError, ValueError):
            return v

    row = clean(get("source_row"))
    loc = Location(
        file=clean(get("source_file")),  # type: ignore[arg-type]
        sheet=clean(get("source_sheet")),  # type: ignore[arg-type]
        row=int(row) if row is not None else None,  # type: ignore[call-overload]
        column=clean(get("column")),  # type: ignore[arg-type]
    )
    text = f"{loc}: {get('problem')}" if str(loc) else str(get("problem"))
    value = clean(get("value"))
    if value is not None and value != "":
        shown = str(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        text += f", got '{shown}'"
    return text
