"""The scan archive format, version 1.0: where things live and what they are called.

::

    data/raw/
      scans/<scan_id>.tiff    2-page uint16 TIFF: page 0 high energy, page 1 low energy;
                              value = normalised transmission × 65535 (air 65535, blocked 0);
                              rows: top of the wagon → rail; columns: along the train in scan direction
      scans/<scan_id>.json    sidecar (schemas/sidecar.schema.json)
      labels/<scan_id>.png    uint8 semantic mask, the scan's shape (classes.yaml)
      labels/<scan_id>.json   instances (schemas/labels.schema.json)
      scans.csv               the post's Table 1
      declarations.csv        the railway's preliminary information, one row per consignment
      rfid.csv                RFID reader events
      truth.csv               true goods, mass and mismatch per consignment

Labels and truth live apart from the inputs so that inference never reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

SCHEMA_VERSION = "1.0"
MAX_VALUE = 65535
#: Pixels per page a reader accepts, checked in the header before decoding. A wagon at a real scanner's pitch
#: (~2,000 detector rows × ~25,000 columns) is a quarter of this; a forged header claiming more is refused.
MAX_SCAN_PIXELS = 200_000_000
#: Bytes a JSON file (sidecar, labels) may have; real ones are kilobytes.
MAX_JSON_BYTES = 64 * 2**20

SCANS_DIR = "scans"
LABELS_DIR = "labels"
SCANS_TABLE = "scans.csv"
DECLARATIONS_TABLE = "declarations.csv"
RFID_TABLE = "rfid.csv"
TRUTH_TABLE = "truth.csv"

#: Column order of each table; the header row is written exactly so.
TABLE_COLUMNS: dict[str, list[str]] = {
    SCANS_TABLE: ["п/п", "номер состава", "платформа", "дата", "время", "ID снимка"],
    DECLARATIONS_TABLE: ["pi_number", "train_number", "wagon_number", "container_number", "hs_code",
                         "goods_description", "packages_count", "packaging", "gross_weight_kg", "net_weight_kg",
                         "consignor", "consignee"],
    RFID_TABLE: ["read_at", "reader_id", "train_number", "position", "tag_payload"],
    TRUTH_TABLE: ["scan_id", "pi_number", "wagon_number", "container_number", "true_category", "true_hs_code",
                  "true_goods_description", "true_net_weight_kg", "true_packages_count", "mismatch", "has_threat",
                  "threat_classes"],
}

#: Which JSON Schema validates each table's rows.
TABLE_SCHEMAS: dict[str, str] = {
    SCANS_TABLE: "scans_table",
    DECLARATIONS_TABLE: "declarations",
    RFID_TABLE: "rfid",
    TRUTH_TABLE: "truth",
}

SCAN_ID_RE = re.compile(r"^(?P<post>\d{5})(?P<device>RF\d{2})(?P<stamp>\d{14})(?P<seq>\d)$")


class ArchiveError(ValueError):
    """A malformed archive entry. The message always names the file."""

    def __init__(self, path: str | Path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class ScanId:
    """A scan ID in the post's own form, e.g. ``32701RF06202502181747029``."""

    post_code: str
    device_id: str
    stamp: datetime
    seq: int

    @classmethod
    def parse(cls, text: str) -> "ScanId":
        """Parse a scan ID; raises ``ValueError`` naming what is wrong."""
        m = SCAN_ID_RE.match(text)
        if not m:
            raise ValueError(f"not a scan ID (5-digit post, RFnn, YYYYMMDDhhmmss, sequence digit): {text!r}")
        stamp = datetime.strptime(m["stamp"], "%Y%m%d%H%M%S")
        return cls(m["post"], m["device"], stamp, int(m["seq"]))

    def __str__(self) -> str:
        return f"{self.post_code}{self.device_id}{self.stamp:%Y%m%d%H%M%S}{self.seq}"


@dataclass(frozen=True)
class ArchivePaths:
    """Paths of one archive root."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def scans(self) -> Path:
        return self.root / SCANS_DIR

    @property
    def labels(self) -> Path:
        return self.root / LABELS_DIR

    def scan_tiff(self, scan_id: str) -> Path:
        return self.scans / f"{scan_id}.tiff"

    def sidecar(self, scan_id: str) -> Path:
        return self.scans / f"{scan_id}.json"

    def label_png(self, scan_id: str) -> Path:
        return self.labels / f"{scan_id}.png"

    def label_json(self, scan_id: str) -> Path:
        return self.labels / f"{scan_id}.json"

    def table(self, name: str) -> Path:
        return self.root / name

    def scan_ids(self) -> list[str]:
        """Scan IDs present as TIFF files, sorted."""
        return sorted(p.stem for p in self.scans.glob("*.tiff")) if self.scans.exists() else []
