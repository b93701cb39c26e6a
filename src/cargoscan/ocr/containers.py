"""Container faces: the door end and the side wall, laid out in millimetres as ISO 6346 marks them.

The door end: two corrugated leaves between corner posts, a seam down the middle, four locking bars with cam
keepers and handles, hinges. The identifier sits in the upper right of the right leaf (or is stacked on the
right corner post) with the size-type code below it; the left leaf carries the weight table, the CSC plate and
often a company name. The side wall: trapezoidal corrugation, the code in its upper right corner, sometimes a
large company name. Both stand on a flat wagon whose sill and bogies fill the bottom of the face.

Locking bars are the one thing that crosses the code on real doors, and painters leave them in the gaps
between the groups. :func:`_bar_positions` does the same: a bar never covers a glyph of the identifier,
except (with ``p_bar_touch``) a sliver of at most a quarter of one glyph.
"""

from __future__ import annotations

import numpy as np

from cargoscan.ocr import photo
from cargoscan.ocr.canvas import Face, Paint, body_colour, make_paint, pick, scaled
from cargoscan.ocr.lettering import Lettering, compose, word

#: Size-type code -> (length mm, height mm, tare kg range, max gross kg, cubic capacity m3).
SIZE_TYPES = {
    "22G1": (6058, 2591, (2150, 2350), 30480, 33.2),
    "42G1": (12192, 2591, (3700, 3900), 32500, 67.7),
    "45G1": (12192, 2896, (3800, 4050), 32500, 76.3),
    "22R1": (6058, 2591, (2900, 3150), 30480, 28.3),
    "L5G1": (13716, 2896, (4700, 4950), 32500, 86.0),
}
#: Container paints (RGB): blues, reds, green, greys, brown, white, orange, maroon.
CONTAINER_BODIES = [(28, 68, 140), (22, 52, 100), (160, 38, 32), (125, 32, 30), (38, 100, 60),
                    (135, 138, 140), (95, 98, 100), (100, 52, 34), (225, 225, 218), (222, 118, 30),
                    (110, 30, 40)]
#: Dangerous-goods class -> (placard colour, symbol colour).
HAZARDS = {"3": ((200, 30, 30), (15, 15, 15)), "2": ((30, 140, 60), (250, 250, 250)),
           "8": ((240, 240, 240), (15, 15, 15)), "9": ((240, 240, 240), (15, 15, 15)),
           "5.1": ((235, 200, 30), (15, 15, 15))}
DOOR_WIDTH = 2438
CARRIER = 1100   # mm of flat wagon below the container: sill, bogie frames, wheels


# --- the identifier ---------------------------------------------------------------------------------------

def id_groups(code: str, layout: str) -> list[list[tuple[str, str, bool]]]:
    """Lines of (text, role, boxed) segments: how each layout splits ``CSQU3054383``."""
    owner, serial, check = code[:4], code[4:10], code[10]
    if layout == "one_line":
        return [[(f"{owner} {serial} {check}", "code", True)]]
    if layout == "two_line":
        return [[(owner, "owner", False)], [(serial, "serial", False), (check, "check", True)]]
    return [[(owner, "owner", False)], [(serial, "serial", False)], [(check, "check", True)]]


def compose_id(code: str, layout: str, font: str, cap: float, tracking: float) -> list[list[tuple]]:
    """The identifier's lines as (text, role, lettering, boxed) segments."""
    vertical = layout == "vertical"
    return [[(t, r, compose(t, font, cap, tracking=tracking, word_gap=1.4, box_last=b, vertical=vertical), b)
             for t, r, b in line] for line in id_groups(code, layout)]


def _w(lt: Lettering) -> float:
    return lt.box[2] - lt.box[0]


def block_size(lines, cap: float, vertical: bool) -> tuple[float, float]:
    """Width and height of the identifier block as :func:`place_id` lays it out."""
    segs = [s for ln in lines for s in ln]
    if vertical:   # one column, a gap between groups
        return max(_w(s[2]) for s in segs), sum(s[2].box[3] - s[2].box[1] + 0.6 * cap for s in segs)
    return (max(sum(_w(s[2]) for s in ln) + 0.5 * cap * (len(ln) - 1) for ln in lines),
            len(lines) * cap * 1.5)


