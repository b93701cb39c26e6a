"""Packing objects into a load unit as they are shipped: rows across the beam, stacks along the train, tiers.

A unit is loaded with copies of one category's objects (:mod:`cargoscan.synth.objects`): ``n_y`` layers across
the beam (the container's 2.35 m over the object's depth), stacks along the train and tiers up to the roof or
to the payload. Every layer has its own small offsets along the train and draws its own variants, so a ray
crosses several different objects: the image is the sum of their paths, which is where real loads get their
smooth, busy texture. Palletised goods stand on pallets, double-stacked when two fit under the roof.

Light goods fill by volume (the load runs from the front wall to the door to the length the fill asks for);
dense goods fill by mass: spread over the floor, with as many tiers as the payload allows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cargoscan.synth.objects import Frame, Item, build
from cargoscan.synth.scene import Scene

PALLET_H = 0.144      # m: EUR/ISO pallet height
VARIANTS = 6          # different objects drawn per load (each placement picks one)


@dataclass(frozen=True)
class Stowage:
    """How a category is shipped: its objects (kinds and weights), their size (along, height, across; m), the
    share of loads on pallets, the most tiers a stack may have (None: to the roof)."""

    items: tuple[tuple[str, float], ...]
    size: tuple[float, float, float]
    pallet: float = 0.0
    tiers_max: int | None = None
    gap: float = 0.04                         # m between stacks along the train (at most)
    across_max: int | None = None             # the most objects side by side along the beam


#: category → stowage. Sizes are typical packages: export cartons, 1.2 m crates, 25 kg sacks, 200 l drums.
STOWAGE: dict[str, Stowage] = {
    "garments": Stowage((("carton_garments", 0.75), ("bale", 0.25)), (0.6, 0.4, 0.4), pallet=0.3),
    "footwear": Stowage((("carton_shoes", 1.0),), (0.66, 0.38, 0.42), pallet=0.3),
    "electronics": Stowage((("carton_electronics", 1.0),), (0.6, 0.5, 0.5), pallet=0.5),
    "machinery": Stowage((("machine", 1.0),), (1.6, 1.3, 1.1), tiers_max=1, gap=0.3),
    "auto_parts": Stowage((("crate_parts", 1.0),), (1.2, 0.8, 1.0), tiers_max=2, gap=0.05),
    "tyres": Stowage((("tyre", 0.6), ("tyre_lying", 0.4)), (0.75, 0.75, 0.22)),
    "steel_products": Stowage((("pipe_bundle", 1.0),), (5.8, 0.4, 0.55), tiers_max=3, gap=0.05, across_max=2),
    "plastics": Stowage((("bag", 0.8), ("big_bag", 0.2)), (0.6, 0.14, 0.45), pallet=0.7),
    "furniture": Stowage((("flatpack", 1.0),), (1.2, 0.2, 0.6), pallet=0.2),
    "food": Stowage((("carton_food", 1.0),), (0.4, 0.3, 0.3), pallet=0.7),
    "paper": Stowage((("paper_reel", 0.7), ("paper_reel_lying", 0.3)), (1.0, 1.1, 1.0), tiers_max=2),
    "chemicals": Stowage((("drum", 0.9), ("ibc", 0.1)), (0.585, 0.88, 0.585), tiers_max=2, gap=0.0,
                         across_max=2),
}

#: Object sizes that differ from the category's package size (along, height, across; m).
SIZE_OF_KIND = {"big_bag": (0.95, 1.05, 0.95), "ibc": (1.2, 1.16, 1.0), "tyre_lying": (0.75, 0.22, 0.75),
                "paper_reel_lying": (1.0, 1.0, 1.2)}


@dataclass
class Placed:
    """An object in the load: its item, left/bottom corner (m) and its layer across the beam (0 = nearest)."""

    item: Item
    x0: float
    z0: float
    layer: int

    @property
    def x1(self) -> float:
        return self.x0 + self.item.frame.dx

    @property
    def z1(self) -> float:
        return self.z0 + self.item.frame.dz


def stamp(s: Scene, paths: dict[str, np.ndarray], x0: float, z0: float, dz: float, sign: float = 1.0) -> None:
    """Add (or with ``sign`` −1 take away) an object's path templates with their top-left at (x0, z0 + dz)."""
    r0, c0 = int(round(s.row_of(z0 + dz))), int(round(s.col_of(x0)))
    for m, t in paths.items():
        h, w = t.shape
        ra, ca = max(r0, 0), max(c0, 0)
        rb, cb = min(r0 + h, s.rows), min(c0 + w, s.cols)
        if rb <= ra or cb <= ca:
            continue
        p = s.path(m)
        p[ra:rb, ca:cb] += np.float32(sign) * t[ra - r0:rb - r0, ca - c0:cb - c0]


def place(ld, pl: Placed, sign: float = 1.0) -> None:
    """Stamp a placed object's goods and packaging into the load's layers."""
    dz = pl.item.frame.dz
    stamp(ld.goods, pl.item.goods, pl.x0, pl.z0, dz, sign)
    stamp(ld.packing, pl.item.pack, pl.x0, pl.z0, dz, sign)


