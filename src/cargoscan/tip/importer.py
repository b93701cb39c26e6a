"""Import of real scans into the archive format (TIFF + sidecar), assuming nothing.

Real exports differ in layout (H×W×2 or 2×H×W), channel order, open-beam value, encoding and orientation, and
none of these can be guessed safely from the pixels, so the importer asks for them (:class:`ImportOptions`),
applies them, and then *checks* the result (:mod:`cargoscan.tip.checks`): a wrong option shows up as a failed
check whose message names the option to change. Nothing is written unless every check passes or is forced.

Readable sources: ``.npy``/``.npz`` with 2-channel arrays, a 2-page TIFF, or a pair of 16-bit TIFFs.
DICOS and WCO UFF are not supported: no PyPI library reads them as dual-energy cargo images (pydicom parses
DICOM's encoding, which DICOS shares, but nothing maps DICOS's DX/CT threat-detection objects or UFF's
container to a high/low pair, and we have no sample to validate such a mapping against), so they are refused
with that message instead of being half-read.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tifffile

from cargoscan.archive import SCHEMA_VERSION, ArchivePaths, write_json, write_scan
from cargoscan.archive.validate import check
from cargoscan.ids import is_valid_container, is_valid_wagon
from cargoscan.tip.checks import MAX_VALUE, CheckFailure, run_checks

log = logging.getLogger(__name__)

Encoding = Literal["transmission", "inverted", "attenuation"]
UNSUPPORTED = {".dcs": "DICOS", ".dicos": "DICOS", ".uff": "WCO UFF", ".xml": "WCO UFF"}


class ImportRefused(ValueError):
    """A source that cannot be imported as given; the message says why and what to pass."""


@dataclass(frozen=True)
class ImportOptions:
    """What the importer cannot infer from the pixels; every field without a default must be given."""

    high_channel: int  #: index (0/1) of the high-energy channel in the source's order
    air_value: float  #: raw value of the open beam (full transmission)
    rail_at_bottom: bool  #: True when the rail is in the last rows as stored
    pitch_mm: tuple[float, float]  #: (row, column) pixel pitch in mm
    layout: Literal["auto", "hwc", "chw"] = "auto"
    encoding: Encoding = "transmission"
    attenuation_scale: float | None = None  #: raw counts per unit of −ln T, for ``encoding="attenuation"``
    transpose: bool = False  #: rows run along the train as stored
    force: tuple[str, ...] = ()  #: checks skipped deliberately (recorded in the sidecar)


@dataclass(frozen=True)
class ScanMeta:
    """Identity of an imported scan: what the post knows about it."""

    post_code: str
    device_id: str
    scanned_at: datetime  #: timezone-aware
    train_number: str
    direction: Literal["import", "export", "transit"]
    speed_kmh: float
    energies_mev: tuple[float, float]  #: (high, low) nominal endpoints
    wagon_number: str | None = None
    container_numbers: tuple[str, ...] = ()
    wagon_type: str | None = None
    seq: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scan_id(self) -> str:
        return f"{self.post_code}{self.device_id}{self.scanned_at:%Y%m%d%H%M%S}{self.seq}"


# --- reading
# --------------------------------------------------------------------------------------------------


def read_source(paths: list[Path], key: str | None = None) -> np.ndarray:
    """Read the raw array(s) of one scan: a 3-D array, or a (2, H, W) stack of two 2-D TIFFs in given order.

    Raises:
        ImportRefused: for unsupported formats, a missing ``key`` in a multi-array ``.npz``, unreadable files.
    """
    for p in paths:
        if not p.exists():
            raise ImportRefused(f"{p}: file not found")
        fmt = UNSUPPORTED.get(p.suffix.lower())
        if fmt:
            raise ImportRefused(
                f"{p}: {fmt} is not supported — no maintained Python library reads it; export the "
                "scan as 16-bit TIFF (one per energy) or a 2-channel .npy instead"
            )
    if len(paths) == 2:
        pages = [_read_one(p, key) for p in paths]
        for p, a in zip(paths, pages):
            if a.ndim != 2:
                raise ImportRefused(f"{p}: a TIFF pair needs one 2-D image per file, got shape {a.shape}")
        if pages[0].shape != pages[1].shape:
            raise ImportRefused(f"the two images differ in shape: {pages[0].shape} vs {pages[1].shape}")
        return np.stack(pages)
    if len(paths) != 1:
        raise ImportRefused(f"give one file (2 channels) or two TIFFs (one per energy), got {len(paths)}")
    return _read_one(paths[0], key)


def _read_one(path: Path, key: str | None) -> np.ndarray:
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                names = list(z.keys())
                if key is None and len(names) != 1:
                    raise ImportRefused(f"{path}: holds arrays {names}; pass --key NAME")
                if key is not None and key not in names:
                    raise ImportRefused(f"{path}: no array {key!r}; it holds {names}")
                return z[key or names[0]]
        if suffix in (".tif", ".tiff"):
            return tifffile.imread(path)
    except ImportRefused:
        raise
    except Exception as exc:  # numpy and tifffile raise many types on damaged files
        raise ImportRefused(f"{path}: unreadable ({type(exc).__name__}: {exc})") from exc
    raise ImportRefused(f"{path}: unknown format {suffix!r}; readable: .npy, .npz, .tif/.tiff")


def to_channels_first(raw: np.ndarray, layout: str) -> np.ndarray:
    """(H, W, 2) or (2, H, W) → (2, H, W), refusing other shapes and dtypes.

    Raises:
        ImportRefused: naming the shape or dtype and what is expected.
    """
    if raw.ndim != 3:
        raise ImportRefused(f"expected a 2-channel scan (H×W×2 or 2×H×W), got shape {raw.shape}")
    if raw.dtype.kind not in "uif" or raw.dtype == np.uint8 or raw.dtype == np.int8:
        what = (
            "8-bit data has lost the physics; re-export raw 16-bit counts"
            if raw.dtype.itemsize == 1
            else "expected unsigned 16-bit counts (or float transmissions)"
        )
        raise ImportRefused(f"dtype {raw.dtype}: {what}")
    if raw.dtype.kind == "f" and not np.all(np.isfinite(raw)):
        raise ImportRefused("the scan holds NaN or infinite values")
    if raw.dtype.kind in "iu" and raw.min() < 0:
        raise ImportRefused("the scan holds negative counts")
    first, last = raw.shape[0] == 2, raw.shape[2] == 2
    if layout == "auto":
        if first == last:
            raise ImportRefused(
                f"cannot tell the channel axis of shape {raw.shape}; pass --layout hwc or chw"
            )
        layout = "chw" if first else "hwc"
    if layout == "chw" and not first or layout == "hwc" and not last:
        raise ImportRefused(f"--layout {layout} does not fit shape {raw.shape}")
    return raw if layout == "chw" else np.moveaxis(raw, -1, 0)


def to_archive_image(raw: np.ndarray, opts: ImportOptions) -> np.ndarray:
    """Apply the user's options: (2, H, W) raw, source order → archive image (high, low; top→rail) uint16."""
    if opts.high_channel not in (0, 1):
        raise ImportRefused(f"--high-channel must be 0 or 1, got {opts.high_channel}")
    if opts.air_value <= 0:
        raise ImportRefused(f"--air-value must be positive, got {opts.air_value}")
    x = raw[[opts.high_channel, 1 - opts.high_channel]].astype(np.float64)
    if opts.encoding == "transmission":
        t = x / opts.air_value
    elif opts.encoding == "inverted":
        t = (opts.air_value - x) / opts.air_value
    elif opts.encoding == "attenuation":
        if not opts.attenuation_scale or opts.attenuation_scale <= 0:
            raise ImportRefused(
                "--encoding attenuation needs --attenuation-scale (raw counts per unit of −ln T)"
            )
        t = np.exp(-x / opts.attenuation_scale)
    else:
        raise ImportRefused(
            f"unknown --encoding {opts.encoding!r}; known: transmission, inverted, attenuation"
        )
    if opts.transpose:
        t = np.swapaxes(t, 1, 2)
    if not opts.rail_at_bottom:
        t = t[:, ::-1, :]
    # Starved pixels stay 0: np.rint keeps exact zeros, clipping keeps air at the top of the range.
    return np.rint(np.clip(t, 0.0, 1.0) * MAX_VALUE).astype(np.uint16)


