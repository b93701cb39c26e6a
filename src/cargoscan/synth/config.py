"""The ``synth:`` section of ``params.yaml`` as frozen dataclasses, and its validation.

Everything that shapes the synthetic archive lives here: how many scans, the wagon mix, the geometry of the
detector and the train's motion, the rates of concealment and declaration mismatches, and the RFID readers'
faults. :func:`validate` checks the values *before* anything is written, so a bad parameter costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cargoscan.config import ConfigError, load_section
from cargoscan.synth.threats import DRUG_MASS_KG

#: Wagon kinds the scene builder knows (the first digit of their numbers is in ``cargoscan.ids.WAGON_TYPES``).
KNOWN_WAGON_TYPES = ("flat", "covered", "gondola", "tank")
#: Concealment kinds (see ``cargoscan.synth.concealment``).
KNOWN_THREATS = ("false_front_wall", "false_floor", "false_roof", "structure_compartment", "bulk_void",
                 "hollowed_goods", "drugs_in_cargo", "cigarettes_in_cargo", "weapons_in_cargo")
KNOWN_MISMATCHES = ("undeclared_goods", "wrong_goods", "weight_understated", "weight_overstated", "package_count")


@dataclass(frozen=True)
class GeometryParams:
    """Detector and motion: rows run top → rail at ``row_pitch_mm``; columns are speed / pulse rate."""

    rows: int = 720                              # detector channels in the image (top of the load → near the rail)
    row_pitch_mm: float = 4.6                    # at the object plane; a 2.59 m container spans ~563 rows
    z_bottom_m: float = 0.30                     # height above the rail head of the lowest row
    pulse_rate_hz: float = 250.0                 # per energy (interlaced linac: twice that in total)
    speed_kmh: tuple[float, float] = (3.6, 6.0)  # train speed through the portal, per train
    end_gap_m: tuple[float, float] = (0.35, 0.6)  # air before and after the wagon (half the inter-wagon gap)
    column_scale: float = 1.0                    # < 1 renders fewer columns (tests); sidecars keep the true pitch


@dataclass(frozen=True)
class ConsistParams:
    """Railway trains (consists, «составы»): wagons per train, posts and devices. (Not model training: that is
    ``cargoscan.training.config.TrainParams``.)"""

    wagons_per_train: tuple[int, int] = (6, 24)
    post_code: str = "32701"
    devices: tuple[str, ...] = ("RF06", "RF07")
    start_date: str = "2025-02-03"               # first train's day; later trains follow every few hours
    utc_offset: str = "+05:00"                   # Kazakhstan (single zone since 2024)
    hours_between_trains: tuple[float, float] = (1.5, 7.0)
    directions: dict[str, float] = field(default_factory=lambda: {"import": 0.7, "transit": 0.25, "export": 0.05})


@dataclass(frozen=True)
class LoadParams:
    """The wagon mix and how full the units are."""

    wagon_types: dict[str, float] = field(
        default_factory=lambda: {"flat": 0.62, "covered": 0.16, "gondola": 0.12, "tank": 0.10})
    two_20ft_rate: float = 0.4        # a flat wagon carries two 20 ft containers instead of one 40 ft
    empty_rate: float = 0.06          # unit travels empty
    partial_rate: float = 0.15        # unit partly loaded (fill ratio 0.25-0.6); the rest 0.6-1 or payload
    payload_rate: float = 0.35        # of the others, packed to the payload from the top of the density range
    size_bias: float = 3.0            # heavy goods (cargo.weighs_out) weigh this much more in a 20 ft container's
                                      # category draw, light ones in a 40 ft's (1: the size says nothing)


@dataclass(frozen=True)
class ThreatParams:
    """Concealment: the share of wagons with something to find and the mix of what it is."""

    wagon_rate: float = 0.35
    kinds: dict[str, float] = field(default_factory=lambda: {
        "false_front_wall": 0.13, "false_floor": 0.09, "false_roof": 0.05, "structure_compartment": 0.08,
        "bulk_void": 0.08, "hollowed_goods": 0.07, "drugs_in_cargo": 0.22, "cigarettes_in_cargo": 0.14,
        "weapons_in_cargo": 0.14})
    second_threat_rate: float = 0.15      # a wagon with two independent findings
    drug_mass_kg: tuple[float, float] = DRUG_MASS_KG   # log-uniform (the threat catalogue's law)
    compartment_filled_rate: float = 0.7  # a compartment holds contraband (else it is empty, still a finding)


@dataclass(frozen=True)
class MismatchParams:
    """Per-consignment rates of declaration mismatches (at most one per consignment)."""

    undeclared_goods: float = 0.03
    wrong_goods: float = 0.05
    weight_understated: float = 0.05
    weight_overstated: float = 0.02
    package_count: float = 0.04


@dataclass(frozen=True)
class RfidParams:
    """RFID readers on both sides of the track and their faults."""

    readers: tuple[str, ...] = ("RD-01", "RD-02")
    missed_rate: float = 0.05
    duplicate_rate: float = 0.04
    corrupt_rate: float = 0.005


@dataclass(frozen=True)
class SynthParams:
    """The ``synth:`` section of ``params.yaml``."""

    n: int = 220
    seed: int = 20250203
    workers: int = 2
    previews: int = 4
    geometry: GeometryParams = field(default_factory=GeometryParams)
    train: ConsistParams = field(default_factory=ConsistParams)
    load: LoadParams = field(default_factory=LoadParams)
    threats: ThreatParams = field(default_factory=ThreatParams)
    mismatch: MismatchParams = field(default_factory=MismatchParams)
    rfid: RfidParams = field(default_factory=RfidParams)
    scanner: dict[str, Any] = field(default_factory=dict)   # overrides of the physics' scanner ranges


def load_synth_params(path: str | Path = "params.yaml", profile: str | None = None) -> SynthParams:
    """Read and validate the ``synth:`` section (with the active profile applied)."""
    params = load_section(SynthParams, "synth", path, profile)
    validate(params)
    return params


def _rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"synth.{name} = {value!r}: a rate must lie in [0, 1]")


def _range(name: str, lo_hi: tuple[float, float], low: float = 0.0) -> None:
    lo, hi = lo_hi
    if lo < low or hi < lo:
        raise ConfigError(f"synth.{name} = {list(lo_hi)!r}: expected {low} <= low <= high")


def _weights(name: str, weights: dict[str, float], known: tuple[str, ...]) -> None:
    unknown = sorted(set(weights) - set(known))
    if unknown:
        raise ConfigError(f"synth.{name}: unknown {'type' if 'wagon' in name else 'kind'} {unknown}; "
                          f"known: {list(known)}")
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ConfigError(f"synth.{name}: weights must be >= 0 with a positive sum, got {weights}")


def validate(p: SynthParams) -> None:
    """Check every value for sense; raise :class:`ConfigError` naming the parameter. Writes nothing."""
    if p.n < 0:
        raise ConfigError(f"synth.n = {p.n}: the number of scans cannot be negative")
    if p.workers < 1:
        raise ConfigError(f"synth.workers = {p.workers}: need at least one worker")
    if p.previews < 0:
        raise ConfigError(f"synth.previews = {p.previews}: cannot be negative")
    g = p.geometry
    if g.rows < 64 or g.row_pitch_mm <= 0 or g.pulse_rate_hz <= 0 or not 0 < g.column_scale <= 1:
        raise ConfigError(f"synth.geometry: rows >= 64, positive pitch/pulse rate, 0 < column_scale <= 1; got {g}")
    _range("geometry.speed_kmh", g.speed_kmh, low=0.1)
    _range("geometry.end_gap_m", g.end_gap_m)
    t = p.train
    _range("train.wagons_per_train", t.wagons_per_train, low=1)
    if not (len(t.post_code) == 5 and t.post_code.isdigit()):
        raise ConfigError(f"synth.train.post_code = {t.post_code!r}: five digits")
    bad = [d for d in t.devices if not (len(d) == 4 and d.startswith("RF") and d[2:].isdigit())]
    if bad or not t.devices:
        raise ConfigError(f"synth.train.devices = {list(t.devices)!r}: 'RF' + two digits each")
    _weights("train.directions", t.directions, ("import", "export", "transit"))
    _weights("load.wagon_types", p.load.wagon_types, KNOWN_WAGON_TYPES)
    for name in ("two_20ft_rate", "empty_rate", "partial_rate", "payload_rate"):
        _rate(f"load.{name}", getattr(p.load, name))
    if p.load.size_bias <= 0:
        raise ConfigError(f"synth.load.size_bias = {p.load.size_bias}: must be positive")
    _rate("threats.wagon_rate", p.threats.wagon_rate)
    _rate("threats.second_threat_rate", p.threats.second_threat_rate)
    _rate("threats.compartment_filled_rate", p.threats.compartment_filled_rate)
    _weights("threats.kinds", p.threats.kinds, KNOWN_THREATS)
    _range("threats.drug_mass_kg", p.threats.drug_mass_kg, low=0.1)
    total = 0.0
    for name in KNOWN_MISMATCHES:
        value = getattr(p.mismatch, name)
        _rate(f"mismatch.{name}", value)
        total += value
    if total > 1:
        raise ConfigError(f"synth.mismatch: the rates sum to {total:.3f} > 1")
    for name in ("missed_rate", "duplicate_rate", "corrupt_rate"):
        _rate(f"rfid.{name}", getattr(p.rfid, name))
    if not p.rfid.readers:
        raise ConfigError("synth.rfid.readers: at least one reader")
