"""The ``tip:`` section of ``params.yaml`` (:class:`TipParams`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlacementParams:
    """Where a threat may go in a real scan (see :mod:`cargoscan.tip.placement`)."""

    #: A_high above which a column counts as inside the wagon (two thin steel walls give ~0.1 at 6 MeV).
    wall_level: float = 0.05
    #: Fraction of the envelope's height at the bottom kept free of threats: bogies, wheels, couplers.
    bogie_band: float = 0.18
    #: Fraction of the envelope's height counted as the floor region (false floors sit there).
    floor_band: float = 0.2
    #: Pixels kept between a threat and the envelope's edge (walls, roof, ends).
    margin_px: int = 4
    #: Rejection-sampling attempts before giving up on a placement.
    attempts: int = 200
    #: Background A_high above which a site is refused: too starved to show anything.
    max_background_a: float = 6.0


@dataclass(frozen=True)
class TipParams:
    """Threat image projection: what is inserted, how the background is modelled, how much is mixed in."""

    #: Two basis materials of the background's equivalent path (low Z, high Z), names of the synth library.
    basis: tuple[str, str] = ("polyethylene", "lead")
    #: Gaussian sigma (px) used to smooth the background before its basis decomposition; beam hardening
    #: varies slowly, and decomposing raw noise would put noise into the hardening.
    background_smoothing_px: float = 2.0
    #: Newton steps of the basis decomposition.
    decompose_steps: int = 8
    #: Threats per scan: an inclusive range [min, max].
    threats_per_scan: tuple[int, int] = (1, 2)
    # #: Which library objects may be inserted (names of :func:`cargoscan.tip.library.list_threats`); empty =
    # all.
    threats: tuple[str, ...] = ()
    #: Add the noise that the lower transmission lacks (estimated from the scan itself).
    renoise: bool = True
    #: Fallback PSF sigma in pixels when the scanner model does not say.
    psf_sigma_px: float = 0.8
    #: Raw value below which the scanner reports photon starvation (0).
    starvation_value: int = 2
    #: Fraction of prepared training scans that are TIP-augmented real scans (0 = synthetic only).
    mix_ratio: float = 0.3
    #: ScannerParams overrides for real scans (their scanner is not the synthesiser's; defaults otherwise).
    scanner: dict[str, float] = field(default_factory=dict)
    #: Seed of the insertion sampler.
    seed: int = 0
    placement: PlacementParams = field(default_factory=PlacementParams)

    def __post_init__(self) -> None:
        lo, hi = self.threats_per_scan
        if not 0 <= lo <= hi:
            raise ValueError(
                f"tip.threats_per_scan must be [min, max] with 0 <= min <= max, got {self.threats_per_scan}"
            )
        from cargoscan.tip.library import list_threats

        unknown = set(self.threats) - set(list_threats())
        if unknown:
            raise ValueError(f"tip.threats: unknown {sorted(unknown)}; known: {list_threats()}")
        if not 0.0 <= self.mix_ratio <= 1.0:
            raise ValueError(f"tip.mix_ratio must lie in [0, 1], got {self.mix_ratio}")
