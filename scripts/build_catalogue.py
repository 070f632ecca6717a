"""Build the package's criteria catalogue from the shared reference tables.

Usage: python scripts/build_catalogue.py REFERENCE_DIR

Reads ``criteria_*.csv``, ``income_thresholds.csv`` and ``reference_figures.csv`` from
REFERENCE_DIR and writes ``ntm_analysis/data/``. Each criteria row keeps its found/inferred
status and source; the period of each set is recorded so that later sets (2026–2030) can sit
beside the current ones.
"""

from __future__ import annotations

import csv
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "ntm_analysis" / "data"

# set_id -> (set_kind, level, period_start, period_end, source file)
SETS = {
    "TN_XA_NTM_KIEUMAU_2022_2025": ("model_commune", "commune", 2021, 2025, "criteria_commune.csv"),
    "TN_XOM_NTM_KIEUMAU_2021_2025": ("model_hamlet", "hamlet", 2021, 2025, "criteria_hamlet.csv"),
    "TN_XOM_THONG_MINH": ("smart_hamlet", "hamlet", 2021, 2025, "criteria_smart_hamlet.csv"),
}

COLUMNS = [
    "set_id", "set_kind", "level", "period_start", "period_end",
    "criterion_no", "criterion_name_vi", "criterion_name_en",
    "indicator_no", "indicator_name_vi", "indicator_name_en",
    "target_text", "comparator", "target_value", "unit", "status", "source",
]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def main(reference: Path) -> None:
    rows = []
    for set_id, (kind, level, start, end, name) in SETS.items():
        with open(reference / name, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                assert r["set_id"] == set_id, (name, r["set_id"])
                rows.append({
                    "set_id": set_id, "set_kind": kind, "level": level,
                    "period_start": start, "period_end": end,
                    **{k: nfc(r[k]) for k in (
                        "criterion_no", "criterion_name_vi", "criterion_name_en",
                        "indicator_no", "indicator_name_vi", "indicator_name_en",
                        "target_text", "comparator", "target_value", "unit", "source")},
                    "status": nfc(r["status_of_row"]),
                })
    (OUT / "criteria").mkdir(parents=True, exist_ok=True)
    with open(OUT / "criteria" / "criteria_2021_2025.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    for name in ("income_thresholds.csv", "reference_figures.csv"):
        text = nfc((reference / name).read_text(encoding="utf-8"))
        (OUT / name).write_text(text + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} indicator rows to {OUT / 'criteria'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
