"""1520-gauge wagon sides: box cars, gondolas, hoppers, tank cars and container flats, with their stencils.

Russian-gauge wagons carry their 8-digit number in large white (sometimes black or yellow) digits on each
side, painted all together or as two groups of four, among the other stencils: load limit (``69,5`` or
``ГП 68 т``), tare (``Т 24,7``), volume (``120 м³``), the owner's ОКПО code, the last depot and capital
repairs in a painted frame (``ДР 12.05.24 ВЧДЭ-12``), small Cyrillic notes, and on many wagons the number
again, smaller, on the sill.
Sizes are millimetres scaled by ``k`` (pixels per mm) so that the number's digits get the wanted height.
"""

from __future__ import annotations

import numpy as np

from cargoscan.ocr import photo
from cargoscan.ocr.canvas import Face, Paint, body_colour, make_paint, pick, scaled
from cargoscan.ocr.containers import CONTAINER_BODIES
from cargoscan.ocr.lettering import word

#: Wagon type -> (body length mm, body side height mm, body paints RGB).
WAGONS = {
    "box": (15700, 2800, [(122, 48, 38), (96, 60, 44), (140, 70, 50), (70, 80, 90), (60, 90, 70)]),
    "gondola": (13900, 2060, [(60, 80, 60), (90, 70, 50), (110, 110, 105), (58, 54, 52), (120, 45, 35)]),
    "hopper": (12800, 3000, [(150, 150, 148), (120, 122, 120), (170, 100, 60), (90, 95, 100)]),
    "tank": (12000, 3000, [(30, 30, 32), (70, 70, 72), (180, 180, 175), (40, 40, 45)]),
    "flat": (13400, 3091, [(40, 40, 42), (80, 55, 40), (60, 60, 58)]),
}
WAGON_TYPES = tuple(WAGONS)
UNDER = 1150    # mm below the body: sill, bogie frames, wheels
#: Load limit t, tare t, volume m3 ranges per type.
STENCIL_VALUES = {"box": ((66, 70), (24.5, 27.5), (120, 158)), "gondola": ((69, 75), (22.0, 25.5), (83, 92)),
                  "hopper": ((70, 76), (22.0, 24.5), (95, 120)), "tank": ((60, 68), (23.0, 27.5), (73, 88)),
                  "flat": ((60, 72), (21.0, 24.0), None)}
CARGO = ["БЕНЗИН", "НЕФТЬ", "МАЗУТ", "ДИЗТОПЛИВО", "ПРОПАН"]
CITIES = ["ЧЕЛЯБИНСК", "ОМСК", "НОВОСИБИРСК", "ЕКАТЕРИНБУРГ", "КРАСНОЯРСК", "БАРНАУЛ"]


def wagon_face(rng: np.random.Generator, number: str, cap_px: float, p, night: bool) -> Face:
    """A wagon side with ``number`` painted ``cap_px`` high; the type is drawn from ``p.wagon_weights``."""
    weights = np.asarray(p.wagon_weights, np.float64)
    wtype = WAGON_TYPES[int(rng.choice(len(WAGON_TYPES), p=weights / weights.sum()))]
    length, height, paints = WAGONS[wtype]
    body = body_colour(rng, paints, p.p_faded)
    paint = make_paint(rng, body, night, p.p_wear)
    k = cap_px / (rng.uniform(100, 130) if wtype == "flat" else rng.uniform(150, 200))
    face = Face(int(length * k), int((height + UNDER) * k), body)
    y_num = _BODIES[wtype](face, rng, k, height, body)
    spaced = rng.random() < 0.4
    text = f"{number[:4]} {number[4:]}" if spaced else number
    stencil = rng.random() < p.p_stencil
    x = face.width * rng.uniform(0.08, 0.3) if wtype != "flat" else face.width * rng.uniform(0.1, 0.6)
    box = paint.put(face, text, "wagon_number", cap_px, x, y_num * k, is_id=True, stencil=stencil,
                    tracking=float(rng.uniform(0.05, 0.25)), word_gap=float(rng.uniform(1.5, 3.0)))
    _stencils(face, rng, paint, k, wtype, box, height, number)
    _undercarriage(face, rng, k, height)
    return face


def _posts(face: Face, k: float, y0: float, y1: float, n: int, width_mm: float, body) -> list[float]:
    """Vertical stanchions: hat-section posts that catch the light on one flank."""
    xs = list(np.linspace(face.width * 0.02, face.width * 0.98 - width_mm * k, n))
    for x in xs:
        face.fill(x, y0, x + width_mm * k, y1, scaled(body, 0.95),
                  photo.cylinder(int(width_mm * k) + 1, 0.5, 0.2))
    return xs


