"""Notebook parameters, checked right after papermill injects them, with messages to act on.

``validate_parameters`` is the first library call of every notebook of the suite. It returns the
parameters normalised (NFC text, paths resolved against the project root, "yes"/"no" turned into
booleans) or raises ``ParameterError`` naming the parameter, the value and what was expected.
``require_unit`` checks a unit name (a hamlet) against the loaded data, listing the valid names.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ntm_analysis.errors import ParameterError
from ntm_analysis.i18n import LANGS, did_you_mean, t
from ntm_analysis.paths import check_outside, resolve
from ntm_analysis.schema import Ind
from ntm_analysis.text import fold, nfc

logger = logging.getLogger(__name__)

#: Years a report can be asked for (the programme started in 2010).
YEAR_RANGE = (2010, 2100)
#: Accepted words for yes / no / unknown parameters.
_YES_NO: dict[str, bool | None] = {
    "yes": True, "co": True, "true": True, "1": True,
    "no": False, "khong": False, "false": False, "0": False,
    "unknown": None, "": None, "chua ro": None,
}
#: ``advanced_ntm_recognised`` value that looks the commune up in ``data/recognitions.csv``.
AUTO = "auto"

_TEXT = {"commune", "hamlet", "advanced_ntm_decision"}
_DIRS = {"raw_dir", "processed_dir", "out_dir"}
KNOWN_PARAMETERS = (
    "year", "commune", "hamlet", "raw_dir", "processed_dir", "paths", "lang", "out_dir",
    "income_per_capita", "advanced_ntm_recognised", "advanced_ntm_decision", "top",
)


def _year(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ParameterError(f"year must be a whole number; got {value!r}")
    try:
        year = int(str(value).strip()) if not isinstance(value, float) else int(value)
    except ValueError:
        raise ParameterError(f"year must be a whole number; got {value!r}") from None
    if isinstance(value, float) and not value.is_integer():
        raise ParameterError(f"year must be a whole number; got {value!r}")
    lo, hi = YEAR_RANGE
    if not lo <= year <= hi:
        raise ParameterError(f"year must be between {lo} and {hi}; got {year}")
    return year


def _yes_no(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    key = fold(str(value))
    if key not in _YES_NO:
        raise ParameterError(f"{name} must be yes, no, unknown or auto; got {value!r}")
    return _YES_NO[key]


def _paths(value: Any) -> list[Path]:
    if value is None or value == "":
        return []
    items = [value] if isinstance(value, str | Path) else value
    if not isinstance(items, Sequence):
        raise ParameterError(f"paths must be a list of workbook paths; got {value!r}")
    out = []
    for item in items:
        path = resolve(str(item))
        if not path.is_file():
            raise ParameterError(f"paths: workbook {item!r} does not exist (looked at {path})")
        out.append(path)
    return out


def validate_parameters(**params: Any) -> dict[str, Any]:
    """Check notebook parameters and return them normalised.

    Raises ``ParameterError`` for an unknown parameter name, a year outside 2010–2100, a
    language other than vi/en, a missing ``raw_dir`` (unless ``paths`` are given), a missing
    workbook in ``paths``, a negative income, an empty commune/hamlet name, or an ``out_dir``
    or ``processed_dir`` inside ``raw_dir`` (raw data is never written).

    Examples
    --------
    >>> p = validate_parameters(year="2024", lang="en", income_per_capita=0)
    >>> p["year"], p["lang"], p["income_per_capita"]
    (2024, 'en', None)
    >>> validate_parameters(lang="fr")
    Traceback (most recent call last):
    ...
    ntm_analysis.errors.ParameterError: lang must be one of vi, en; got 'fr'
    """
    unknown = sorted(set(params) - set(KNOWN_PARAMETERS))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(KNOWN_PARAMETERS)}")
    out: dict[str, Any] = dict(params)
    if "year" in params:
        out["year"] = _year(params["year"])
    if "lang" in params and params["lang"] not in LANGS:
        raise ParameterError(f"lang must be one of {', '.join(LANGS)}; got {params['lang']!r}")
    for name in _TEXT & set(params):
        value = params[name]
        if not isinstance(value, str):
            raise ParameterError(f"{name} must be text; got {value!r}")
        out[name] = nfc(value)
        if name == "hamlet" and not out[name]:
            raise ParameterError(f"{name} must not be empty")
    if "paths" in params:
        out["paths"] = _paths(params["paths"])
    for name in _DIRS & set(params):
        value = params[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            out[name] = None
        elif not isinstance(value, str | Path):
            raise ParameterError(f"{name} must be a folder path; got {value!r}")
        else:
            out[name] = resolve(str(value))
    raw = out.get("raw_dir")
    if "raw_dir" in params and not out.get("paths") and (raw is None or not Path(raw).is_dir()):
        raise ParameterError(
            f"raw_dir {params['raw_dir']!r} is not a folder (looked at {raw}); "
            "give the folder of the workbooks, or their paths in 'paths'")
    for name in ("out_dir", "processed_dir"):
        if out.get(name) and raw is not None:
            check_outside(out[name], [raw], what=name)
    if "income_per_capita" in params:
        income = params["income_per_capita"]
        if income is None or income == "" or income == 0:
            out["income_per_capita"] = None
        else:
            try:
                value = float(income)
            except (TypeError, ValueError):
                raise ParameterError(
                    f"income_per_capita must be a number of million VND/person/year; "
                    f"got {income!r}") from None
            if value < 0 or value != value:
                raise ParameterError(f"income_per_capita must be positive; got {income!r}")
            out["income_per_capita"] = value
    if "advanced_ntm_recognised" in params and params["advanced_ntm_recognised"] != AUTO:
        out["advanced_ntm_recognised"] = _yes_no("advanced_ntm_recognised",
                                                 params["advanced_ntm_recognised"])
    if "top" in params:
        top = params["top"]
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise ParameterError(f"top must be a whole number ≥ 0 (0 = all); got {top!r}")
    logger.debug("parameters: %s", out)
    return out


def require_unit(frame: pd.DataFrame, unit: str, *, year: int | None = None,
                 level: str | None = "hamlet", lang: str = "en") -> str:
    """Return the unit's name as the data spells it, or raise ``ParameterError`` listing names.

    The name is matched without accents or case ("xom ao sen" finds "Xóm Ao Sen"); a hamlet name
    given without its "Xóm" prefix matches too.

    Examples
    --------
    >>> att = pd.DataFrame({"unit": ["Xóm Ao Sen", "Kim Phượng"], "level": ["hamlet", "commune"],
    ...                     "year": [2024, 2024]})
    >>> require_unit(att, "ao sen", year=2024)
    'Xóm Ao Sen'
    >>> require_unit(att, "Xóm Na Mọn", year=2024)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ntm_analysis.errors.ParameterError: Hamlet 'Xóm Na Mọn' ...; known hamlets: Xóm Ao Sen
    """
    rows = frame
    if year is not None:
        rows = rows[rows[Ind.year].astype("Int64").eq(year).fillna(False).astype(bool)]
    if level is not None:
        rows = rows[rows[Ind.level].eq(level).fillna(False).astype(bool)]
    names = sorted(set(rows[Ind.unit].dropna().astype(str)))
    key = fold(unit)
    for name in names:
        folded = fold(name)
        if key == folded or folded.split(" ", 1)[-1] == key:
            return name
    raise ParameterError(t("param.hamlet_unknown", lang, hamlet=nfc(unit), year=year,
                           hint=did_you_mean(unit, names, lang), known=", ".join(names) or "—"))
