"""The archive's plan and its tables: trains, wagons, scan IDs, declarations, RFID reads, Table 1 and truth.

:func:`plan_scans` draws everything that is *not* pixels from one seed, in the main process and in order: which
trains pass which device when, the wagon kinds and numbers, the containers, what each unit carries, what is
hidden where and which declarations lie. Each scan then gets its own seed (``SeedSequence(seed).spawn``), so the
pixels do not depend on the number of workers or the order they finish in. The tables are written from the plan
and from what the renderer reports back (the true net mass is weighed on the rendered path maps).
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from cargoscan.ids import make_container_number, make_wagon_number
from cargoscan.synth.cargo import CATEGORIES, list_categories, weighs_out
from cargoscan.synth.config import SynthParams
from cargoscan.synth.threats import draw_contents, draw_drug, draw_drug_mass
from cargoscan.synth.wagons import wagon_length

CONSIGNORS = ("Yiwu Jinhai Trading Co., Ltd 义乌金海贸易有限公司", "Xi'an Silk Road Logistics Co., Ltd",
              "Chongqing Changan Industrial Co., Ltd 重庆长安实业", "Urumqi Tianshan Export Co., Ltd",
              "Zhengzhou Huayu Machinery Co., Ltd", "Lianyungang Port Trade Co., Ltd 连云港港口贸易")
CONSIGNEES = ("ТОО «Астана Импорт Трейд»", "ТОО «Алматы Логистик Центр»", "ООО «Евразия Транзит»",
              "ТОО «Караганда СнабСервис»", "ООО «ТрансКонтейнер Логистика»", "DHL Global Forwarding Polska")
EMPTY_GOODS = {"container": ("8609", "Контейнер порожний"), "wagon": ("8606", "Вагон порожний")}
RFID_LEAD_S = 25.0      # the readers stand ahead of the portal


@dataclass
class UnitPlan:
    """One consignment: a container or a wagon body, what it carries and what its declaration says."""

    number: str                     # container number, or the wagon number for a wagon body
    container: bool
    category: str | None            # None = empty
    fill: float
    goods_index: int                # which HS line of the category
    mismatch: str = "none"
    declared_category: str | None = None
    declared_goods_index: int = 0
    pi_number: str = ""
    consignor: str = ""
    consignee: str = ""
    weight_factor: float = 1.0      # declared / true net mass
    package_delta: float = 0.0      # relative error of the declared package count
    dense: bool = False             # packed to its payload from the top of the category's density range


@dataclass
class ScanPlan:
    """Everything about one scan except its pixels."""

    index: int
    scan_id: str
    seed: int
    post_code: str
    device_id: str
    scanned_at: str                 # ISO 8601 with offset
    train_number: str
    position: int
    direction: str
    speed_kmh: float
    wagon_type: str
    wagon_number: str
    units: list[UnitPlan]
    threats: list[dict[str, Any]] = field(default_factory=list)   # concealment specs, each with "unit"
    scanner: dict[str, float] = field(default_factory=dict)
    row_pitch_mm: float = 4.6

    @property
    def container_numbers(self) -> list[str]:
        return [u.number for u in self.units if u.container]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = sorted(weights)
    p = np.array([weights[n] for n in names], float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def scan_seed(seed: int, index: int) -> int:
    """The pixel seed of scan ``index``: independent of how many scans there are and who renders them."""
    child = np.random.SeedSequence(seed).spawn(index + 1)[index]
    return int(child.generate_state(1, np.uint32)[0])


def device_scanners(p: SynthParams) -> dict[str, tuple[dict[str, float], float]]:
    """Each device's randomised scanner unknowns and its row pitch (mm), drawn from the seed."""
    from cargoscan.physics.scanner import sample_scanner

    out = {}
    ranges = {k: tuple(v) for k, v in p.scanner.items()}
    for i, dev in enumerate(p.train.devices):
        rng = np.random.default_rng(np.random.SeedSequence([p.seed, 7, i]))
        params = sample_scanner(rng, ranges)
        pitch = p.geometry.row_pitch_mm * float(rng.uniform(0.985, 1.015))
        out[dev] = ({k: float(v) for k, v in asdict(params).items()}, round(pitch, 4))
    return out


def _category(rng: np.random.Generator, p: SynthParams, wagon: str, size: str | None) -> str:
    """A unit's category: uniform over what the wagon carries, except that on a flat wagon heavy goods
    (:func:`~cargoscan.synth.cargo.weighs_out`) favour 20 ft containers and light ones 40 ft containers by
    ``load.size_bias``, as shippers choose the box their goods fill before they reach its payload."""
    return _choice(rng, {c: p.load.size_bias if size and weighs_out(c) == (size == "20ft") else 1.0
                         for c in list_categories(wagon)})