def _variants(kind_weights, size, scene: Scene, density: float, rng: np.random.Generator) -> list[Item]:
    """VARIANTS objects of one kind (a load is one way of shipping), their goods scaled towards the stowed
    ``density`` (kg/m³) within a plausible ±40 %."""
    kinds = [k for k, _ in kind_weights]
    w = np.array([v for _, v in kind_weights], float)
    kind = kinds[int(rng.choice(len(kinds), p=w / w.sum()))]
    out = []
    for _ in range(VARIANTS):
        dx, dz, dy = (v * rng.uniform(0.95, 1.05) for v in SIZE_OF_KIND.get(kind, size))
        f = Frame(dx, dz, dy, scene.col_pitch_m, scene.row_pitch_m)
        it = build(kind, f, rng)
        natural = it.mass_kg()
        if natural > 0:
            it.scale_goods(float(np.clip(density * dx * dz * dy / natural, 0.5, 1.25)))
        out.append(it)
    return out


def pallet(ld, x0: float, z0: float, length: float, across: float) -> None:
    """A pallet under a stack: deck boards across its top and bottom, three rows of blocks between them."""
    p = ld.packing
    p.box("wood", x0, x0 + length, z0 + PALLET_H - 0.022, z0 + PALLET_H, across * 100 * 0.8)
    p.box("wood", x0, x0 + length, z0, z0 + 0.022, across * 100 * 0.5)
    for xb in (x0, x0 + length / 2 - 0.05, x0 + length - 0.1):
        p.box("wood", xb, xb + 0.1, z0 + 0.022, z0 + PALLET_H - 0.022, across * 100 * 0.35)


def pack(ld, category: str, density: float, fill: float, payload_kg: float | None,
         rng: np.random.Generator) -> list[Placed]:
    """Load ``ld.unit`` with ``category``'s objects; returns the placements (also stamped into the layers).

    Args:
        density: stowed density (kg/m³ of package) the objects are scaled towards.
        fill: fraction of the unit's volume to load (light goods) before the payload cap.
        payload_kg: the unit's payload (None: no cap), drawn at 90-100 % for a dense load.
    """
    st = STOWAGE[category]
    u = ld.unit
    items = _variants(st.items, st.size, ld.goods, density, rng)
    dx = max(it.frame.dx for it in items)
    dz = max(it.frame.dz for it in items)
    dy = float(np.mean([it.frame.dy for it in items]))
    n_y = max(1, int(u.width_m / dy))
    if st.across_max is not None:
        n_y = min(n_y, st.across_max)
    palletised = rng.random() < st.pallet
    base = PALLET_H if palletised else 0.0
    height = u.z1 - u.z0 - 0.03
    tiers_full = max(1, int((height - base) / dz))
    if st.tiers_max is not None:
        tiers_full = min(tiers_full, st.tiers_max)
    double = palletised and tiers_full >= 4 and rng.random() < 0.6          # two pallet loads stacked
    per_pallet = tiers_full // 2 if double else tiers_full
    pitch = dx + st.gap * rng.uniform(0.3, 1.0)
    n_x_full = max(1, int((u.x1 - u.x0) / pitch))
    mass_one = float(np.mean([it.mass_kg() for it in items]))
    cap = n_x_full * tiers_full * n_y
    n = int(round(cap * min(fill, 1.0)))
    if payload_kg is not None and mass_one > 0:
        n = min(n, int(payload_kg * rng.uniform(0.9, 1.0) / mass_one))
    n = max(n, 1)
    if n >= n_x_full * n_y * tiers_full * 0.98 or n / (n_x_full * n_y) >= tiers_full:
        tiers, n_x = tiers_full, n_x_full
    elif n < n_x_full * n_y * tiers_full * fill * 0.9:       # the payload binds: spread it over the floor
        n_x = n_x_full
        tiers = max(1, int(np.ceil(n / (n_x * n_y))))
    else:                                                   # volume binds: full stacks from the front wall
        tiers = tiers_full
        n_x = max(1, int(np.ceil(n / (tiers * n_y))))
    front_first = u.door_x is None or u.door_x > (u.x0 + u.x1) / 2
    placed: list[Placed] = []
    left = n
    for i in range(n_x):
        xs = u.x0 + 0.02 + i * pitch if front_first else u.x1 - 0.02 - (i + 1) * pitch + st.gap
        stack_tiers = tiers if left >= tiers * n_y else max(1, int(np.ceil(left / n_y)))
        stack_tiers = max(1, stack_tiers - int(rng.random() < 0.15 and stack_tiers > 1))   # uneven tops
        if palletised:
            pallet(ld, xs, u.z0, dx, u.width_m)
        # each row across the beam settles on its own: packages compress, pallets and dunnage differ by a few cm
        sag = np.zeros(n_y)
        z = u.z0
        for k in range(stack_tiers):
            if double and k == per_pallet:
                z += 0.02
                pallet(ld, xs, z + base, dx, u.width_m)
                z += base
            sag += rng.uniform(-0.004, 0.012, n_y) * (k > 0)
            for j in range(n_y):
                it = items[int(rng.integers(len(items)))]
                jitter = rng.uniform(0.0, max(pitch - it.frame.dx, 0.0))     # never into the next stack
                x0 = float(np.clip(xs + jitter, u.x0, u.x1 - it.frame.dx))
                pl = Placed(it, x0, z + base + sag[j], j)
                place(ld, pl)
                placed.append(pl)
                left -= 1
            z += dz
        if left <= 0:
            break
    ld.packages = len(placed)
    return placed
