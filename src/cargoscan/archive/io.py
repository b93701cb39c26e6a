"""Reading and writing scans, sidecars and labels, with errors that name the file.

Samples are dicts in the torchgeo manner: ``image`` (2×H×W uint16, high then low), ``mask`` (H×W uint8, only
when labels are asked for), ``meta`` (the sidecar) and ``instances``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from PIL import Image

from cargoscan.archive.format import MAX_JSON_BYTES, MAX_SCAN_PIXELS, SCHEMA_VERSION, ArchiveError, ArchivePaths
from cargoscan.archive.validate import check


def read_scan(path: str | Path) -> np.ndarray:
    """Read a 2-page uint16 scan TIFF into a (2, H, W) array: high energy, then low.

    Raises:
        ArchiveError: for a missing, truncated or unreadable file, a page count other than 2, a dtype other
            than uint16, pages of different shapes, or a non-2-D page.
    """
    path = Path(path)
    _check_file(path, "scan file")
    try:
        with tifffile.TiffFile(path) as tif:
            pages = list(tif.pages)
            if len(pages) != 2:
                raise ArchiveError(path, f"expected 2 pages (high, low energy), found {len(pages)}")
            for i, page in enumerate(pages):   # from the header, before decoding: a bad page allocates nothing
                _check_page(path, i, page.dtype, page.shape)
            arrays = [p.asarray() for p in pages]
    except ArchiveError:
        raise
    except Exception as exc:  # tifffile raises many types on damaged files
        raise ArchiveError(path, f"unreadable or truncated TIFF ({type(exc).__name__}: {exc})") from exc
    for i, a in enumerate(arrays):
        _check_page(path, i, a.dtype, a.shape)
    if arrays[0].shape != arrays[1].shape:
        raise ArchiveError(path, f"pages differ in shape: {arrays[0].shape} vs {arrays[1].shape}")
    return np.stack(arrays)


def _check_file(path: Path, what: str) -> None:
    """A regular file: a missing path, a folder, a FIFO or a device (a TIFF linked to /dev/zero) is refused."""
    if not path.exists():
        raise ArchiveError(path, f"{what} not found")
    if not path.is_file():
        raise ArchiveError(path, f"{what} is not a regular file")


def _check_page(path: Path, i: int, dtype: Any, shape: tuple[int, ...]) -> None:
    """A scan page is 2-D uint16 of a size a scanner makes (a forged header must not claim gigabytes)."""
    if dtype != np.uint16:
        raise ArchiveError(path, f"page {i} is {dtype}, expected uint16 (an 8-bit rescale loses the physics)")
    if len(shape) != 2:
        raise ArchiveError(path, f"page {i} has shape {shape}, expected a 2-D image")
    if not all(n > 0 for n in shape):
        raise ArchiveError(path, f"page {i} is empty ({shape})")
    if shape[0] * shape[1] > MAX_SCAN_PIXELS:
        raise ArchiveError(path, f"page {i} claims {shape[0]} × {shape[1]} pixels, over the "
                                 f"{MAX_SCAN_PIXELS:,} a scan may have")


def write_scan(path: str | Path, image: np.ndarray) -> None:
    """Write a (2, H, W) uint16 array as a 2-page uncompressed TIFF (byte-identical for equal input)."""
    image = np.asarray(image)
    if image.dtype != np.uint16 or image.ndim != 3 or image.shape[0] != 2:
        raise ValueError(f"a scan is (2, H, W) uint16, got {image.shape} {image.dtype}")
    with tifffile.TiffWriter(path) as tif:
        for page, name in zip(image, ("high", "low")):
            # Uncompressed: quantum noise leaves 16-bit scans nearly incompressible (zlib saves ~14%), and
            # compressing cost ~40% of the synthesiser's time. Readers accept any TIFF compression.
            tif.write(page,
                      description=f"cargoscan {name} energy",
                      metadata=None, software=False, datetime=False)


def read_json(path: str | Path) -> dict[str, Any]:
    """Read a JSON file, naming the file when it is missing or malformed."""
    path = Path(path)
    _check_file(path, "file")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ArchiveError(path, f"{path.stat().st_size:,} bytes, over the {MAX_JSON_BYTES:,} a JSON file may have")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArchiveError(path, f"cannot read ({exc.strerror or exc})") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, and ints past Python's digit limit
        raise ArchiveError(path, f"not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise ArchiveError(path, "not valid JSON (nested too deeply)") from exc


def write_json(path: str | Path, document: dict[str, Any]) -> None:
    """Write JSON deterministically (sorted keys, UTF-8, Cyrillic kept)."""
    Path(path).write_text(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n", "utf-8")


def scan_pitch(meta: dict[str, Any]) -> tuple[float, float]:
    """The (row, column) pixel pitch in mm of a scan, from its sidecar (``pixel_pitch_mm``)."""
    p = meta["pixel_pitch_mm"]
    return float(p["row"]), float(p["column"])


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """Read and validate a scan sidecar.

    Raises:
        ArchiveError: naming the file for a missing sidecar, a wrong ``schema_version`` or any schema violation.
    """
    doc = read_json(path)
    if not isinstance(doc, dict):
        raise ArchiveError(path, f"a sidecar is a JSON object, found {type(doc).__name__}")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ArchiveError(path, f"schema_version {version!r} is not supported (this reader reads {SCHEMA_VERSION})")
    check("sidecar", doc, path)
    bad = _non_finite(doc)
    if bad:
        raise ArchiveError(path, f"{bad}: not a finite number")
    return doc


def _non_finite(doc: Any) -> str | None:
    """The first field holding NaN or ±inf (Python's json reads them; JSON Schema's number accepts them).

    Iterative: a document nested deep enough to pass the parser must not overflow the stack here.
    """
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return where or "(root)"
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        stack.extend((f"{where}/{k}" if where else str(k), v) for k, v in reversed(list(items)))
    return None


def encode_rle(mask: np.ndarray) -> tuple[list[int], list[int]]:
    """Crop a boolean mask to its bounding box and run-length encode it (row-major, first run is zeros).

    Returns:
        ``(bbox, rle)`` with ``bbox = [x0, y0, x1, y1]`` (exclusive ends).
    """
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return [0, 0, 0, 0], []
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    flat = mask[y0:y1, x0:x1].ravel().astype(np.int8)
    change = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
    runs = np.diff(np.concatenate([[0], change])).tolist()
    return [x0, y0, x1, y1], [int(r) for r in runs]


def decode_rle(bbox: list[int], rle: list[int], shape: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`encode_rle`: a full-size boolean mask."""
    x0, y0, x1, y1 = bbox
    out = np.zeros(shape, dtype=bool)
    if not rle:
        return out
    vals = np.zeros(sum(rle), dtype=bool)
    pos, on = 0, False
    for r in rle:
        if on:
            vals[pos:pos + r] = True
        pos += r
        on = not on
    out[y0:y1, x0:x1] = vals[: (y1 - y0) * (x1 - x0)].reshape(y1 - y0, x1 - x0)
    return out


