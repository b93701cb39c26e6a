"""Rendered text-line crops: the recogniser's own training stream, without full frames or the detector.

The recogniser only ever sees one painted line, cut from around a box and scaled to its input height. Rendering a
whole 640x240 frame (wagon body, bogies, door, six degradations) for each line is wasted work, and it made letters
scarce: a frame holds one identifier, a wagon number has none. Here each sample is a small patch of painted body
(ribs or corrugation, locking bars, seams) with the line at frame scale (the same stencil fonts and sizes as
:mod:`cargoscan.ocr.frames`), sometimes a neighbouring line above or below as on stacked door codes, spoiled by
the same :func:`~cargoscan.ocr.degrade.degrade` as the frames, then cut by :func:`~cargoscan.ocr.detect.crop_line`
around a box jittered as much as the detector's boxes are off (heat-map cells are 5 frame pixels). The texts mix
wagon numbers, container codes (one line, owner code alone, serial with its boxed check digit), size-type codes
and letter-heavy random strings so that every letter class is seen about as often as every digit.
"""

from __future__ import annotations

import string

import numpy as np
import torch

from cargoscan.ids import make_container_number, make_wagon_number
from cargoscan.ocr.config import OcrParams
from cargoscan.ocr.degrade import degrade
from cargoscan.ocr.detect import crop_line, to_gray
from cargoscan.ocr.frames import CONTAINER_COLOURS, SIZE_TYPES, WAGON_COLOURS, _ink_for, _paint
from cargoscan.ocr.lettering import compose, list_scene_fonts
from cargoscan.ocr.model import ALPHABET, BLANK, encode
from cargoscan.ocr.stencil import list_fonts, render_line

#: Prefix of a scene face's name among the training faces (the two modules name their faces independently).
SCENE_FACE = "scene:"

#: Random strings: letters four times as likely as digits (codes and wagon numbers bring digits enough).
_LETTER_HEAVY = np.array([1.0] * 10 + [4.0] * 26) / (10 + 4 * 26)
_BODIES = [c for cs in WAGON_COLOURS.values() for c in cs] + CONTAINER_COLOURS

#: Line kinds and their shares: (name, probability).
LINE_KINDS = [("wagon", 0.16), ("code", 0.2), ("owner", 0.16), ("serial", 0.1), ("size_type", 0.04),
              ("random", 0.24), ("confusable", 0.1)]

#: Glyphs the recogniser still mixes up on the archive (M/W, G/Q/C, T/J/I/1, O/0/D): a share of the lines are
#: made of them only, so that the network sees each pair side by side, in the same font and degradation.
CONFUSABLE = "MWGQCTJI1O0DHN"

#: Box jitter of a training crop (fractions of the line height, drawn uniformly): left, top, right, bottom.
CROP_JITTER = ((-0.1, 0.6), (-0.15, 0.3), (-0.1, 0.6), (-0.15, 0.3))


def line_text(rng: np.random.Generator) -> tuple[str, bool]:
    """A line as painted (spaces included) and whether its last character is boxed (the check digit)."""
    kind = LINE_KINDS[int(rng.choice(len(LINE_KINDS), p=[p for _, p in LINE_KINDS]))][0]
    owner = "".join(rng.choice(list(string.ascii_uppercase), size=3))
    code = make_container_number(rng, owner)
    boxed = bool(rng.random() < 0.8)
    if kind == "wagon":
        number = make_wagon_number(["covered", "gondola", "tank", "flat"][int(rng.integers(4))], rng)
        return (number if rng.random() < 0.7 else number[:4] + " " + number[4:]), False
    if kind == "code":
        return f"{code[:4]} {code[4:10]} {code[10]}", boxed
    if kind == "owner":
        return code[:4], False
    if kind == "serial":
        return f"{code[4:10]} {code[10]}", boxed
    if kind == "size_type":
        return SIZE_TYPES[int(rng.integers(len(SIZE_TYPES)))], False
    n = int(rng.integers(4, 12))
    if kind == "confusable":
        return "".join(rng.choice(list(CONFUSABLE), size=n)), False
    return "".join(rng.choice(list(ALPHABET), size=n, p=_LETTER_HEAVY)), False


def training_faces() -> list[str]:
    """The faces a training line is painted in: the archive frames' (:mod:`cargoscan.ocr.stencil`) and the
    condensed faces of the realistic scenes (:mod:`cargoscan.ocr.lettering`), so the recogniser learns the digit
    shapes it meets on real doors (trained on the archive's faces alone, it read a condensed 3 as 5, confidently,
    and a double 3→5 substitution passes a wagon number's check digit)."""
    return list_fonts() + [SCENE_FACE + name for name in list_scene_fonts()]


def line_mask(text: str, font: str, height: int, spacing: float, stencil: bool, box_last: bool) -> np.ndarray:
    """One painted line's ink mask in a face of :func:`training_faces` (cap height ``height`` px)."""
    if font.startswith(SCENE_FACE):
        return compose(text, font[len(SCENE_FACE):], height, tracking=spacing, stencil=stencil,
                       box_last=box_last).mask
    return render_line(text, font, height, box_last=box_last, spacing=spacing, stencil=stencil)