def _unit(rng: np.random.Generator, p: SynthParams, wagon: str, number: str, container: str | None) -> UnitPlan:
    """A unit's plan; ``container`` is its size ("20ft", "40ft") on a flat wagon, None for a wagon's own body."""
    category = _category(rng, p, wagon, container)
    cats = list_categories(wagon)
    r = rng.random()
    if r < p.load.empty_rate:
        category, fill = None, 0.0
    elif r < p.load.empty_rate + p.load.partial_rate:
        fill = float(rng.uniform(0.25, 0.6))
    else:
        fill = float(rng.uniform(*CATEGORIES[category].fill))
    # its own stream, keyed by the unit's number: every other draw of the plan stays what it was
    dense_rng = np.random.default_rng(np.random.SeedSequence([p.seed, 11, zlib.crc32(number.encode())]))
    dense = bool(category and fill > 0.6 and dense_rng.random() < p.load.payload_rate)
    if dense:
        fill = CATEGORIES[category].fill[1]
    goods = int(rng.integers(len(CATEGORIES[category].goods))) if category else 0
    u = UnitPlan(number, container is not None, category, fill, goods, declared_category=category,
                 declared_goods_index=goods, dense=dense)
    u.consignor = CONSIGNORS[int(rng.integers(len(CONSIGNORS)))]
    u.consignee = CONSIGNEES[int(rng.integers(len(CONSIGNEES)))]
    if category is None:
        return u
    m = p.mismatch
    r = rng.random()
    edges = np.cumsum([m.undeclared_goods, m.wrong_goods, m.weight_understated, m.weight_overstated,
                       m.package_count])
    kind = ("undeclared_goods", "wrong_goods", "weight_understated", "weight_overstated", "package_count",
            "none")[int(np.searchsorted(edges, r, side="right"))]
    u.mismatch = kind
    if kind == "undeclared_goods":
        u.declared_category = None                       # declared as travelling empty
    elif kind == "wrong_goods":
        others = [c for c in cats if c != category] or [c for c in CATEGORIES if c != category]
        u.declared_category = others[int(rng.integers(len(others)))]
        u.declared_goods_index = int(rng.integers(len(CATEGORIES[u.declared_category].goods)))
    elif kind == "weight_understated":
        u.weight_factor = float(rng.uniform(0.5, 0.8))
    elif kind == "weight_overstated":
        u.weight_factor = float(rng.uniform(1.25, 1.6))
    elif kind == "package_count":
        u.package_delta = float(rng.choice([-1, 1]) * rng.uniform(0.15, 0.4))
    return u


def _threats(rng: np.random.Generator, p: SynthParams, n_units: int) -> list[dict[str, Any]]:
    t = p.threats
    if rng.random() >= t.wagon_rate:
        return []
    count = 2 if rng.random() < t.second_threat_rate else 1
    out = []
    for _ in range(count):
        kind = _choice(rng, t.kinds)
        spec: dict[str, Any] = {"kind": kind, "unit": int(rng.integers(n_units))}
        if kind in ("false_front_wall", "false_floor", "false_roof", "structure_compartment", "bulk_void",
                    "hollowed_goods"):
            spec["contents"] = None if rng.random() >= t.compartment_filled_rate else draw_contents(rng)
        spec["drug"] = draw_drug(rng)
        spec["mass_kg"] = round(draw_drug_mass(rng, t.drug_mass_kg), 2)
        out.append(spec)
    return out


def plan_scans(p: SynthParams) -> list[ScanPlan]:
    """Draw the whole archive's plan (no pixels) from ``p.seed``: the first k scans do not depend on ``p.n``."""
    rng = np.random.default_rng(np.random.SeedSequence([p.seed, 1]))
    devices = device_scanners(p)
    tz = timezone(timedelta(hours=int(p.train.utc_offset[:3]), minutes=int(p.train.utc_offset[0] + p.train.utc_offset[4:])))
    clock = datetime.fromisoformat(p.train.start_date).replace(tzinfo=tz) + timedelta(
        hours=float(rng.uniform(0, 6)))
    plans: list[ScanPlan] = []
    used_ids: set[str] = set()
    pi_counter = 0
    while len(plans) < p.n:
        train = str(int(rng.integers(1001, 9899)))
        dev = p.train.devices[int(rng.integers(len(p.train.devices)))]
        direction = _choice(rng, p.train.directions)
        speed = round(float(rng.uniform(*p.geometry.speed_kmh)), 2)
        n_wagons = int(rng.integers(p.train.wagons_per_train[0], p.train.wagons_per_train[1] + 1))
        t = clock
        for pos in range(1, n_wagons + 1):
            if len(plans) >= p.n:
                break
            kind = _choice(rng, p.load.wagon_types)
            wagon = make_wagon_number(kind, rng)
            if kind == "flat":
                k = 2 if rng.random() < p.load.two_20ft_rate else 1
                size = "20ft" if k == 2 else "40ft"
                units = [_unit(rng, p, kind, make_container_number(rng), size) for _ in range(k)]
            else:
                units = [_unit(rng, p, kind, wagon, None)]
            for u in units:
                pi_counter += 1
                u.pi_number = f"{p.train.post_code}/{t:%d%m%y}/{pi_counter:07d}"
            stamp = f"{p.train.post_code}{dev}{t:%Y%m%d%H%M%S}"
            seq = 0
            while f"{stamp}{seq}" in used_ids:
                seq += 1
            scan_id = f"{stamp}{seq}"
            used_ids.add(scan_id)
            idx = len(plans)
            scanner, pitch = devices[dev]
            plans.append(ScanPlan(idx, scan_id, scan_seed(p.seed, idx), p.train.post_code, dev,
                                  t.isoformat(timespec="seconds"), train, pos, direction, speed, kind, wagon, units,
                                  _threats(rng, p, len(units)), scanner, pitch))
            t += timedelta(seconds=(wagon_length(kind) + 0.7) / (speed / 3.6))
        clock = t + timedelta(hours=float(rng.uniform(*p.train.hours_between_trains)))
    return plans


