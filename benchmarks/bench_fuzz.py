"""Loader fuzzing: malformed sidecars, label files, archive tables, TIFF scans and declarations (CSV, XLSX, JSON)
through the loaders every command uses. A loader may accept a case (and must then keep its contract: a
(2, H, W) uint16 scan, rows of text, …) or refuse it with ``ArchiveError``; anything else is a crash.

Run: ``PYTHONPATH=src python benchmarks/bench_fuzz.py [--cases 6000] [--seed 0] [--archive data/raw]``. Seeds are
the first scan of ``--archive`` (cropped, so that a case costs milliseconds) and its tables; the JSON on standard
output counts accepted, refused and crashed cases per loader, with the first crashes' messages. Target: 0 crashes.
"""

from __future__ import annotations

import argparse
import io
import json
import signal
import struct
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import tifffile
from PIL import Image

from cargoscan.archive import (ArchiveError, ArchivePaths, read_labels, read_scan, read_sidecar, read_table,
                               write_json, write_labels, write_scan)
from cargoscan.archive.format import TABLE_COLUMNS
from cargoscan.archive.validate import validation_errors
from cargoscan.inspect.declarations import read_declaration_file
from cargoscan.registry.declarations import read_rows

TABLES = ("scans.csv", "rfid.csv", "truth.csv", "declarations.csv")
ODD_VALUES = [None, [], {}, "", "x" * 100_000, 10**30, -1, 1e308, float("nan"), float("inf"), True, "\x00",
              "\ud800", {"a": [1, {"b": None}]}, list(range(1000)), "1970-01-01", "2025-13-45T99:99:99+25:00"]
ODD_CELLS = ["", "-1", "1e400", "NaN", "inf", "０１２", " 12 ", "=HYPERLINK(\"x\")", "\x1b[31m", "😀" * 50,
             "\x00", "x" * 200_000, "\"", "a\nb", "\ud7ff"]


class Hang(BaseException):
    """A case over its time limit (BaseException: loaders' ``except Exception`` must not swallow it)."""


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


def _json_mutate(b: bytes, rng) -> bytes:
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
def _csv_mutate(b: bytes, rng) -> bytes:
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


def _tiff_mutate(b: bytes, rng) -> bytes:
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


def _png_mutate(b: bytes, rng) -> bytes:
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
        import zlib

        return b[:8] + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body)) + b[33:]
    return _png(mask.astype(np.float32), "F")


# ---------------------------------------------------------------- XLSX
def _xlsx_mutate(b: bytes, rng) -> bytes:
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