def place_id(face: Face, paint: Paint, lines, x: float, y: float, cap: float, align: str,
             vertical: bool) -> tuple[list[tuple[float, float]], tuple[float, float, float, float]]:
    """Write the identifier with its block's top-right (``align="right"``), top-left or top-centre (vertical)
    at (x, y). Returns the x-intervals of its glyphs and check-digit frame, and the block's box."""
    spans, boxes, gap = [], [], cap * 0.5
    for ln in lines:
        cx = x - (sum(_w(s[2]) for s in ln) + gap * (len(ln) - 1)) if align == "right" else x
        for text, role, lt, boxed in ln:
            left = x - _w(lt) / 2 if vertical else cx
            box = face.write(text, role, lt, left, y, paint.ink, paint.alpha, paint.rng, paint.wear * 0.5,
                             vertical, is_id=True)
            dx = box[0] - lt.box[0]
            spans += [(b[0] + dx, b[2] + dx) for b in lt.boxes if b is not None]
            if boxed:    # the frame round the check digit sticks out of the glyph
                spans.append((spans[-1][0] - cap * 0.3, spans[-1][1] + cap * 0.3))
            boxes.append(box)
            cx += _w(lt) + gap
            if vertical:
                y = box[3] + 0.6 * cap
        if not vertical:
            y = max(b[3] for b in boxes) + gap
    return spans, (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                   max(b[3] for b in boxes))


# --- the face -------------------------------------------------------------------------------------------

def container_face(rng: np.random.Generator, code: str, layout: str, cap_px: float, p, night: bool) -> Face:
    """A door end or side wall with ``code`` painted in ``layout``, its capitals ``cap_px`` high."""
    size_type = pick(rng, list(SIZE_TYPES))
    length, height = SIZE_TYPES[size_type][:2]
    view = "side" if rng.random() < p.p_side_wall else "door"
    body = body_colour(rng, CONTAINER_BODIES, p.p_faded)
    paint = make_paint(rng, body, night, p.p_wear)
    vertical = layout == "vertical"
    lines = compose_id(code, layout, paint.font, cap_px, float(rng.uniform(0.03, 0.2)))
    bw, bh = block_size(lines, cap_px, vertical)
    # px per mm: codes are painted 80-130 mm high, but never wider than their panel (or taller than the post)
    k = cap_px / (rng.uniform(80, 100) if vertical else rng.uniform(100, 130))
    panel = 1000 if view == "door" else 2400
    k = max(k, bh / (0.7 * height)) if vertical else max(k, bw / (0.8 * panel))
    face = Face(int((DOOR_WIDTH if view == "door" else length) * k), int((height + CARRIER) * k), body)
    args = (face, rng, k, height, paint, lines, cap_px, size_type, p, vertical)
    if view == "door":
        _door(*args)
    else:
        _side(*args)
    _carrier(face, rng, k, height, view)
    return face


def _frame_parts(face: Face, k: float, height: float, post: float, top: float, bottom: float) -> None:
    body = face.base
    face.fill(0, 0, face.width, top * k, scaled(body, 0.82), photo.cylinder(int(top * k), 0.8, 0.1), axis=0)
    face.fill(0, (height - bottom) * k, face.width, height * k, scaled(body, 0.72))
    for x0 in (0, face.width - post * k):
        face.fill(x0, 0, x0 + post * k, height * k, scaled(body, 0.9),
                  photo.cylinder(int(post * k), -0.3, 0.1))
    for x0 in (0, face.width - 178 * k):   # corner castings with their oval apertures
        for y0 in (0, (height - 118) * k):
            face.fill(x0, y0, x0 + 178 * k, y0 + 118 * k, (120, 118, 112))
            face.circle((x0 + 89 * k, y0 + 59 * k), 28 * k, (25, 25, 25))


def _hc_stripes(face: Face, k: float, xs, y: float) -> None:
    """Yellow-and-black hatching on the top corners of 9'6" high-cube boxes."""
    for x in xs:
        face.fill(x, y, x + 300 * k, y + 90 * k, (230, 190, 20))
        for i in range(0, 300, 75):
            face.poly([(x + i * k, y + 90 * k), (x + (i + 35) * k, y + 90 * k), (x + (i + 65) * k, y),
                       (x + (i + 30) * k, y)], (20, 20, 20))