def read_labels(root: str | Path, scan_id: str, shape: tuple[int, int] | None = None) -> tuple[np.ndarray, dict]:
    """Read a scan's semantic mask and instance file, checking the shape against the scan's.

    Raises:
        ArchiveError: naming the file for a missing label, a wrong dtype or a shape that differs from the scan.
    """
    paths = ArchivePaths(Path(root))
    png, js = paths.label_png(scan_id), paths.label_json(scan_id)
    _check_file(png, "label mask")
    try:
        with Image.open(png) as img:
            if img.width * img.height > MAX_SCAN_PIXELS:   # checked before decoding: no decompression bomb
                raise ArchiveError(png, f"label mask claims {img.height} × {img.width} pixels, over the "
                                        f"{MAX_SCAN_PIXELS:,} a scan may have")
            mask = np.asarray(img)
    except ArchiveError:
        raise
    except Exception as exc:  # PIL raises many types (and DecompressionBombError) on damaged files
        raise ArchiveError(png, f"unreadable PNG ({type(exc).__name__}: {exc})") from exc
    if mask.dtype != np.uint8 or mask.ndim != 2:
        raise ArchiveError(png, f"label mask must be 2-D uint8, got {mask.shape} {mask.dtype}")
    if shape is not None and mask.shape != tuple(shape):
        raise ArchiveError(png, f"label shape {mask.shape} differs from the scan's {tuple(shape)}")
    doc = read_json(js)
    check("labels", doc, js)
    return mask, doc


def write_labels(root: str | Path, scan_id: str, mask: np.ndarray, doc: dict[str, Any]) -> None:
    """Write a semantic mask PNG and its instance JSON."""
    paths = ArchivePaths(Path(root))
    paths.labels.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask.astype(np.uint8)).save(paths.label_png(scan_id), optimize=False)
    write_json(paths.label_json(scan_id), doc)


def load_sample(root: str | Path, scan_id: str, labels: bool = False) -> dict[str, Any]:
    """Load one scan as a sample dict: ``image``, ``meta`` and, with ``labels``, ``mask`` and ``instances``.

    Raises:
        ArchiveError: for any malformed part, naming its file.
    """
    paths = ArchivePaths(Path(root))
    image = read_scan(paths.scan_tiff(scan_id))
    meta = read_sidecar(paths.sidecar(scan_id))
    if meta["scan_id"] != scan_id:
        raise ArchiveError(paths.sidecar(scan_id), f"scan_id {meta['scan_id']!r} differs from the file name")
    sample: dict[str, Any] = {"image": image, "meta": meta}
    if labels:
        mask, doc = read_labels(root, scan_id, image.shape[1:])
        sample["mask"] = mask
        sample["instances"] = doc["instances"]
        sample["label_doc"] = doc
    return sample