def _to_xlsx(rows: list[list[str]], rng=None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for rec in rows:
        wb.active.append([float(v) if v.replace(".", "", 1).isdigit() and rng is not None else v for v in rec])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- seeds, targets and the run
def make_seeds(archive: Path, rows: int = 6, crop: tuple[int, int] = (64, 192)) -> dict[str, bytes]:
    """Valid files from the first scan of ``archive`` (cropped) and the first rows of its tables."""
    import csv

    paths = ArchivePaths(archive)
    sid = paths.scan_ids()[0]
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-seeds-"))
    write_scan(tmp / "s.tiff", read_scan(paths.scan_tiff(sid))[:, : crop[0], : crop[1]])
    mask, doc = read_labels(archive, sid)
    write_labels(tmp, sid, mask[: crop[0], : crop[1]], doc)
    seeds = {"scan_id": sid.encode(), "tiff": (tmp / "s.tiff").read_bytes(),
             "sidecar": paths.sidecar(sid).read_bytes(),
             "label_png": ArchivePaths(tmp).label_png(sid).read_bytes(),
             "label_json": ArchivePaths(tmp).label_json(sid).read_bytes()}
    for name in TABLES:
        lines = paths.table(name).read_text(encoding="utf-8").splitlines(keepends=True)
        seeds[name] = "".join(lines[: rows + 1]).encode()
    records = list(csv.reader(io.StringIO(seeds["declarations.csv"].decode(), newline="")))
    seeds["decl_xlsx"] = _to_xlsx(records, rng=True)
    seeds["decl_json"] = json.dumps([dict(zip(records[0], r)) for r in records[1:3]], ensure_ascii=False).encode()
    return seeds


@dataclass(frozen=True)
class Target:
    name: str
    file: str                     # where the case is written, relative to the work folder ({sid}: the scan ID)
    seed: str
    mutators: tuple[Callable, ...]
    loaders: tuple[tuple[str, Callable, Callable], ...]   # (name, load(work, path), contract(result) -> bool)


def _rows_of_text(rows) -> bool:
    return isinstance(rows, list) and all(isinstance(r, dict) and all(isinstance(k, str) and isinstance(v, str)
                                                                       for k, v in r.items()) for r in rows)


def targets(sid: str, shape: tuple[int, int]) -> list[Target]:
    def table_loader(name):
        return (f"read_table[{name}]", lambda w, p: read_table(p),
                lambda rows: _rows_of_text(rows) and all(list(r) == TABLE_COLUMNS[name] for r in rows))

    decl = (("registry.read_rows", lambda w, p: read_rows(p), _rows_of_text),
            ("inspect.read_declaration_file", lambda w, p: read_declaration_file(p),
             lambda rows: _rows_of_text(rows) and not any(validation_errors("declarations", r) for r in rows)))
    labels = ("read_labels", lambda w, p: read_labels(w, sid, shape),
              lambda r: r[0].dtype == np.uint8 and r[0].shape == shape and isinstance(r[1], dict))
    return [
        Target("sidecar", f"scans/{sid}.json", "sidecar", (_json_mutate,),
               (("read_sidecar", lambda w, p: read_sidecar(p),
                 lambda d: isinstance(d, dict) and d.get("schema_version") == "1.0"),)),
        Target("label_json", f"labels/{sid}.json", "label_json", (_json_mutate,), (labels,)),
        Target("label_png", f"labels/{sid}.png", "label_png", (_png_mutate,), (labels,)),
        Target("scan_tiff", f"scans/{sid}.tiff", "tiff", (_tiff_mutate,),
               (("read_scan", lambda w, p: read_scan(p),
                 lambda a: a.ndim == 3 and a.shape[0] == 2 and a.dtype == np.uint16),)),
        *[Target(name, name, name, (_csv_mutate,), (table_loader(name),)) for name in TABLES],
        Target("declarations_csv", "pi-2025.csv", "declarations.csv", (_csv_mutate,), decl),
        Target("declarations_xlsx", "pi-2025.xlsx", "decl_xlsx", (_xlsx_mutate,), decl),
        Target("declaration_json", "decl.json", "decl_json", (_json_mutate,), decl[1:]),
    ]


def mutate(seed: bytes, target: Target, rng) -> bytes:
    """One structural mutation of the seed (or bytes, if that fails), sometimes a byte mutation on top."""
    out = None
    if rng.random() < 0.7:
        try:
            out = target.mutators[int(rng.integers(0, len(target.mutators)))](seed, rng)
        except Exception:          # a structural mutation that does not apply: fall back to bytes
            out = None
    if out is None or rng.random() < 0.25:
        byte = BYTE_MUTATORS[rng.choice(sorted(BYTE_MUTATORS))]
        out = byte(seed if out is None else out, rng)
    return out


def _on_alarm(signum, frame):
    raise Hang()


@dataclass
class Tally:
    cases: int = 0
    accepted: int = 0
    refused: int = 0
    crashed: int = 0
    broken_contract: int = 0
    crashes: Counter = field(default_factory=Counter)


def run(archive: Path, cases: int, seed: int = 0, time_limit_s: float = 30.0) -> dict:
    """Fuzz ``cases`` inputs, round robin over the targets; the per-loader tallies and the crash total."""
    seeds = make_seeds(Path(archive))
    sid = seeds["scan_id"].decode()
    shape = tifffile.imread(io.BytesIO(seeds["tiff"])).shape[1:]
    rng = np.random.default_rng(seed)
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    (work / "scans").mkdir()
    (work / "labels").mkdir()
    all_targets = targets(sid, shape)
    for t in all_targets:
        (work / t.file).write_bytes(seeds[t.seed])
    tallies: dict[str, Tally] = {}
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        for i in range(cases):
            target = all_targets[i % len(all_targets)]
            path = work / target.file
            path.write_bytes(mutate(seeds[target.seed], target, rng))
            for name, load, contract in target.loaders:
                tally = tallies.setdefault(name, Tally())
                tally.cases += 1
                signal.setitimer(signal.ITIMER_REAL, time_limit_s)
                try:
                    result = load(work, path)
                    tally.accepted += 1
                    if not contract(result):
                        tally.broken_contract += 1
                        tally.crashes[f"{target.name}: contract broken"] += 1
                except ArchiveError:
                    tally.refused += 1
                except (Exception, Hang) as exc:
                    tally.crashed += 1
                    tally.crashes[f"{target.name}: {type(exc).__name__}: {str(exc)[:160]}"] += 1
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            path.write_bytes(seeds[target.seed])
    finally:
        signal.signal(signal.SIGALRM, previous)
    loaders = {name: {"cases": t.cases, "accepted": t.accepted, "refused": t.refused, "crashed": t.crashed,
                      "broken_contract": t.broken_contract, "examples": [k for k, _ in t.crashes.most_common(5)]}
               for name, t in tallies.items()}
    return {"cases": cases, "seed": seed, "archive": str(archive), "loaders": loaders,
            "crashes": sum(t.crashed + t.broken_contract for t in tallies.values())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--archive", type=Path, default=Path("data/raw"), help="archive whose first scan seeds the cases")
    args = ap.parse_args()
    if not ArchivePaths(args.archive).scan_ids():
        raise SystemExit(f"bench_fuzz: no scans in {args.archive} (run `cargoscan synth` or pass --archive)")
    print(json.dumps(run(args.archive, args.cases, args.seed), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