def _door(face, rng, k, height, paint, lines, cap, size_type, p, vertical) -> None:
    col_w = max(_w(s[2]) for ln in lines for s in ln)
    post = max(110.0, (col_w / k + 50)) if vertical else 110.0
    top, bottom, seam = 230.0, 250.0, face.width / 2
    _frame_parts(face, k, height, post, top, bottom)
    y0, y1 = top * k, (height - bottom) * k
    leaves = [(post * k, y0, seam - 4, y1), (seam + 4, y0, face.width - post * k, y1)]
    period, depth = rng.uniform(240, 330) * k, rng.uniform(0.08, 0.22)
    for x0, _, x1, _ in leaves:
        profile = photo.corrugation(int(x1 - x0) + 1, period, depth, rng.uniform(0, period))
        face.fill(x0, y0, x1, y1, face.base, profile)
    face.fill(seam - 6 * k, top * k, seam + 6 * k, (height - bottom) * k, (22, 22, 22))
    for x in (post * k, face.width - (post + 30) * k):   # hinges on the posts
        for f in (0.15, 0.4, 0.65, 0.88):
            face.fill(x, height * k * f, x + 30 * k, height * k * f + 110 * k, scaled(face.base, 0.6))
    if height > 2800:
        _hc_stripes(face, k, (post * k, face.width - (post + 300) * k), 20 * k)
    lx0, ly0, _, _ = leaves[0]
    rx0, ry0, rx1, _ = leaves[1]
    if vertical:    # stacked on the right corner post, which no bar crosses
        cx = face.width - post * k / 2
        _, block = place_id(face, paint, lines, cx, ry0 + rng.uniform(80, 300) * k, cap, "centre", True)
        spans = []
        paint.put(face, size_type, "size_type", cap * rng.uniform(0.7, 0.9), cx, block[3] + cap, "centre",
                  vertical=True)
    else:           # mostly flush right; some painters start from the leaf's left
        align = "right" if rng.random() < 0.75 else "left"
        x = rx1 - rng.uniform(60, 200) * k if align == "right" else rx0 + rng.uniform(100, 200) * k
        spans, block = place_id(face, paint, lines, x, ry0 + rng.uniform(80, 260) * k, cap, align, False)
        paint.put(face, size_type, "size_type", cap * rng.uniform(0.75, 1.0),
                  block[2] if align == "right" else block[0], block[3] + cap * rng.uniform(0.6, 1.0), align)
    y = ly0 + rng.uniform(60, 150) * k
    if rng.random() < p.p_logo:
        y = paint.put(face, word(rng), "logo", rng.uniform(90, 170) * k, lx0 + rng.uniform(80, 250) * k, y)[3]
        y += rng.uniform(120, 250) * k
    _weight_table(face, rng, paint, k, lx0 + rng.uniform(100, 300) * k, y, size_type)
    _csc_plate(face, rng, paint, k, lx0 + rng.uniform(150, 450) * k, height * k * rng.uniform(0.6, 0.7))
    if rng.random() < p.p_hazard:
        _hazard(face, rng, paint, k, (rx0 + rx1) / 2, height * k * rng.uniform(0.6, 0.72))
    touch = rng.random() < p.p_bar_touch
    _bars(face, rng, k, height, leaves[0], [0.28, 0.78], [], False)
    _bars(face, rng, k, height, leaves[1], [0.22, 0.72], spans, touch)


def _bars(face, rng, k, height, leaf, fractions, spans, touch) -> None:
    """Two locking bars on a leaf: round rods with cam keepers at the ends, guides and a handle."""
    x0, _, x1, _ = leaf
    bw = 45 * k
    colour = (168, 168, 162) if rng.random() < 0.6 else scaled(face.base, 1.05)
    nominal = [x0 + (x1 - x0) * (f + rng.uniform(-0.05, 0.05)) for f in fractions]
    # the footprint includes the guides that stick out 15 mm each side of the rod
    for x in _bar_positions(nominal, x0, x1 - bw, bw, spans, touch, lips=25 * k):
        face.fill(x, 40 * k, x + bw, (height - 40) * k, colour, photo.cylinder(int(bw) + 1, 0.4, 0.35))
        for y in (60 * k, (height - 200) * k):
            face.fill(x - 25 * k, y, x + bw + 25 * k, y + 140 * k, scaled(colour, 0.7))
        for f in (0.3, 0.75):
            y = height * k * f
            face.fill(x - 15 * k, y, x + bw + 15 * k, y + 30 * k, scaled(colour, 0.8))
        hy = height * k * rng.uniform(0.5, 0.58)
        face.fill(x - 20 * k, hy - 40 * k, x + bw + 20 * k, hy + 40 * k, scaled(colour, 0.75))
        hx = x - 320 * k if x > (x0 + x1) / 2 else x + bw
        face.fill(hx, hy - 18 * k, hx + 320 * k, hy + 18 * k, colour,
                  photo.cylinder(int(36 * k) + 1, 0.5, 0.3), axis=0)


