"""Mutations of valid archive files for the loader fuzzer (``bench_fuzz.py``): bytes for any file, and structure
for JSON, CSV, TIFF, PNG and XLSX — the malformed inputs a scanner, an export or a hostile user produce.

Each mutator takes the seed's bytes and a numpy ``Generator`` and returns new bytes; it may raise when it does not
apply to its input (the fuzzer then falls back to a byte mutation).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from typing import Callable

import numpy as np
import tifffile
from PIL import Image

TABLES = ("scans.csv", "rfid.csv", "truth.csv", "declarations.csv")
ODD_VALUES = [None, [], {}, "", "x" * 100_000, 10**30, -1, 1e308, float("nan"), float("inf"), True, "\x00",
              "\ud800", {"a": [1, {"b": None}]}, list(range(1000)), "1970-01-01", "2025-13-45T99:99:99+25:00"]
ODD_CELLS = ["", "-1", "1e400", "NaN", "inf", "０１２", " 12 ", "=HYPERLINK(\"x\")", "\x1b[31m", "😀" * 50,
             "\x00", "x" * 200_000, "\"", "a\nb", "\ud7ff"]


# ---------------------------------------------------------------- byte mutations (every kind of file)
def _flip(b: bytes, rng, lo: int = 0, hi: int | None = None) -> bytes:
    b = bytearray(b)
    hi = len(b) if hi is None else min(hi, len(b))
    for _ in range(int(rng.integers(1, 17))):
        if hi > lo:
            b[int(rng.integers(lo, hi))] = int(rng.integers(0, 256))
    return bytes(b)


def _chunk(b: bytes, rng) -> tuple[int, int]:
    i = int(rng.integers(0, len(b) + 1))
    return i, min(len(b), i + int(rng.integers(1, 256)))


BYTE_MUTATORS: dict[str, Callable] = {
    "truncate": lambda b, rng: b[: int(rng.integers(0, max(1, len(b))))],
    "flip": lambda b, rng: _flip(b, rng),
    "flip_head": lambda b, rng: _flip(b, rng, 0, 600),
    "insert": lambda b, rng: (lambda i: b[:i] + rng.bytes(int(rng.integers(1, 65))) + b[i:])(
        int(rng.integers(0, len(b) + 1))),
    "delete": lambda b, rng: (lambda ij: b[: ij[0]] + b[ij[1]:])(_chunk(b, rng)),
    "duplicate": lambda b, rng: (lambda ij: b[: ij[1]] + b[ij[0]:])(_chunk(b, rng)),
    "garbage": lambda b, rng: rng.bytes(int(rng.integers(0, 4096))),
    "empty": lambda b, rng: b"",
}


# ---------------------------------------------------------------- JSON
def _paths(doc, prefix=()):
    yield prefix
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for k, v in items:
        yield from _paths(v, prefix + (k,))


def _set(doc, rng, value=None, delete=False):
    paths = [p for p in _paths(doc) if p]
    if not paths:
        return doc
    *parent, key = paths[int(rng.integers(0, len(paths)))]
    node = doc
    for k in parent:
        node = node[k]
    if delete:
        del node[key]
    else:
        node[key] = value
    return doc


def json_mutate(b: bytes, rng) -> bytes:
    doc = json.loads(b)
    kind = int(rng.integers(0, 9))
    if kind == 0:
        return json.dumps([None, [], 0, "x", True, {}][int(rng.integers(0, 6))]).encode()
    if kind == 1:
        d = int(rng.choice([10, 1000, 5000, 100_000]))
        return (b"[" * d + b"]" * d) if rng.random() < 0.5 else json.dumps(_set(doc, rng, "@@")).encode().replace(
            b'"@@"', b"[" * d + b"]" * d)
    if kind == 2:
        return json.dumps(_set(doc, rng, ODD_VALUES[int(rng.integers(0, len(ODD_VALUES)))])).encode("utf-8",
                                                                                                  "surrogatepass")
    if kind == 3:
        return json.dumps(_set(doc, rng, delete=True)).encode()
    if kind == 4:
        return json.dumps({**doc, "unknown": 1} if isinstance(doc, dict) else doc).encode()
    if kind == 5:
        return json.dumps(_set(doc, rng, "@@")).encode().replace(b'"@@"', rng.choice(
            [b"NaN", b"Infinity", b"-Infinity", b"1" * 5000, b"1e400", b"-0", b"01"]))
    if kind == 6:
        return b"\xef\xbb\xbf" + b if rng.random() < 0.5 else json.dumps(doc).encode("utf-16")
    if kind == 7:
        return b[:-1] + b',"schema_version":"1.0",}' if b.rstrip().endswith(b"}") else b + b","
    return json.dumps(list(doc.values()) if isinstance(doc, dict) else {"rows": doc}).encode()


# ---------------------------------------------------------------- CSV
def csv_mutate(b: bytes, rng) -> bytes:
    import csv

    records = list(csv.reader(io.StringIO(b.decode("utf-8-sig"), newline="")))
    kind = int(rng.integers(0, 10))
    r = int(rng.integers(0, len(records))) if records else 0
    if kind == 0 and records:                                   # drop or duplicate a column
        c = int(rng.integers(0, len(records[0])))
        records = [rec[:c] + rec[c + 1:] if rng.random() < 0.5 else rec + rec[c:c + 1] for rec in records]
    elif kind == 1 and records:                                 # extra or missing cells
        records[r] = records[r] + ["surplus"] * int(rng.integers(1, 4)) if rng.random() < 0.5 else records[r][:1]
    elif kind == 2 and records and records[r]:                  # an odd cell value
        records[r][int(rng.integers(0, len(records[r])))] = ODD_CELLS[int(rng.integers(0, len(ODD_CELLS)))]
    elif kind == 3 and records:                                 # header renamed or repeated
        records[0][int(rng.integers(0, len(records[0])))] = rng.choice(["", "pi_number", "ID снимка", "x"])
    elif kind == 4:
        records = records[:1] if rng.random() < 0.5 else records[1:]
    elif kind == 5:
        records = records + records[1:] * int(rng.integers(1, 50))
    out = io.StringIO()
    csv.writer(out, delimiter=";" if kind == 6 else ",", lineterminator="\r\n" if rng.random() < 0.2 else "\n",
               ).writerows(records)
    text = out.getvalue()
    if kind == 7:
        return text.encode(rng.choice(["cp1251", "utf-16", "latin-1"]), "replace")
    if kind == 8:
        i = int(rng.integers(0, len(text) + 1))
        return (text[:i] + rng.choice(['"', '"unterminated', "\x00", "\n\n", "\r"]) + text[i:]).encode("utf-8", "replace")
    return (("\ufeff" if kind == 9 else "") + text).encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- TIFF
def _tiff_bytes(*arrays, **kw) -> bytes:
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf, bigtiff=kw.pop("bigtiff", False)) as tif:
        for a in arrays:
            tif.write(a, **kw)
    return buf.getvalue()


def _forge(b: bytes, rng) -> bytes:
    """Overwrite one tag value on every page: sizes, bits, compression, strip offsets and counts."""
    tag, values = [("ImageWidth", [0, 65535, 2**31 - 1, 2**32 - 1]), ("ImageLength", [0, 1, 65535, 2**31 - 1]),
                   ("BitsPerSample", [0, 1, 8, 12, 32, 64]), ("Compression", [0, 5, 7, 8, 99, 34712]),
                   ("StripOffsets", [0, 2**31, 2**32 - 1]), ("StripByteCounts", [0, 2**31, 2**32 - 1]),
                   ("RowsPerStrip", [0, 1]), ("SamplesPerPixel", [0, 3, 65535]),
                   ("PhotometricInterpretation", [0, 2, 3, 99])][int(rng.integers(0, 9))]
    out = bytearray(b)
    with tifffile.TiffFile(io.BytesIO(b)) as tif:
        spots = [(p.tags[tag].valueoffset, p.tags[tag].dtype) for p in tif.pages if tag in p.tags]
        order = tif.byteorder
    value = int(rng.choice(values))
    for offset, dtype in spots:
        if dtype == 3:
            struct.pack_into(order + "H", out, offset, value & 0xFFFF)
        else:
            struct.pack_into(order + "I", out, offset, value)
    return bytes(out)


def tiff_mutate(b: bytes, rng) -> bytes:
    img = tifffile.imread(io.BytesIO(b))
    hi, lo = img[0], img[1]
    kind = int(rng.integers(0, 10))
    if kind == 0:
        return _tiff_bytes(hi)
    if kind == 1:
        return _tiff_bytes(hi, lo, hi)
    if kind == 2:
        dtype = rng.choice([np.uint8, np.int16, np.float32, np.uint32, np.float64, np.int8])
        return _tiff_bytes(*(img.astype(dtype)))
    if kind == 3:
        return _tiff_bytes(np.stack([hi] * 3, -1), np.stack([lo] * 3, -1))
    if kind == 4:
        return _tiff_bytes(hi, lo[: lo.shape[0] // 2])
    if kind == 5:
        good = _tiff_bytes(hi, lo, compression=str(rng.choice(["zlib", "lzw", "packbits"])))
        return good if rng.random() < 0.3 else good[: int(rng.integers(8, len(good)))]
    if kind == 6:
        return _tiff_bytes(hi, lo, tile=(16, 16))
    if kind == 7:
        return _tiff_bytes(hi, lo, bigtiff=True)
    if kind == 8:
        return _tiff_bytes(img)                                 # one 3-D page
    return _forge(b, rng)


# ---------------------------------------------------------------- PNG (label masks)
def _png(a: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a, mode).save(buf, format="PNG") if mode else Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def png_mutate(b: bytes, rng) -> bytes:
    mask = np.asarray(Image.open(io.BytesIO(b)))
    kind = int(rng.integers(0, 6))
    if kind == 0:
        return _png(mask.astype(np.uint16) * 257)
    if kind == 1:
        return _png(np.stack([mask] * 3, -1))
    if kind == 2:
        return _png(mask[: mask.shape[0] // 2])
    if kind == 3:
        return _png(mask > 0)
    if kind == 4:                                               # a forged IHDR: huge dimensions, few bytes
        w, h = int(rng.choice([70_000, 2**20, 2**31 - 1])), int(rng.choice([70_000, 2**20]))
        body = b"IHDR" + struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
        return b[:8] + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body)) + b[33:]
    return _png(mask.astype(np.float32), "F")


# ---------------------------------------------------------------- XLSX
def xlsx_mutate(b: bytes, rng) -> bytes:
    with zipfile.ZipFile(io.BytesIO(b)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    names = sorted(members)
    kind = int(rng.integers(0, 6))
    if kind == 0:
        members.pop(names[int(rng.integers(0, len(names)))])
    elif kind in (1, 2):
        name = names[int(rng.integers(0, len(names)))]
        members[name] = BYTE_MUTATORS[rng.choice(["truncate", "flip", "insert", "garbage"])](members[name], rng)
    elif kind == 3:
        sheet = next(n for n in names if n.startswith("xl/worksheets/"))
        members[sheet] = members[sheet].replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>', 1) \
            .replace(b"<c ", b'<c t="e" ', 3).replace(b"<c ", b'<c t="d" ', 2)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    out = buf.getvalue()
    if kind == 4:                                               # a central directory claiming gigabytes
        out = bytearray(out)
        at = out.find(b"PK\x01\x02")
        while at >= 0:
            struct.pack_into("<I", out, at + 24, 2**32 - 1)
            at = out.find(b"PK\x01\x02", at + 4)
        out = bytes(out)
    return out


def to_xlsx(rows: list[list[str]], rng=None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for rec in rows:
        wb.active.append([float(v) if v.replace(".", "", 1).isdigit() and rng is not None else v for v in rec])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