def _gondola(face, rng, k, height, body) -> float:
    face.fill(0, 0, face.width, 160 * k, scaled(body, 1.08), photo.cylinder(int(160 * k) + 1, 0.8, 0.1),
              axis=0)   # the top chord, a rolled section that catches the sky
    face.fill(0, (height - 260) * k, face.width, height * k, scaled(body, 0.8))
    _posts(face, k, 0, height * k, int(rng.integers(8, 11)), 170, body)
    return height * rng.uniform(0.2, 0.35)


def _box(face, rng, k, height, body) -> float:
    swage = np.ones(int(height * k) + 1, np.float32)   # horizontal pressed ribs across the wall
    for f in (0.3, 0.55, 0.8):
        y = int(height * k * f)
        swage[y: y + int(60 * k) + 1] = 1.15
        swage[y + int(60 * k): y + int(90 * k) + 1] = 0.8
    face.shade(0, 0, face.width, height * k, swage, axis=0)
    _posts(face, k, 0, height * k, int(rng.integers(10, 14)), 110, body)
    d0, d1 = face.width * 0.5 - 1900 * k, face.width * 0.5 + 1900 * k   # the sliding door
    face.fill(d0, 80 * k, d1, height * k, scaled(body, 1.05),
              photo.corrugation(int(d1 - d0) + 1, 300 * k, 0.12))
    face.fill(d0 - 40 * k, 40 * k, d1 + 40 * k, 110 * k, (40, 38, 36))
    face.fill(d0, 80 * k, d0 + 30 * k, height * k, (35, 33, 30))
    face.fill(d1 - 260 * k, height * k * 0.45, d1 - 200 * k, height * k * 0.6, (60, 60, 58))
    face.fill(0, (height - 200) * k, face.width, height * k, scaled(body, 0.7))
    return height * rng.uniform(0.12, 0.22)


def _hopper(face, rng, k, height, body) -> float:
    face.fill(0, 0, face.width, 120 * k, scaled(body, 1.1))
    _posts(face, k, 0, height * k * 0.75, int(rng.integers(8, 12)), 140, body)
    slope = height * k * 0.4   # the sloped ends over the discharge hatches: shade beneath
    face.poly([(0, height * k * 0.6), (slope, height * k), (0, height * k)], (30, 29, 28))
    face.poly([(face.width, height * k * 0.6), (face.width - slope, height * k), (face.width, height * k)],
              (30, 29, 28))
    return height * rng.uniform(0.12, 0.3)


def _tank(face, rng, k, height, body) -> float:
    face.fill(0, 0, face.width, 150 * k, (25, 28, 35))   # sky-dark above the barrel's shoulder
    face.fill(0, 150 * k, face.width, (height - 200) * k, body,
              photo.cylinder(int((height - 350) * k) + 1, -0.5, 0.4), axis=0)
    for f in (0.0, 1.0):   # dished ends: darker where the barrel curves away
        x = f * (face.width - 300 * k)
        face.fill(x, 150 * k, x + 300 * k, (height - 200) * k, scaled(body, 0.6))
    cx = face.width / 2
    face.fill(cx - 350 * k, 0, cx + 350 * k, 200 * k, scaled(body, 0.8))   # the dome and its ladder
    for dx in (-300, 300):
        face.fill(cx + dx * k, 0, cx + (dx + 25) * k, height * k, (90, 90, 88))
    if rng.random() < 0.6:   # the coloured band of flammable cargo
        face.fill(300 * k, height * k * 0.64, face.width - 300 * k, height * k * 0.7,
                  pick(rng, [(200, 40, 30), (220, 170, 30)]))
    face.fill(0, (height - 200) * k, face.width, height * k, (35, 34, 33))
    return height * rng.uniform(0.18, 0.3)


def _flat(face, rng, k, height, body) -> float:
    """A container flat: boxes on the deck, the number painted on the 500 mm side sill."""
    from cargoscan.ids import make_container_number

    top = 500.0
    x = 200 * k
    while x < face.width - 1000 * k:
        w = pick(rng, [6058, 12192]) * k
        colour = body_colour(rng, CONTAINER_BODIES, 0.3)
        face.fill(x, top * k, min(x + w, face.width), (height - 500) * k, colour,
                  photo.corrugation(int(w) + 1, 280 * k, 0.2))
        ink = (20.0, 20.0, 20.0) if np.mean(colour) > 150 else (235.0, 235.0, 230.0)
        Paint("roboto-condensed", ink, 0.9, 0.0, rng).put(
            face, make_container_number(rng), "container_code", 110 * k, min(x + w, face.width) - 500 * k,
            (top + 300) * k, "right")
        x += w + 150 * k
    face.fill(0, (height - 500) * k, face.width, height * k, body)
    face.fill(0, (height - 500) * k, face.width, (height - 470) * k, scaled(body, 1.6))
    return height - 400 + rng.uniform(0, 40)


