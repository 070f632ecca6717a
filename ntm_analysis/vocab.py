"""The suite's machine words for statuses, bases, levels and severities (no dependencies).

:mod:`ntm_analysis.schema` re-exports them beside the tables' columns; they live here so that
modules that need only the words (the report export, the house style) do not import pandas,
which a batch's workers never need (see :mod:`ntm_analysis.batch_worker`).
"""

from __future__ import annotations


class Status:
    """Indicator and assessment statuses (stable machine words; reports translate them)."""

    met = "met"
    not_met = "not_met"
    unknown = "unknown"


class Basis:
    """Why an indicator has its final status."""

    value = "value"  # the value was compared with the parsed target
    self_assessment = "self_assessment"  # the target or value could not be judged
    missing = "missing"  # the indicator is in the catalogue but not in the workbook
    none = "none"  # nothing to judge with


class Level:
    commune = "commune"
    hamlet = "hamlet"


class Severity:
    error = "error"  # the input cannot be used as it is; commands exit non-zero
    warning = "warning"  # the run goes on; the report shows it
    info = "info"  # a row or sheet deliberately not read as data (notes, signatures, budgets)
