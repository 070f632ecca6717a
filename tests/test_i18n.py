"""Tests of the vi/en text mapping."""

from __future__ import annotations

import string
import unicodedata

import pytest

from ntm_analysis import i18n
from ntm_analysis.errors import ParameterError


def test_every_key_has_both_languages_with_the_same_placeholders() -> None:
    fmt = string.Formatter()
    for key in i18n.known_keys():
        vi, en = i18n.t(key, "vi"), i18n.t(key, "en")
        assert vi and en, key
        fields_vi = {f for _, f, _, _ in fmt.parse(vi) if f}
        fields_en = {f for _, f, _, _ in fmt.parse(en) if f}
        assert fields_vi == fields_en, key


def test_vietnamese_text_is_nfc() -> None:
    for key in i18n.known_keys():
        text = i18n.t(key, "vi")
        assert unicodedata.normalize("NFC", text) == text, key


def test_formatting_and_languages() -> None:
    assert i18n.t("title.unit_attainment_one", "vi", unit="Kim Phượng", criteria_met=3,
                  criteria_total=6, indicators_met=25, indicators_total=35) == \
        "Kim Phượng đạt 3/6 tiêu chí, 25/35 chỉ tiêu"
    assert i18n.t("status.met", "en") == "Met"
    assert i18n.status_label("not_met", "vi") == "Chưa đạt"
    assert i18n.status_label(None, "en") == "Unknown"


def test_unknown_language_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="lang must be one of vi, en; got 'fr'"):
        i18n.t("status.met", "fr")


def test_unknown_key_names_the_key() -> None:
    with pytest.raises(KeyError, match="no.such"):
        i18n.t("no.such")


def test_register_adds_keys_and_protects_existing_ones() -> None:
    i18n.register({"test.funding_gap": {"vi": "Thiếu {x} triệu", "en": "{x} million short"}})
    assert i18n.t("test.funding_gap", "en", x=5) == "5 million short"
    with pytest.raises(ValueError, match="already exists"):
        i18n.register({"status.met": {"vi": "Ok", "en": "Ok"}})
    with pytest.raises(ValueError, match="no 'vi' text"):
        i18n.register({"test.only_en": {"en": "x"}})
    # an English-less key falls back to Vietnamese
    i18n.register({"test.only_vi": {"vi": "Chỉ tiếng Việt"}})
    assert i18n.t("test.only_vi", "en") == "Chỉ tiếng Việt"


def test_every_issue_code_the_package_emits_has_a_vietnamese_description() -> None:
    """A new issue code without a description would show English in a Vietnamese report."""
    import re
    from pathlib import Path

    from ntm_analysis.i18n import issue_label

    src = "\n".join(p.read_text(encoding="utf-8")
                    for p in (Path(__file__).parents[1] / "ntm_analysis").glob("*.py"))
    codes = set(re.findall(r'Severity\.\w+,\s*(?:f?"[^"]*"\s*)?"([a-z_]+)"\)', src))
    codes |= set(re.findall(r'Severity\.\w+,\s*\n\s*"([a-z_]+)"\)', src))
    codes |= set(re.findall(r'Iss\.code: "([a-z_]+)"', src))
    # a file the reader refuses: sniff._fail(label, problem, code), its default in the signature
    sniff = (Path(__file__).parents[1] / "ntm_analysis" / "sniff.py").read_text(encoding="utf-8")
    codes |= set(re.findall(r'"([a-z]+_[a-z_]+)"\)', sniff))
    codes |= set(re.findall(r'code: str = "([a-z_]+)"', sniff))
    assert len(codes) > 20
    missing = sorted(c for c in codes if issue_label(c, "vi") is None)
    assert not missing, f"describe these codes in data/issue_codes.csv: {missing}"
