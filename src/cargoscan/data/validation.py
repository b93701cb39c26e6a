"""Validation of a raw archive before it becomes training data: pandera for the tables, the archive's JSON
schemas and readers for every scan, and a quarantine report that names each rejected file and why.

Nothing is dropped silently: a scan or row that cannot be used is written to ``quarantine.csv`` with its file and
reason, and the stage logs how many went there.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from cargoscan.archive import ArchiveError, ArchivePaths, load_sample
from cargoscan.archive.classes import load_classes
from cargoscan.archive.format import SCANS_TABLE, TABLE_COLUMNS
from cargoscan.archive.validate import validation_errors

log = logging.getLogger(__name__)

#: pandera view of Table 1 (the post's scan list); the JSON schema checks each row's fields, pandera the table.
SCANS_TABLE_SCHEMA = pa.DataFrameSchema(
    {
        "п/п": pa.Column(str, pa.Check.str_matches(r"^[1-9][0-9]*$")),
        "номер состава": pa.Column(str, pa.Check.str_length(min_value=1)),
        "платформа": pa.Column(str, pa.Check.str_matches(r"^([0-9]{8})?$")),
        "дата": pa.Column(str, pa.Check.str_matches(r"^[0-3][0-9]\.[01][0-9]\.[0-9]{4}$")),
        "время": pa.Column(str, pa.Check.str_matches(r"^[0-2][0-9]:[0-5][0-9]$")),
        "ID снимка": pa.Column(str, pa.Check.str_matches(r"^[0-9]{5}RF[0-9]{2}[0-9]{15}$"), unique=True),
    },
    strict=True,
    ordered=True,
)

#: pandera view of the per-scan index that prepare builds: one row per usable scan.
SCAN_INDEX_SCHEMA = pa.DataFrameSchema(
    {
        "scan_id": pa.Column(str, unique=True),
        "train_number": pa.Column(str, pa.Check.str_length(min_value=1)),
        "height": pa.Column(int, pa.Check.ge(1)),
        "width": pa.Column(int, pa.Check.ge(1)),
        "pitch_row_mm": pa.Column(float, pa.Check.gt(0)),
        "pitch_col_mm": pa.Column(float, pa.Check.gt(0)),
    },
    strict=False,
)

QUARANTINE_COLUMNS = ["file", "reason"]
#: Mask value of wagon pixels of unknown class in TIP'd real scans (``cargoscan.tip.insertion.UNLABELLED``).
UNLABELLED = 255


@dataclass(frozen=True)
class Rejected:
    """One quarantined file (or table line) and the reason."""

    file: str
    reason: str


def check_scans_table(root: Path) -> tuple[pd.DataFrame, list[Rejected]]:
    """Validate ``scans.csv`` with pandera and the row schema; bad rows go to quarantine, good rows are kept."""
    path = ArchivePaths(root).table(SCANS_TABLE)
    if not path.exists():
        return pd.DataFrame(columns=TABLE_COLUMNS[SCANS_TABLE]), [Rejected(SCANS_TABLE, "table not found")]
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    rejected: list[Rejected] = []
    if list(df.columns) != TABLE_COLUMNS[SCANS_TABLE]:
        return df.iloc[0:0], [Rejected(SCANS_TABLE, f"header {list(df.columns)} != {TABLE_COLUMNS[SCANS_TABLE]}")]
    bad: dict[int, list[str]] = {}
    try:
        SCANS_TABLE_SCHEMA.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        for case in exc.failure_cases.itertuples():
            if case.index is not None and not pd.isna(case.index):
                bad.setdefault(int(case.index), []).append(f"{case.column}: {case.check} ({case.failure_case!r})")
    for i, row in enumerate(df.to_dict("records")):
        errors = validation_errors("scans_table", row)
        if errors:
            bad.setdefault(i, []).extend(errors)
    for i, reasons in sorted(bad.items()):
        rejected.append(Rejected(f"{SCANS_TABLE}:line {i + 2}", "; ".join(dict.fromkeys(reasons))))
    return df.drop(index=list(bad)), rejected


def check_scan(root: Path, scan_id: str, allow_unlabelled: bool = False) -> dict:
    """Load one scan with its labels and check what training needs beyond the schemas.

    Args:
        root: the archive.
        scan_id: the scan.
        allow_unlabelled: accept mask value 255 (wagon pixels of unknown class in a TIP'd real scan).

    Raises:
        ArchiveError: naming the file, for anything that makes the scan unusable.
    """
    paths = ArchivePaths(root)
    sample = load_sample(root, scan_id, labels=True)
    n_classes = len(load_classes())
    values = np.unique(sample["mask"])
    if allow_unlabelled:
        values = values[values != UNLABELLED]
    top = int(values.max()) if values.size else 0
    if top >= n_classes:
        raise ArchiveError(paths.label_png(scan_id), f"label value {top} is not a class (0..{n_classes - 1})")
    image = sample["image"]
    if not np.any(image < 65535):
        raise ArchiveError(paths.scan_tiff(scan_id), "scan is all air (no attenuation anywhere)")
    return sample


def orphan_labels(root: Path) -> list[Rejected]:
    """Label files whose scan does not exist."""
    paths = ArchivePaths(root)
    scans = set(paths.scan_ids())
    out = []
    if paths.labels.exists():
        for p in sorted(paths.labels.iterdir()):
            if p.suffix in (".png", ".json") and p.stem not in scans:
                out.append(Rejected(f"{paths.labels.name}/{p.name}", "label without a scan"))
    return out


def write_quarantine(path: Path, rejected: list[Rejected]) -> None:
    """Write the quarantine report (always, empty when nothing was rejected, so DVC tracks it)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(QUARANTINE_COLUMNS)
        for r in rejected:
            writer.writerow([r.file, r.reason])
    if rejected:
        log.warning("quarantined %d file(s)/row(s); see %s", len(rejected), path)


def relative(root: Path, path: Path) -> str:
    """A path relative to the archive root when it lies inside it (reports must not hold machine paths)."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).name