def _bar_positions(nominal, lo, hi, bw, spans, touch, lips: float = 0.0) -> list[float]:
    """Left edges of rods ``bw`` wide, nearest their nominal places, whose footprint (the rod and ``lips`` of
    guide each side) misses the identifier's glyphs (x-intervals ``spans``).

    With ``touch`` the first rod is moved onto the edge of one glyph, covering at most a quarter of it (when
    it can be), as happens where a painter did not quite clear the rod.
    """
    cands = np.arange(lo + lips, max(lo + lips + 1, hi - lips), 1.0)
    ok = np.ones(len(cands), bool)
    graze = np.zeros(len(cands), bool)
    if spans:
        s = np.float32(spans)
        def overlap(a, b):
            return np.clip(np.minimum(b[:, None], s[:, 1]) - np.maximum(a[:, None], s[:, 0]), 0, None)
        ok = overlap(cands - lips, cands + bw + lips).sum(axis=1) == 0
        if touch:
            ov = overlap(cands, cands + bw)
            frac = ov / np.maximum(s[:, 1] - s[:, 0], 1)
            graze = (np.count_nonzero(ov, axis=1) == 1) & (frac.max(axis=1) <= 0.25)
    out = []
    for nom in nominal:
        allowed = graze if graze.any() and not out else ok
        apart = [np.abs(cands - x) > 4 * bw for x in out]   # two rods of a leaf never crowd together
        free = allowed & np.all(apart, axis=0) if apart else allowed
        if free.any():
            out.append(float(cands[free][np.argmin(np.abs(cands[free] - nom))]))
    return out


def _side(face, rng, k, height, paint, lines, cap, size_type, p, vertical) -> None:
    col_w = max(_w(s[2]) for ln in lines for s in ln)
    post = max(150.0, col_w / k + 50) if vertical else 150.0
    top, bottom = 110.0, 160.0
    period = rng.uniform(260, 300) * k
    profile = photo.corrugation(face.width, period, rng.uniform(0.1, 0.28), rng.uniform(0, period))
    face.fill(post * k, top * k, face.width - post * k, (height - bottom) * k, face.base,
              profile[int(round(post * k)):])
    _frame_parts(face, k, height, post, top, bottom)
    if height > 2800:
        _hc_stripes(face, k, (post * k, face.width - (post + 300) * k), 15 * k)
    if vertical:
        cx = face.width - post * k / 2
        _, block = place_id(face, paint, lines, cx, rng.uniform(200, 400) * k, cap, "centre", True)
        paint.put(face, size_type, "size_type", cap * 0.8, cx, block[3] + cap, "centre", vertical=True)
    else:
        x, y = face.width - rng.uniform(300, 800) * k, rng.uniform(220, 450) * k
        _, block = place_id(face, paint, lines, x, y, cap, "right", False)
        paint.put(face, size_type, "size_type", cap * rng.uniform(0.75, 1.0), block[2],
                  block[3] + cap * rng.uniform(0.6, 1.0), "right")
    room = block[0] - 400 * k - post * k    # the company name stays clear of the code
    if rng.random() < p.p_logo and room > 1500 * k:
        cap_logo = min(rng.uniform(350, 700) * k, room / 5)
        cx = post * k + room / 2
        y = paint.put(face, word(rng), "logo", cap_logo, cx, height * k * rng.uniform(0.25, 0.45), "centre",
                      ink=paint.ink if rng.random() < 0.7 else (235.0, 235.0, 230.0))[3]
        if rng.random() < 0.5:
            paint.put(face, word(rng, syllables=(2, 3)) + " " + pick(rng, ["LINE", "LOGISTICS", "SHIPPING"]),
                      "logo", cap_logo * 0.3, cx, y + cap_logo * 0.4, "centre")
    if rng.random() < p.p_hazard:
        _hazard(face, rng, paint, k, post * k + rng.uniform(500, 1500) * k, height * k * 0.65)


