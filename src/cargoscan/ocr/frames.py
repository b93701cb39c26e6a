"""Synthetic camera frames: side views of wagons and container doors with their painted numbers.

A portal camera beside the track photographs each wagon's side (the 8-digit number is painted on the body or,
on flat wagons, on the side sill) and each container's doors (the ISO 6346 code in the top right, check digit
boxed). :func:`render_wagon_side` and :func:`render_container_door` draw such frames with the colours used on
rolling stock, :mod:`cargoscan.ocr.degrade` spoils them, and :func:`write_frames` writes one set per archive
scan into ``data/raw/frames`` with its ground truth (contract E). The portal has a camera on each side of the
track (``FrameParams.cameras``): each identifier is painted on both sides of its wagon or container, in the
unit's own colours, and each camera's frame is its own painting (font, layout), lighting and dirt. Camera 1's
frames are ``<position>_<view>.png``, camera k's ``<position>_<view>_cam<k>.png``; a folder with one camera only
(older archives) reads the same way.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from cargoscan.ocr.config import FrameParams
from cargoscan.ocr.degrade import degrade
from cargoscan.ocr.stencil import list_fonts, render_line

log = logging.getLogger(__name__)

FRAMES_DIR = "frames"
FRAMES_TABLE = "frames.csv"
FRAMES_COLUMNS = ["train_number", "position", "view", "camera", "wagon_number", "container_number", "file",
                  "degradations"]


def frame_name(position: int, view: str, camera: int = 1) -> str:
    """The file name of a frame: ``7_door1.png`` (camera 1), ``7_door1_cam2.png`` (camera 2)."""
    return f"{int(position)}_{view}{'' if camera == 1 else f'_cam{camera}'}.png"

#: Body colours by wagon family (RGB): oxide red and brown covered wagons, green/grey gondolas, black tanks.
WAGON_COLOURS: dict[str, list[tuple[int, int, int]]] = {
    "covered": [(122, 48, 38), (96, 60, 44), (140, 70, 50), (70, 80, 90)],
    "gondola": [(60, 80, 60), (90, 70, 50), (110, 110, 105), (58, 54, 52)],
    "tank": [(30, 30, 32), (70, 70, 72), (180, 180, 175)],
    "flat": [(40, 40, 42), (80, 55, 40)],
    "other": [(100, 90, 80)],
}
CONTAINER_COLOURS = [(170, 40, 35), (30, 70, 140), (40, 110, 60), (150, 150, 150), (225, 225, 220),
                     (220, 120, 30), (90, 40, 30), (200, 170, 40)]


@dataclass
class Frame:
    """One rendered camera frame with its ground truth."""

    image: np.ndarray                 # (H, W, 3) uint8 RGB
    text: str                         # the identifier painted in the frame, without spaces
    kind: str                         # "wagon" or "container"
    bbox: tuple[int, int, int, int]   # the painted text's box [x0, y0, x1, y1) in pixels (all its lines)
    degradations: list[str] = field(default_factory=list)
    lines: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)   # (text, box), reading order
    style: dict = field(default_factory=dict)   # the unit's own colours, shared by every camera that sees it


#: Line templates of the door marking (o: owner code + category, s: serial, c: the boxed check digit, t: the
#: ISO 6346 size-type code painted below, e.g. 45G1): one line, or owner code stacked over serial + check digit.
CONTAINER_LAYOUTS: list[list[str]] = [["o s c"], ["o s c", "t"], ["o", "s c"], ["o", "s c", "t"]]
LAYOUT_P = [0.35, 0.2, 0.25, 0.2]
SIZE_TYPES = ["22G1", "42G1", "45G1", "22R1", "45R1", "L5G1", "22U1", "22T6", "25G1", "42P1"]


def _ink_for(body: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    """White or yellow paint on dark bodies, black on light ones."""
    if np.mean(body) > 140:
        return np.array([20, 20, 20], np.float32)
    return np.array([235, 235, 230] if rng.random() < 0.75 else [235, 200, 40], np.float32)


def _paint(img: np.ndarray, mask: np.ndarray, x: int, y: int, ink: np.ndarray, opacity: float) -> tuple:
    h, w = mask.shape
    h, w = min(h, img.shape[0] - y), min(w, img.shape[1] - x)
    a = (mask[:h, :w] * opacity)[..., None]
    region = img[y: y + h, x: x + w]
    img[y: y + h, x: x + w] = region * (1 - a) + ink * a
    rows, cols = np.nonzero(mask[:h, :w] > 0.3)
    return (x + int(cols.min()), y + int(rows.min()), x + int(cols.max()) + 1, y + int(rows.max()) + 1)


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    sky = np.array([150, 170, 190], np.float32) * rng.uniform(0.7, 1.1)
    img = np.empty((h, w, 3), np.float32)
    img[:] = sky
    img[int(h * 0.85):] = np.array([90, 85, 75], np.float32) * rng.uniform(0.7, 1.2)   # ballast
    return img


def _text(rng: np.random.Generator, params: FrameParams, text: str, height: int, box_last: bool = False):
    font = list_fonts()[int(rng.integers(len(list_fonts())))]
    return render_line(text, font, height, spacing=float(rng.uniform(0.02, 0.2)),
                       stencil=bool(rng.random() < params.p_stencil), box_last=box_last)


def render_wagon_side(rng: np.random.Generator, number: str, wagon_type: str = "covered",
                      params: FrameParams = FrameParams(), style: dict | None = None) -> Frame:
    """A side view of a wagon with its 8-digit number painted on the body (on the side sill for flats).

    ``style`` (a frame's ``style``) paints the wagon in the colours another camera saw it in.
    """
    H, W = params.height, params.width
    img = _background(H, W, rng)
    colours = WAGON_COLOURS.get(wagon_type, WAGON_COLOURS["other"])
    body = style["body"] if style else colours[int(rng.integers(len(colours)))]
    top = int(H * rng.uniform(0.05, 0.15)) if wagon_type != "flat" else int(H * 0.55)
    bottom = int(H * 0.78)
    if wagon_type == "flat":   # containers stand on the flat: a block of container colour above the sill
        cc = style["cargo"] if style else CONTAINER_COLOURS[int(rng.integers(len(CONTAINER_COLOURS)))]
        img[int(H * 0.08): top - 2, 8: W - 8] = cc
        for x in range(16, W - 16, 9):
            img[int(H * 0.08): top - 2, x: x + 2] *= 0.8
    img[top:bottom] = body
    if wagon_type in ("covered", "gondola"):   # ribs: the side posts, lighter on their lit edge
        for x in range(int(rng.integers(10, 40)), W, int(rng.integers(50, 90))):
            img[top:bottom, x: x + 5] *= 0.75
            img[top:bottom, x + 5: x + 7] *= 1.15
    for cx in (int(W * 0.12), int(W * 0.22), int(W * 0.78), int(W * 0.88)):   # wheels of the two bogies
        cv2.circle(img, (cx, int(H * 0.88)), int(H * 0.09), (35, 33, 30), -1)
    band = bottom - top
    height = int(min(rng.uniform(20, 38), band * 0.7))
    spaced = number if rng.random() < 0.7 else number[:4] + " " + number[4:]
    mask = _text(rng, params, spaced, height)
    mh, mw = mask.shape
    x = int(rng.integers(8, max(9, W - mw - 8)))
    y = int(rng.integers(top + 2, max(top + 3, bottom - mh - 2)))
    bbox = _paint(img, mask, x, y, _ink_for(body, rng), float(rng.uniform(0.8, 1.0)))
    return Frame(np.clip(img, 0, 255).astype(np.uint8), number, "wagon", bbox, lines=[(number, bbox)],
                 style={"body": body, "cargo": cc if wagon_type == "flat" else None})


def render_container_door(rng: np.random.Generator, code: str, params: FrameParams = FrameParams(),
                          style: dict | None = None) -> Frame:
    """The door end of a container: corrugated doors, locking bars, the ISO 6346 code top right.

    The code is painted as ISO 6346 marks it: owner code and category ("CSQU"), serial ("305438") and the
    boxed check digit ("3"), on one line or stacked (owner code above the serial), see :data:`CONTAINER_LAYOUTS`.
    """
    H, W = params.height, params.width
    img = _background(H, W, rng)
    body = style["body"] if style else CONTAINER_COLOURS[int(rng.integers(len(CONTAINER_COLOURS)))]
    x0, x1, y0, y1 = int(W * 0.03), int(W * 0.97), int(H * 0.03), int(H * 0.9)
    img[y0:y1, x0:x1] = body
    for x in range(x0 + 6, x1, int(rng.integers(14, 24))):   # corrugation
        img[y0:y1, x: x + 3] *= 0.85
    for x in (int(W * 0.3), int(W * 0.42), int(W * 0.58), int(W * 0.7)):   # locking bars
        img[y0:y1, x: x + 4] = (120, 120, 118)
    img[y0:y1, W // 2 - 1: W // 2 + 2] = (25, 25, 25)                    # the door seam
    ink, opacity = _ink_for(body, rng), float(rng.uniform(0.8, 1.0))
    layout = CONTAINER_LAYOUTS[int(rng.choice(len(CONTAINER_LAYOUTS), p=LAYOUT_P))]
    height = int(rng.uniform(18, 32))
    boxed = bool(rng.random() < 0.8)
    fill = {"o": code[:4], "s": code[4:10], "c": code[10], "t": SIZE_TYPES[int(rng.integers(len(SIZE_TYPES)))]}
    masks = []
    for template in layout:
        painted = " ".join(fill[k] for k in template.split())
        masks.append((_text(rng, params, painted, height, box_last=boxed and template.endswith("c")), painted))
    widest = max(m.shape[1] for m, _ in masks)
    right = int(rng.integers(max(x0 + widest + 4, W - 140), max(x0 + widest + 5, W - 14)))
    y = int(rng.integers(y0 + 4, y0 + 40))
    left_aligned = rng.random() < 0.5     # stacked lines are painted flush left or flush right
    lines = []
    for mask, painted in masks:
        mh, mw = mask.shape
        x = right - widest if left_aligned else right - mw
        lines.append((painted.replace(" ", ""), _paint(img, mask, x, y, ink, opacity)))
        y += int(mh * rng.uniform(0.95, 1.3))        # the next line below, with a little leading
    code_boxes = [b for t, b in lines if t != fill["t"]]   # the size-type line is not part of the code
    bbox = (min(b[0] for b in code_boxes), min(b[1] for b in code_boxes), max(b[2] for b in code_boxes),
            max(b[3] for b in code_boxes))
    return Frame(np.clip(img, 0, 255).astype(np.uint8), code, "container", bbox, lines=lines, style={"body": body})


def render_degraded(rng: np.random.Generator, text: str, kind: str, wagon_type: str = "covered",
                    params: FrameParams = FrameParams(), style: dict | None = None) -> Frame:
    """Render a frame of a wagon number or container code and spoil it like a real camera would.

    ``style``: the colours another camera saw the same unit in (its frame's ``style``); default drawn anew.
    """
    frame = (render_wagon_side(rng, text, wagon_type, params, style) if kind == "wagon"
             else render_container_door(rng, text, params, style))
    frame.image, boxes, frame.degradations = degrade(frame.image, [frame.bbox] + [b for _, b in frame.lines],
                                                     rng, params)
    frame.bbox, frame.lines = boxes[0], [(t, b) for (t, _), b in zip(frame.lines, boxes[1:])]
    return frame


def write_frames(out_dir: str | Path, units: list[dict], rng: np.random.Generator,
                 params: FrameParams = FrameParams()) -> Path:
    """Render and write the frames of a list of wagons, with the ground-truth table.

    Args:
        out_dir: the frames folder (``data/raw/frames``).
        units: one dict per wagon: ``train_number``, ``position``, ``wagon_number``, ``wagon_type``,
            ``container_numbers``. A wagon whose number is unknown (None) gets no side view.
        rng: the random generator.
        params: frame parameters.

    Returns:
        The path of ``frames.csv``.
    """
    from PIL import Image

    from cargoscan.logs import progress

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    # Camera 1 draws from ``rng`` exactly as a one-camera portal did (its frames do not change with the number of
    # cameras); every further camera from a stream of its own spawned from it.
    extra = rng.spawn(params.cameras - 1)
    with progress() as bar:
        task = bar.add_task("frames", total=len(units))
        for u in units:
            views = []
            if u.get("wagon_number"):
                views.append(("side", u["wagon_number"], "wagon"))
            views += [(f"door{i + 1}", c, "container") for i, c in enumerate(u.get("container_numbers") or [])]
            styles: dict[str, dict] = {}   # a wagon or container is the same colour whichever side it is seen from
            for camera, cam_rng in enumerate([rng] + extra, start=1):
                for view, text, kind in views:
                    frame = render_degraded(cam_rng, text, kind, u.get("wagon_type") or "covered", params,
                                            styles.get(view))
                    styles.setdefault(view, frame.style)
                    rel = Path(str(u["train_number"])) / frame_name(u["position"], view, camera)
                    (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(frame.image).save(out_dir / rel)
                    rows.append({"train_number": u["train_number"], "position": int(u["position"]), "view": view,
                                 "camera": camera, "wagon_number": u.get("wagon_number") or "",
                                 "container_number": text if kind == "container" else "",
                                 "file": rel.as_posix(), "degradations": ";".join(frame.degradations)})
            bar.advance(task)
    table = out_dir / FRAMES_TABLE
    with table.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FRAMES_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    log.info("wrote %d frames of %d wagons to %s", len(rows), len(units), out_dir)
    return table


def archive_units(root: str | Path) -> list[dict]:
    """The wagons of an archive: identities from the sidecars, positions from ``rfid.csv``.

    A scan's position in its train is the RFID reader's ``position`` for the row whose payload equals the
    sidecar's wagon number; scans without such a read get the next free position of their train in time order.
    """
    import pandas as pd

    from cargoscan.archive.format import RFID_TABLE, SCANS_DIR
    from cargoscan.archive.io import read_sidecar

    root = Path(root)
    sidecars = sorted((root / SCANS_DIR).glob("*.json"))
    if not sidecars:
        raise FileNotFoundError(f"{root / SCANS_DIR}: no scan sidecars")
    docs = sorted((read_sidecar(p) for p in sidecars), key=lambda d: (d["train_number"], d["scanned_at"]))
    positions: dict[tuple[str, str], int] = {}
    rfid_path = root / RFID_TABLE
    if rfid_path.exists():
        rfid = pd.read_csv(rfid_path, dtype=str)
        for r in rfid.itertuples():
            positions.setdefault((r.train_number, str(r.tag_payload)), int(r.position))
    units, used = [], {}
    for d in docs:
        train = d["train_number"]
        pos = positions.get((train, d.get("wagon_number") or ""))
        taken = used.setdefault(train, set())
        if pos is None or pos in taken:
            pos = max(taken, default=0) + 1
        taken.add(pos)
        units.append({"train_number": train, "position": pos, "scan_id": d["scan_id"],
                      "wagon_number": d.get("wagon_number"), "wagon_type": d.get("wagon_type") or "other",
                      "container_numbers": list(d.get("container_numbers") or [])})
    return units


def synthetic_units(n: int, rng: np.random.Generator, train_size: int = 50) -> list[dict]:
    """Random wagons (identities from :mod:`cargoscan.ids`) for training and benchmarks without an archive."""
    from cargoscan.ids import make_container_number, make_wagon_number

    units = []
    for i in range(n):
        kind = ["covered", "gondola", "tank", "flat"][int(rng.integers(4))]
        n_cont = int(rng.integers(1, 3)) if kind == "flat" else 0
        units.append({"train_number": f"{2000 + i // train_size}", "position": i % train_size + 1, "scan_id": None,
                      "wagon_number": make_wagon_number(kind, rng), "wagon_type": kind,
                      "container_numbers": [make_container_number(rng) for _ in range(n_cont)]})
    return units