# --- tables ----------------------------------------------------------------------------------------------------
def scans_table(plans: list[ScanPlan]) -> list[dict[str, str]]:
    """Table 1 of the post: п/п, номер состава, платформа, дата, время, ID снимка (in scan order)."""
    rows = []
    for i, sp in enumerate(sorted(plans, key=lambda s: (s.scanned_at, s.scan_id)), start=1):
        t = datetime.fromisoformat(sp.scanned_at)
        rows.append({"п/п": str(i), "номер состава": sp.train_number, "платформа": sp.wagon_number,
                     "дата": f"{t:%d.%m.%Y}", "время": f"{t:%H:%M}", "ID снимка": sp.scan_id})
    return rows


def _goods(category: str | None, index: int, container: bool) -> tuple[str, str]:
    if category is None:
        return EMPTY_GOODS["container" if container else "wagon"]
    return CATEGORIES[category].goods[index]


def consignment_rows(plans: list[ScanPlan], results: dict[str, dict[str, Any]]
                     ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Declarations and truth rows, one per consignment, from the plan and the renderer's weighed units.

    Args:
        results: per scan ID, ``{"units": [{"net_mass_kg", "packages", "gross_extra_kg", "threats"}, ...]}``.
    """
    decl, truth = [], []
    for sp in plans:
        for k, u in enumerate(sp.units):
            r = results[sp.scan_id]["units"][k]
            net, packages = float(r["net_mass_kg"]), int(r["packages"])
            declared_empty = u.declared_category is None
            hs, desc = _goods(u.declared_category, u.declared_goods_index, u.container)
            d_net = 0.0 if declared_empty else net * u.weight_factor
            d_pkg = 0 if declared_empty else max(1, int(round(packages * (1 + u.package_delta))))
            tare = (2200.0 if "20" in r.get("kind", "") else 3750.0) if u.container else 0.0
            decl.append({"pi_number": u.pi_number, "train_number": sp.train_number, "wagon_number": sp.wagon_number,
                         "container_number": u.number if u.container else "", "hs_code": hs,
                         "goods_description": desc, "packages_count": str(d_pkg),
                         "packaging": "" if declared_empty else CATEGORIES[u.declared_category].packaging,
                         "gross_weight_kg": f"{d_net + float(r['gross_extra_kg']) + tare:.1f}",
                         "net_weight_kg": f"{d_net:.1f}", "consignor": u.consignor, "consignee": u.consignee})
            t_hs, t_desc = _goods(u.category, u.goods_index, u.container)
            threats = sorted(set(r["threats"]))
            truth.append({"scan_id": sp.scan_id, "pi_number": u.pi_number, "wagon_number": sp.wagon_number,
                          "container_number": u.number if u.container else "", "true_category": u.category or "empty",
                          "true_hs_code": t_hs, "true_goods_description": t_desc, "true_net_weight_kg": f"{net:.1f}",
                          "true_packages_count": str(packages), "mismatch": u.mismatch,
                          "has_threat": "1" if threats else "0", "threat_classes": ";".join(threats)})
    return decl, truth


def rfid_rows(plans: list[ScanPlan], p: SynthParams) -> list[dict[str, str]]:
    """RFID events: each reader reads each wagon's tag once, with missed, duplicate and corrupt reads."""
    rng = np.random.default_rng(np.random.SeedSequence([p.seed, 3]))
    rows = []
    for sp in plans:
        t0 = datetime.fromisoformat(sp.scanned_at) - timedelta(seconds=RFID_LEAD_S)
        for reader in p.rfid.readers:
            if rng.random() < p.rfid.missed_rate:
                continue
            reads = 2 if rng.random() < p.rfid.duplicate_rate else 1
            t = t0 + timedelta(seconds=float(rng.uniform(0, 1.5)))
            for _ in range(reads):
                payload = sp.wagon_number
                if rng.random() < p.rfid.corrupt_rate:
                    i = int(rng.integers(8))
                    payload = payload[:i] + str((int(payload[i]) + int(rng.integers(1, 10))) % 10) + payload[i + 1:]
                rows.append({"read_at": t.isoformat(timespec="milliseconds"), "reader_id": reader,
                             "train_number": sp.train_number, "position": str(sp.position), "tag_payload": payload})
                t += timedelta(seconds=float(rng.uniform(0.2, 2.0)))
    rows.sort(key=lambda r: (r["read_at"], r["reader_id"]))
    return rows
