"""Rolling stock drawn into a :class:`~cargoscan.synth.scene.Scene`: bogies, underframe, couplers, bodies, containers.

Dimensions follow 1520 mm-gauge stock (18-100 bogies, 957 mm wheels, SA-3 couplers at ~1.06 m) and ISO 668
containers, slightly compacted in height so that a container on a flat wagon fits the ~720-row detector column
(the image starts 0.3 m above the rail, so the lower third of the wheels is cut as on real portal scans).
Anything that runs *across* the train (axles, bolsters, cross-members, floors, roofs seen edge-on, end walls)
is a long steel or wood path along the beam: that is what starves the detector behind the underframe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cargoscan.synth.scene import Scene, ellipse_template, heterogeneity, ring_template

WHEEL_R = 0.4785
AXLE_SPACING = 1.85
DECK_Z = 1.00           # top of the frame (container floor bottom, body floor bottom)
CONTAINER_H = 2.591
CONTAINER_W_IN = 2.352  # interior width across the beam
CONTAINER_L = {"20ft": 6.058, "40ft": 12.192}

#: Length over the frame (m) and the wagon family's body parameters.
WAGON_LENGTH = {"flat": 12.9, "covered": 13.9, "gondola": 12.9, "tank": 11.2}


@dataclass
class Unit:
    """A load space: a container or a wagon body. Extents in metres (interior)."""

    kind: str           # container20 | container40 | covered_body | gondola_body | tank_barrel
    number: str         # container number, or the wagon number for wagon bodies
    x0: float
    x1: float
    z0: float           # interior floor
    z1: float           # interior ceiling (top of the sides for a gondola)
    width_m: float      # interior width along the beam
    door_x: float | None = None   # x of the door end (containers) or None


def tube(s: Scene, material: str, x0: float, x1: float, z0: float, z1: float, wall: float, path_cm: float,
         label: str = "vehicle") -> None:
    """A hollow rectangular section running along the beam (its walls carry ``path_cm`` each)."""
    s.box(material, x0, x1, z1 - wall, z1, path_cm, label)
    s.box(material, x0, x1, z0, z0 + wall, path_cm, label)
    s.box(material, x0, x0 + wall, z0 + wall, z1 - wall, path_cm, label)
    s.box(material, x1 - wall, x1, z0 + wall, z1 - wall, path_cm, label)


def bogie(s: Scene, xc: float) -> None:
    """A two-axle 18-100 bogie centred at ``xc``: wheels face-on, axles and bolster along the beam."""
    ry, rx = WHEEL_R / s.row_pitch_m, WHEEL_R / s.col_pitch_m
    for dx in (-AXLE_SPACING / 2, AXLE_SPACING / 2):
        x = xc + dx
        # two wheels superposed: plate 2×3 cm, rim 2×13 cm, hub 2×18 cm; the axle is ~2 m of steel end-on
        s.template("steel", ellipse_template(ry, rx), x, WHEEL_R, 6.0, "vehicle")
        s.template("steel", ring_template(ry, rx, 0.84), x, WHEEL_R, 20.0)
        s.template("steel", ellipse_template(0.13 / s.row_pitch_m, 0.13 / s.col_pitch_m), x, WHEEL_R, 30.0)
        s.template("steel", ellipse_template(0.085 / s.row_pitch_m, 0.085 / s.col_pitch_m), x, WHEEL_R, 200.0)
    # side frames (two superposed castings), spring nest, bolster across the beam
    s.box("steel", xc - 1.25, xc + 1.25, 0.62, 0.74, 2 * 5.0, "vehicle")
    s.box("steel", xc - 1.0, xc + 1.0, 0.36, 0.46, 2 * 5.0, "vehicle")
    s.box("steel", xc - 1.25, xc - 1.0, 0.36, 0.74, 2 * 4.0, "vehicle")
    s.box("steel", xc + 1.0, xc + 1.25, 0.36, 0.74, 2 * 4.0, "vehicle")
    coils = 0.6 + 0.4 * np.abs(np.sin(np.arange(64) * np.pi * s.row_pitch_m / 0.045))
    r0, wr = s.rows_cov(0.46, 0.62)
    s.box("steel", xc - 0.32, xc + 0.32, 0.46, 0.62, (2 * 9.0 * coils[:len(wr)])[:, None], "vehicle")
    tube(s, "steel", xc - 0.22, xc + 0.22, 0.58, 0.86, 0.025, 250.0)


def coupler(s: Scene, x_face: float, direction: int) -> None:
    """SA-3 coupler head at ``x_face`` pointing ``direction`` (-1 front, +1 rear), with its draft gear."""
    x_head = x_face + direction * 0.35
    s.box("steel", min(x_face, x_head), max(x_face, x_head), 0.98, 1.14, 14.0, "vehicle")
    s.box("steel", x_head - 0.12 * (direction < 0), x_head + 0.12 * (direction > 0), 0.93, 1.20, 24.0, "vehicle")
    s.box("steel", min(x_face, x_face - direction * 0.7), max(x_face, x_face - direction * 0.7), 0.90, 1.10,
          18.0, "vehicle")


def underframe(s: Scene, x0: float, x1: float, width: float, cross_every: float, rng: np.random.Generator) -> None:
    """Centre sill, side sills, end beams and cross-members (I-beams along the beam: starvation)."""
    w = width * 100.0
    s.box("steel", x0, x1, DECK_Z - 0.32, DECK_Z, 2 * 1.2, "vehicle")               # sill webs
    s.box("steel", x0, x1, DECK_Z - 0.025, DECK_Z, 50.0, "vehicle")                # top flange, edge-on
    s.box("steel", x0, x1, DECK_Z - 0.32, DECK_Z - 0.30, 50.0, "vehicle")          # bottom flange
    s.box("steel", x0, x1, DECK_Z - 0.30, DECK_Z - 0.02, 2 * 1.0, "vehicle")       # side sill webs
    for xe in (x0, x1 - 0.25):                                                     # end beams
        tube(s, "steel", xe, xe + 0.25, DECK_Z - 0.32, DECK_Z, 0.014, w)
    n = max(2, int((x1 - x0) / cross_every))
    for xc in np.linspace(x0 + 1.0, x1 - 1.0, n) + rng.normal(0, 0.02, n):
        s.box("steel", xc - 0.006, xc + 0.006, DECK_Z - 0.28, DECK_Z - 0.02, w, "vehicle")
        s.box("steel", xc - 0.07, xc + 0.07, DECK_Z - 0.035, DECK_Z - 0.02, w, "vehicle")
        s.box("steel", xc - 0.07, xc + 0.07, DECK_Z - 0.28, DECK_Z - 0.265, w, "vehicle")


def running_gear(s: Scene, x0: float, x1: float, width: float, rng: np.random.Generator,
                 cross_every: float = 1.6) -> None:
    """Bogies under both ends, couplers, underframe of a wagon whose frame spans [x0, x1]."""
    for xc in (x0 + 1.85, x1 - 1.85):
        bogie(s, xc)
        tube(s, "steel", xc - 0.25, xc + 0.25, DECK_Z - 0.30, DECK_Z, 0.03, width * 100.0)  # body bolster
    underframe(s, x0, x1, width, cross_every, rng)
    coupler(s, x0, -1)
    coupler(s, x1, +1)


def corrugation(x: np.ndarray, pitch: float = 0.278) -> np.ndarray:
    """Path multiplier of a trapezoid-corrugated sheet crossed at right angles: 1 on flats, ~1.5 on slants.

    ISO side panels: 278 mm pitch, 36 mm deep, flats of ~70 mm, slants at ~47° (1/cos 47° ≈ 1.47).
    """
    phase = np.mod(x, pitch) / pitch
    return np.where((phase % 0.5) < 0.26, 1.0, 1.5).astype(np.float32)


def container(s: Scene, x0: float, size: str, number: str, door_rear: bool, rng: np.random.Generator) -> Unit:
    """An ISO dry container standing on the frame at ``x0`` (external); returns its interior as a unit."""
    L = CONTAINER_L[size]
    x1, z0, z1 = x0 + L, DECK_Z, DECK_Z + CONTAINER_H
    w = CONTAINER_W_IN * 100.0
    c0, wc = s.cols_cov(x0, x1)
    xs = (np.arange(c0, c0 + len(wc)) + 0.5) * s.col_pitch_m + s.x_offset_m
    corr = corrugation(xs - x0)[None, :]
    s.box("steel", x0, x1, z0 + 0.16, z1 - 0.06, 2 * 0.16 * corr, "vehicle")            # side walls (2)
    s.box("steel", x0, x1, z0, z0 + 0.16, 2 * 0.45, "vehicle")                          # bottom side rails
    s.box("steel", x0, x1, z0, z0 + 0.012, 2 * 5.0, "vehicle")
    s.box("steel", x0, x1, z1 - 0.06, z1, 2 * 0.3 + 0.0, "vehicle")                     # top side rails
    s.box("steel", x0, x1, z1 - 0.045, z1 - 0.015, 0.95 * (0.9 + 0.2 * corr), "vehicle")  # roof, edge-on
    s.box("wood", x0 + 0.1, x1 - 0.1, z0 + 0.13, z0 + 0.158, w, "vehicle")              # plywood floor
    for xc in np.arange(x0 + 0.2, x1 - 0.15, 0.305):                                     # floor cross-members
        s.box("steel", xc - 0.0023, xc + 0.0023, z0 + 0.008, z0 + 0.13, w, "vehicle")
        s.box("steel", xc - 0.0225, xc + 0.0225, z0 + 0.008, z0 + 0.0125, w, "vehicle")
        s.box("steel", xc - 0.0225, xc + 0.0225, z0 + 0.1255, z0 + 0.13, w, "vehicle")
    door_x = x1 if door_rear else x0
    front_x = x0 if door_rear else x1
    sgn = -1 if door_rear else 1            # from the end inwards
    # front end wall: corrugated sheet along the beam, header and sill tubes
    s.box("steel", front_x, front_x - sgn * 0.045, z0 + 0.16, z1 - 0.1, 18.0, "vehicle")
    # door end: two leaves with their frames (along the beam), locking bars outside, heavy header and sill
    s.box("steel", door_x, door_x + sgn * 0.06, z0 + 0.12, z1 - 0.1, 30.0, "vehicle")
    s.box("steel", door_x - sgn * 0.03, door_x - sgn * 0.005, z0 + 0.2, z1 - 0.15, 4 * 2.2, "vehicle")
    for xe in (front_x, door_x):
        xa, xb = sorted((xe, xe + sgn * 0.16))
        tube(s, "steel", xa, xb, z1 - 0.11, z1, 0.006, w)            # end header
        tube(s, "steel", xa, xb, z0, z0 + 0.12, 0.008, w)            # end sill
        s.box("steel", xa, xb, z0, z1, 2 * 1.2, "vehicle")            # corner posts (two superposed)
        s.box("steel", xa, xa + 0.012, z0, z1, 2 * 10.0, "vehicle")
        for zc in (z0, z1 - 0.118):                                   # corner castings
            s.box("steel", xa, xa + 0.178, zc, zc + 0.118, 2 * 7.0, "vehicle")
    return Unit(f"container{size[:2]}", number, x0 + 0.05, x1 - 0.07, z0 + 0.16, z1 - 0.06, CONTAINER_W_IN,
                door_x)


def flat_wagon(s: Scene, x0: float, containers: list[str], rng: np.random.Generator) -> list[Unit]:
    """A container flat wagon with one 40 ft or two 20 ft containers."""
    L = WAGON_LENGTH["flat"]
    running_gear(s, x0, x0 + L, 2.8, rng, cross_every=2.2)
    s.box("steel", x0 + 0.2, x0 + L - 0.2, DECK_Z - 0.04, DECK_Z, 2 * 0.8, "vehicle")   # deck edge plates
    units = []
    if len(containers) == 1:
        xs = [x0 + (L - CONTAINER_L["40ft"]) / 2]
        sizes = ["40ft"]
    else:
        xs = [x0 + (L - 2 * CONTAINER_L["20ft"] - 0.076) / 2]
        xs.append(xs[0] + CONTAINER_L["20ft"] + 0.076)
        sizes = ["20ft", "20ft"]
    for x, size, number in zip(xs, sizes, containers):
        for xs_ in (x + 0.05, x + CONTAINER_L[size] - 0.05):        # fitting stops (spigots)
            s.box("steel", xs_ - 0.08, xs_ + 0.08, DECK_Z - 0.06, DECK_Z + 0.03, 2 * 12.0, "vehicle")
        units.append(container(s, x, size, number, door_rear=bool(rng.random() < 0.5), rng=rng))
    return units


def covered_wagon(s: Scene, x0: float, number: str, rng: np.random.Generator) -> list[Unit]:
    """A covered wagon: sheathed sides on posts, sliding doors in the middle, an arched roof."""
    L, width = WAGON_LENGTH["covered"], 2.76
    running_gear(s, x0, x0 + L, 3.0, rng)
    z0, z1 = DECK_Z + 0.06, DECK_Z + 2.50
    s.box("wood", x0 + 0.1, x0 + L - 0.1, DECK_Z, z0, width * 100.0, "vehicle")           # plank floor
    s.box("steel", x0, x0 + L, z0, z1, 2 * 0.25, "vehicle")                               # sheathing
    for xc in np.arange(x0 + 0.5, x0 + L - 0.3, 1.1):                                     # side posts
        s.box("steel", xc - 0.05, xc + 0.05, z0, z1, 2 * 0.6, "vehicle")
        s.box("steel", xc - 0.05, xc - 0.044, z0, z1, 2 * 2 * 10.0, "vehicle")
        s.box("steel", xc + 0.044, xc + 0.05, z0, z1, 2 * 2 * 10.0, "vehicle")
    xm = x0 + L / 2
    s.box("steel", xm - 1.0, xm + 1.0, z0, z1, 2 * 0.35, "vehicle")                        # door leaves
    for xe in (xm - 1.0, xm + 1.0):
        s.box("steel", xe - 0.04, xe + 0.04, z0, z1, 2 * 6.0, "vehicle")
    # arched roof: a shell of radius R over the width; horizontal rays graze it near the apex
    R, t, sag = 3.0, 0.0025, 3.0 - np.sqrt(9.0 - (width / 2) ** 2)
    r0, wr = s.rows_cov(z1, z1 + sag)
    zc = s.z_top_m - (np.arange(r0, r0 + len(wr)) + 0.5) * s.row_pitch_m
    d = np.clip(z1 + sag - zc, 1e-3, None)
    y = np.sqrt(np.clip(2 * R * d - d * d, 1e-6, None))
    roof = np.minimum(2 * t * R / y * 100.0, width * 100.0)
    s.box("steel", x0, x0 + L, z1, z1 + sag, roof[:, None].astype(np.float32), "vehicle")
    for xe, sgn in ((x0, 1), (x0 + L, -1)):                                                # end walls
        s.box("steel", xe, xe + sgn * 0.05, z0, z1 + sag * 0.5, 20.0, "vehicle")
    return [Unit("covered_body", number, x0 + 0.06, x0 + L - 0.06, z0, z1, width - 0.02, None)]


def gondola(s: Scene, x0: float, number: str, rng: np.random.Generator) -> list[Unit]:
    """An open gondola: plate sides on stanchions, steel floor, end doors."""
    L, width = WAGON_LENGTH["gondola"], 2.88
    running_gear(s, x0, x0 + L, 3.1, rng)
    z0, z1 = DECK_Z + 0.01, DECK_Z + 2.06
    s.box("steel", x0, x0 + L, DECK_Z, z0, width * 100.0, "vehicle")                      # floor plate edge-on
    s.box("steel", x0, x0 + L, z0, z1, 2 * 0.5, "vehicle")                                # side plates
    s.box("steel", x0, x0 + L, z1 - 0.08, z1, 2 * 2.5, "vehicle")                         # top chord
    for xc in np.linspace(x0 + 0.4, x0 + L - 0.4, 9):                                     # stanchions
        s.box("steel", xc - 0.06, xc + 0.06, z0, z1, 2 * 1.6, "vehicle")
    for xe, sgn in ((x0, 1), (x0 + L, -1)):                                               # end doors
        s.box("steel", xe, xe + sgn * 0.08, z0, z1, 35.0, "vehicle")
    return [Unit("gondola_body", number, x0 + 0.1, x0 + L - 0.1, z0, z1, width, None)]


def tank(s: Scene, x0: float, number: str, rng: np.random.Generator) -> list[Unit]:
    """A tank wagon: a cylindrical barrel with dished heads, dome, walkway; returns the barrel as a unit."""
    L = WAGON_LENGTH["tank"]
    running_gear(s, x0, x0 + L, 3.0, rng)
    R, t, zc = 1.25, 0.011, DECK_Z + 0.05 + 1.25
    xb0, xb1 = x0 + 0.3, x0 + L - 0.3
    r0, wr = s.rows_cov(zc - R, zc + R)
    c0, wc = s.cols_cov(xb0, xb1)
    z = s.z_top_m - (np.arange(r0, r0 + len(wr)) + 0.5) * s.row_pitch_m
    x = (np.arange(c0, c0 + len(wc)) + 0.5) * s.col_pitch_m + s.x_offset_m
    head = 0.45                                              # dished-head depth
    u = np.clip(np.maximum(xb0 + head - x, x - (xb1 - head)) / head, 0, 1)
    r_x = R * np.sqrt(1 - u ** 2)                            # barrel radius seen at x (heads taper)
    d2 = (z - zc)[:, None] ** 2
    outer = 2 * np.sqrt(np.clip(r_x[None, :] ** 2 - d2, 0, None))
    inner = 2 * np.sqrt(np.clip((r_x[None, :] - t) ** 2 - d2, 0, None))
    s.box("steel", xb0, xb1, zc - R, zc + R, ((outer - inner) * 100.0).astype(np.float32), "vehicle")
    s.box("steel", x0 + L / 2 - 0.3, x0 + L / 2 + 0.3, zc + R - 0.05, zc + R + 0.25, 2 * 1.2, "vehicle")  # dome
    s.box("steel", x0 + 1.0, x0 + L - 1.0, zc + R + 0.02, zc + R + 0.05, 60.0, "vehicle")                # walkway
    unit = Unit("tank_barrel", number, xb0 + t, xb1 - t, zc - R + t, zc + R - t, 2 * (R - t), None)
    unit.chord = (r0, c0, inner)  # type: ignore[attr-defined]   # inner chord map (m) for the liquid
    return [unit]


#: name → builder, timm-style.
_BUILDERS = {"flat": flat_wagon, "covered": covered_wagon, "gondola": gondola, "tank": tank}


def list_wagons() -> list[str]:
    """Wagon kinds the scene builder draws."""
    return sorted(_BUILDERS)


def create_wagon(kind: str, s: Scene, x0: float, ident: list[str] | str, rng: np.random.Generator) -> list[Unit]:
    """Draw a wagon of ``kind`` starting (leading coupler face) at ``x0``; returns its load units.

    Args:
        kind: a name from :func:`list_wagons`.
        ident: container numbers for a flat wagon, the wagon number otherwise.
    """
    if kind not in _BUILDERS:
        raise ValueError(f"unknown wagon type {kind!r}; known: {list_wagons()}")
    units = _BUILDERS[kind](s, x0, ident, rng)
    underframe_clutter(s, rng)
    return units


#: Relative σ and correlation length (m) of the path heterogeneity below the deck (see underframe_clutter).
UNDERFRAME_GRAIN = (0.16, 0.005)


def underframe_clutter(s: Scene, rng: np.random.Generator) -> None:
    """Make the running gear and underframe as busy as the real ones: castings with cores and ribs, springs,
    brake rigging, pipes, bolts and welds all cross the beam below the deck, and we draw none of them one by
    one. Their net effect on the image is a path that varies from ray to ray at the centimetre scale, so the
    vehicle's paths below the deck are multiplied by a heterogeneity field (call before any cargo is drawn)."""
    r0 = max(int(np.floor(s.row_of(DECK_Z + 0.05))), 0)
    if r0 >= s.rows or not s.paths:
        return
    tex = heterogeneity(rng, (s.rows - r0, s.cols), s.row_pitch_m, s.col_pitch_m, *UNDERFRAME_GRAIN)
    for path in s.paths.values():
        path[r0:] *= tex


def wagon_length(kind: str) -> float:
    """Frame length (m) of a wagon kind; add ~0.35 m per coupler for the length over couplers."""
    return WAGON_LENGTH[kind]