def _weight_table(face, rng, paint, k, x, y, size_type) -> None:
    """MAX GROSS / TARE / NET in kg with lb below each, and the cubic capacity (ISO 6346 optional marks)."""
    _, _, tare_range, gross, cbm = SIZE_TYPES[size_type]
    gross = int(pick(rng, [gross, gross, 30480, 34000]))
    tare = int(rng.integers(*tare_range)) // 10 * 10
    sep = pick(rng, [",", "", " ", "."])   # thousands: 30,480 / 30480 / 30 480 / 30.480
    gross_label = pick(rng, ["MAX GROSS", "MAX. GROSS", "M.G.W.", "MAX.GROSS"])
    rows = [("max_gross", gross_label, gross), ("tare", "TARE", tare),
            ("net", pick(rng, ["NET", "PAYLOAD", "MAX. PAYLOAD"]), gross - tare)]
    cap = rng.uniform(40, 60) * k
    for role, label, kg in rows:   # kilograms, and pounds right-aligned under them
        box = paint.put(face, f"{label} {kg:,} KG".replace(",", sep), role, cap, x, y)
        paint.put(face, f"{round(kg * 2.20462):,} LB".replace(",", sep), role, cap, box[2],
                  box[3] + cap * 0.6, "right")
        y = box[3] + cap * 2.3
    label = pick(rng, ["CU.CAP", "CU. CAP.", "CUB.CAP"])
    box = paint.put(face, f"{label} {cbm:.1f} CU.M", "cu_cap", cap, x, y)
    paint.put(face, f"{round(cbm * 35.3147):,} CU.FT".replace(",", sep), "cu_cap", cap, box[2],
              box[3] + cap * 0.6, "right")


def _csc_plate(face, rng, paint, k, x, y) -> None:
    """The CSC safety approval plate and a customs plate beside it: small aluminium plates, tiny text."""
    for i, title in enumerate(["CSC SAFETY APPROVAL", "APPROVED FOR TRANSPORT UNDER CUSTOMS SEAL"]):
        w, h = (300 if i == 0 else 260) * k, (200 if i == 0 else 150) * k
        face.fill(x - 3 * k, y - 3 * k, x + w + 3 * k, y + h + 3 * k, (60, 60, 60))
        face.fill(x, y, x + w, y + h, (182, 184, 182), photo.cylinder(int(h) + 1, 0.6, 0.2), axis=0)
        approval = (f"{pick(rng, ['GB', 'CN', 'DE', 'KR'])}-{pick(rng, ['BV', 'LR', 'CCS', 'GL'])} "
                    f"{int(rng.integers(100, 9999))}/{int(rng.integers(10, 99))}")
        made = f"DATE MANUFACTURED {int(rng.integers(1, 13)):02d}/{int(rng.integers(2005, 2024))}"
        for j, text in enumerate([title, approval, made][: 3 if i == 0 else 2]):   # stamped, black
            paint.put(face, text, "csc", 9 * k, x + 12 * k, y + (15 + 30 * j) * k, ink=(20.0, 20.0, 20.0))
        x += w + 60 * k


def _hazard(face, rng, paint, k, cx, cy) -> None:
    """A dangerous-goods placard: a 250 mm square on its point, the class number in its bottom corner."""
    cls = pick(rng, list(HAZARDS))
    bg, fg = HAZARDS[cls]
    d = 177 * k
    face.poly([(cx, cy - d), (cx + d, cy), (cx, cy + d), (cx - d, cy)], fg)
    face.poly([(cx, cy - 0.92 * d), (cx + 0.92 * d, cy), (cx, cy + 0.92 * d), (cx - 0.92 * d, cy)], bg)
    if cls == "8":
        face.poly([(cx - 0.92 * d, cy), (cx + 0.92 * d, cy), (cx, cy + 0.92 * d)], (15, 15, 15))
    ink = (250.0, 250.0, 250.0) if cls == "8" else tuple(float(v) for v in fg)
    paint.put(face, cls, "hazard", 0.3 * d, cx, cy + 0.35 * d, "centre", ink=ink)


def _carrier(face, rng, k, height, view) -> None:
    """The flat wagon under the box: its side sill, the dark gap, bogie frames and 957 mm wheels."""
    y0 = height * k
    face.fill(0, y0, face.width, face.height, (28, 27, 26))
    sill = scaled(pick(rng, [(60, 58, 55), (90, 50, 35), (40, 45, 50)]), rng.uniform(0.8, 1.2))
    face.fill(0, y0 + 30 * k, face.width, y0 + 330 * k, sill)
    if view == "door":   # the wagon's end beam and its automatic coupler
        face.fill(face.width * 0.42, y0 + 400 * k, face.width * 0.58, y0 + 650 * k, (55, 52, 50))
        return
    wheel_y = y0 + (CARRIER - 478 * 0.55) * k
    for bogie in (1800 * k, face.width - 1800 * k):
        face.fill(bogie - 1300 * k, wheel_y - 420 * k, bogie + 1300 * k, wheel_y - 150 * k, (45, 44, 42))
        for ax in (-925, 925):
            c = (bogie + ax * k, wheel_y)
            face.circle(c, 478 * k, (33, 32, 30))
            face.circle(c, 420 * k, (70, 66, 60))
            face.circle(c, 110 * k, (35, 34, 32))
