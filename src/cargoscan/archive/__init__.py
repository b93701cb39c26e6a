"""The scan archive format (version 1.0): the contract every part of cargoscan reads."""

from cargoscan.archive.format import SCHEMA_VERSION, ArchiveError, ArchivePaths, ScanId
from cargoscan.archive.io import (
    decode_rle,
    encode_rle,
    load_sample,
    read_json,
    read_labels,
    read_scan,
    read_sidecar,
    scan_pitch,
    write_json,
    write_labels,
    write_scan,
)
from cargoscan.archive.tables import read_declarations, read_table, write_table

__all__ = [
    "SCHEMA_VERSION",
    "ArchiveError",
    "ArchivePaths",
    "ScanId",
    "decode_rle",
    "encode_rle",
    "load_sample",
    "read_declarations",
    "read_json",
    "read_labels",
    "read_scan",
    "read_sidecar",
    "read_table",
    "scan_pitch",
    "write_json",
    "write_labels",
    "write_scan",
    "write_table",
]