_BODIES = {"box": _box, "gondola": _gondola, "hopper": _hopper, "tank": _tank, "flat": _flat}


def _stencils(face, rng, paint: Paint, k: float, wtype: str, box, height: float, number: str) -> None:
    """Load limit, tare, volume, owner, repairs and notes around the number, in Cyrillic."""
    load, tare, vol = STENCIL_VALUES[wtype]
    cap = box[3] - box[1]
    comma = lambda v: f"{v:.1f}".replace(".", ",")   # noqa: E731 - Russian stencils write decimal commas
    lo = rng.uniform(*load)
    x, y = box[0], box[3] + cap * 0.7
    small = cap * rng.uniform(0.45, 0.65)
    rows = [("load_limit", pick(rng, [comma(lo), f"ГП {round(lo)} т", f"{comma(lo)} т"])),
            ("tare", pick(rng, [f"Т {comma(rng.uniform(*tare))}", f"ТАРА {comma(rng.uniform(*tare))}"]))]
    if vol:
        v = int(rng.integers(*vol))
        rows.append(("volume", pick(rng, [f"{v} м³", f"V {v} м³"])))
    if wtype == "flat":   # on a sill there is only room beside the number
        x, y = box[2] + cap * 2, box[1]
        rows = rows[:1]
    for role, text in rows:
        y = paint.put(face, text, role, small, x, y)[3] + small * 0.5
    tiny = cap * rng.uniform(0.25, 0.4)
    if wtype != "flat":   # the repair frame and the notes, one panel further on
        rx, ry = box[2] + cap * rng.uniform(2, 5), box[1]
        if rx + 40 * tiny < face.width:
            day, month, year = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(19, 26))
            texts = [f"ДР {day:02d}.{month:02d}.{year} ВЧДЭ-{int(rng.integers(1, 30))}",
                     f"КР {int(rng.integers(1, 13)):02d}.{int(rng.integers(2012, 2024))} "
                     f"ВРЗ-{int(rng.integers(1, 9))}"]
            b0 = paint.put(face, texts[0], "repair", tiny, rx, ry)
            b1 = paint.put(face, texts[1], "repair", tiny, rx, b0[3] + tiny * 0.8)
            pad = tiny * 0.4
            for a, b in (((b0[0] - pad, b0[1] - pad), (max(b0[2], b1[2]) + pad, b0[1] - pad)),
                         ((b0[0] - pad, b1[3] + pad), (max(b0[2], b1[2]) + pad, b1[3] + pad)),
                         ((b0[0] - pad, b0[1] - pad), (b0[0] - pad, b1[3] + pad)),
                         ((max(b0[2], b1[2]) + pad, b0[1] - pad), (max(b0[2], b1[2]) + pad, b1[3] + pad))):
                face.line(a, b, paint.ink, max(1.0, tiny / 8))
            notes = [f"ОКПО {int(rng.integers(10 ** 7, 10 ** 8))}", f"СОБСТВЕННОСТЬ ООО «{word(rng, True)}»",
                     f"СТ. ПРИПИСКИ {pick(rng, CITIES)}", f"ДЛИНА {comma(rng.uniform(13.9, 19.7))} м"]
            y = b1[3] + tiny * 2
            for text in notes[: int(rng.integers(1, 5))]:
                y = paint.put(face, text, "stencil", tiny, rx, y)[3] + tiny * 0.7
    if wtype == "tank":   # the cargo's name, large, towards the other end of the barrel, clear of the notes
        paint.put(face, pick(rng, CARGO), "stencil", cap * 1.1, face.width * 0.85, height * k * 0.3, "centre")
    if rng.random() < 0.5 and wtype != "flat":   # the number again, small, on the sill
        paint.put(face, number, "wagon_number_repeat", cap * 0.35, face.width * rng.uniform(0.6, 0.85),
                  (height - 170) * k)


def _undercarriage(face: Face, rng, k: float, height: float) -> None:
    """Sill shadow, two 18-100 bogies with their cast side frames and 957 mm wheels."""
    y0 = height * k
    face.fill(0, y0, face.width, face.height, (26, 25, 24))
    wheel_y = y0 + (UNDER - 478 * 0.6) * k
    for bogie in (2200 * k, face.width - 2200 * k):
        for ax in (-925, 925):
            c = (bogie + ax * k, wheel_y)
            face.circle(c, 478 * k, (34, 33, 31))
            face.circle(c, 430 * k, (72, 67, 60))
            face.circle(c, 120 * k, (36, 35, 33))
        face.fill(bogie - 1250 * k, wheel_y - 350 * k, bogie + 1250 * k, wheel_y - 120 * k, (55, 50, 44))
        face.fill(bogie - 250 * k, wheel_y - 450 * k, bogie + 250 * k, wheel_y + 60 * k, (50, 46, 42))