# --- metadata
# ---------------------------------------------------------------------------------------------------


def build_sidecar(
    meta: ScanMeta, opts: ImportOptions, shape: tuple[int, int], source: dict[str, Any]
) -> dict[str, Any]:
    """The archive sidecar of an imported scan, checked against the schema and the identifiers' digits."""
    if meta.scanned_at.tzinfo is None:
        raise ImportRefused("scanned_at needs a timezone (e.g. 2025-02-18T17:47:02+05:00)")
    if meta.wagon_number is not None and not is_valid_wagon(meta.wagon_number):
        raise ImportRefused(
            f"wagon number {meta.wagon_number!r} fails its check digit; pass it as read, or none"
        )
    bad = [c for c in meta.container_numbers if not is_valid_container(c)]
    if bad:
        raise ImportRefused(f"container number(s) {bad} fail the ISO 6346 check digit")
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "scan_id": meta.scan_id,
        "post_code": meta.post_code,
        "device_id": meta.device_id,
        "scanned_at": meta.scanned_at.isoformat(timespec="seconds"),
        "energies_mev": [float(meta.energies_mev[0]), float(meta.energies_mev[1])],
        "pixel_pitch_mm": {"row": float(opts.pitch_mm[0]), "column": float(opts.pitch_mm[1])},
        "train_number": meta.train_number,
        "wagon_number": meta.wagon_number,
        "container_numbers": list(meta.container_numbers),
        "direction": meta.direction,
        "speed_kmh": float(meta.speed_kmh),
        "source": {"kind": "imported", "shape": list(shape), **source, **meta.extra},
    }
    if meta.wagon_type:
        doc["wagon_type"] = meta.wagon_type
    return doc