def render_line_patch(rng: np.random.Generator, text: str, params: OcrParams,
                      box_last: bool = False) -> tuple[np.ndarray, tuple[int, int, int, int], list[str]]:
    """A patch of painted body carrying one line of text, degraded like a camera frame.

    Returns:
        The (H, W, 3) uint8 patch, the line's box in it, and the degradations applied.
    """
    fp = params.frames
    fonts = training_faces()
    font = fonts[int(rng.integers(len(fonts)))]
    height = int(rng.uniform(18, 38))
    style = dict(spacing=float(rng.uniform(0.02, 0.2)), stencil=bool(rng.random() < fp.p_stencil))
    mask = line_mask(text, font, height, box_last=box_last, **style)
    mh, mw = mask.shape
    H, W = 3 * mh, mw + int(rng.uniform(1.5, 3.0) * mh)
    body = _BODIES[int(rng.integers(len(_BODIES)))]
    img = np.empty((H, W, 3), np.float32)
    img[:] = body
    if rng.random() < 0.8:    # ribs of a wagon side or corrugation of a door, darker with a lit edge
        period, start = int(rng.integers(12, 90)), int(rng.integers(0, 12))
        for x in range(start, W, period):
            img[:, x: x + 4] *= rng.uniform(0.7, 0.88)
            img[:, x + 4: x + 6] *= 1.12
    for _ in range(int(rng.integers(0, 3))):   # locking bars and the door seam run through door codes
        x = int(rng.integers(0, W - 4))
        img[:, x: x + int(rng.integers(2, 5))] = (120, 120, 118) if rng.random() < 0.6 else (25, 25, 25)
    if rng.random() < 0.15:   # the top edge of the body: sky above it
        img[: int(rng.uniform(0.1, 0.3) * H)] = np.array([150, 170, 190], np.float32) * rng.uniform(0.7, 1.1)
    ink, opacity = _ink_for(body, rng), float(rng.uniform(0.8, 1.0))
    x0, y0 = int(rng.integers(mh // 2, W - mw - mh // 2 + 1)), mh
    for above in (True, False):   # neighbouring lines of a stacked code, flush left or right with this one
        if rng.random() < 0.3:
            other, boxed = line_text(rng)
            m2 = line_mask(other, font, height, box_last=boxed, **style)[:, : W - 1]
            lead = int(m2.shape[0] * rng.uniform(0.95, 1.3)) if above else int(mh * rng.uniform(0.95, 1.3))
            y = y0 - lead if above else y0 + lead
            x = x0 if rng.random() < 0.5 else max(0, x0 + mw - m2.shape[1])
            if 0 <= y and y + m2.shape[0] <= H and x + m2.shape[1] <= W:
                _paint(img, m2, x, y, ink, opacity)
    box = _paint(img, mask, x0, y0, ink, opacity)
    image, box, applied = degrade(np.clip(img, 0, 255).astype(np.uint8), box, rng, fp)
    return image, box, applied


#: Lines per rendering task: each has its own seed (spawned from the dataset's), so the data do not depend on how
#: many processes render them.
CHUNK = 1000


def _render_chunk(n_lines: int, params: OcrParams, seed: np.random.SeedSequence,
                  texts: list[str] | None) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    xs, ws, ys, lens = [], [], [], []
    for _ in range(n_lines):
        if texts:
            text, boxed = texts[int(rng.integers(len(texts)))], False
        else:
            text, boxed = line_text(rng)
        image, box, _ = render_line_patch(rng, text, params, boxed)
        gray = to_gray(image)
        label = encode(text)
        for _ in range(params.train.crops_per_frame):
            pad = tuple(rng.uniform(lo, hi) for lo, hi in CROP_JITTER)
            crop = crop_line(gray, box, params.rec_input, pad)
            xs.append(crop.astype(np.float16))
            ws.append(content_width(crop))
            ys.append(label + [BLANK] * (11 - len(label)))
            lens.append(len(label))
    return {"rec_x": np.stack(xs), "rec_w": np.array(ws), "rec_y": np.array(ys), "rec_len": np.array(lens)}


def render_line_dataset(n_lines: int, params: OcrParams, seed: int, texts: list[str] | None = None,
                        workers: int = 1) -> dict[str, torch.Tensor]:
    """Render line patches and cut jittered crops of them for the recogniser.

    Args:
        n_lines: how many patches (each gives ``params.train.crops_per_frame`` crops).
        params: the ``ocr:`` parameters.
        seed: the rendering seed.
        texts: optional fixed lines to draw from (tests); default :func:`line_text`.
        workers: rendering processes (the same data for any number).

    Returns:
        ``rec_x`` (M, 1, H, W) float16 crops, ``rec_w`` (M,) their content widths, ``rec_y`` (M, 11) padded
        labels and ``rec_len`` (M,) label lengths.
    """
    from concurrent.futures import ProcessPoolExecutor

    from cargoscan.logs import progress

    sizes = [min(CHUNK, n_lines - i) for i in range(0, n_lines, CHUNK)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    with progress(transient=True) as bar:
        task = bar.add_task("render text lines", total=n_lines)
        if workers > 1 and len(sizes) > 1:
            with ProcessPoolExecutor(workers) as pool:
                futures = [pool.submit(_render_chunk, k, params, s, texts) for k, s in zip(sizes, seeds)]
                for f, k in zip(futures, sizes):
                    f.add_done_callback(lambda _, k=k: bar.advance(task, k))
                parts = [f.result() for f in futures]
        else:
            parts = []
            for k, s in zip(sizes, seeds):
                parts.append(_render_chunk(k, params, s, texts))
                bar.advance(task, k)
    return {key: torch.from_numpy(np.concatenate([p[key] for p in parts])) for key in parts[0]}


def content_width(crop: np.ndarray) -> int:
    """The width of a crop's image part (the rest is zero padding, see :func:`crop_line`)."""
    cols = np.nonzero(np.abs(crop[0]).max(axis=0) > 0)[0]
    return int(cols[-1]) + 1 if len(cols) else 1