# --- the whole import
# -------------------------------------------------------------------------------------------


def import_scan(
    paths: list[Path], opts: ImportOptions, meta: ScanMeta, root: Path, key: str | None = None
) -> Path:
    """Read, normalise, check and write one scan into the archive at ``root``.

    Returns:
        The written TIFF's path.

    Raises:
        ImportRefused: for an unreadable source, a failed check (all failures listed, each with the option
            that fixes it), an invalid sidecar or a scan ID already in the archive. Nothing is written then.
    """
    paths = [Path(p) for p in paths]
    raw = read_source(paths, key)
    if len(paths) == 2:
        layout = "chw"
    else:
        layout = opts.layout
    raw = to_channels_first(raw, layout)
    image = to_archive_image(raw, opts)
    source_order = raw[[opts.high_channel, 1 - opts.high_channel]]
    # An attenuation export has no air value: its air is 0, checked by ``inverted`` instead.
    skip = opts.force + (("air_value",) if opts.encoding == "attenuation" else ())
    failures: list[CheckFailure] = run_checks(source_order, image, opts.air_value, skip=skip,
                                              pitch_mm=tuple(opts.pitch_mm))
    if failures:
        raise ImportRefused("refused: " + "; ".join(str(f) for f in failures))
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.read_bytes())
    source = {
        "files": [p.name for p in paths],
        "sha256": digest.hexdigest(),
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(opts).items()},
        "forced_checks": list(opts.force),
    }
    archive = ArchivePaths(root)
    doc = build_sidecar(meta, opts, image.shape[1:], source)
    check("sidecar", doc, archive.sidecar(meta.scan_id))
    tiff = archive.scan_tiff(meta.scan_id)
    if tiff.exists() or archive.sidecar(meta.scan_id).exists():
        raise ImportRefused(
            f"{tiff}: scan {meta.scan_id} is already in the archive; give another sequence digit"
        )
    archive.scans.mkdir(parents=True, exist_ok=True)
    write_scan(tiff, image)
    write_json(archive.sidecar(meta.scan_id), doc)
    if opts.force:
        log.warning("%s imported with checks forced off: %s", meta.scan_id, ", ".join(opts.force))
    return tiff
