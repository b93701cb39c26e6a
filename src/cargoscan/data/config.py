"""Parameters of the ``prepare`` stage (``params.yaml`` section ``prepare``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrepareParams:
    """How the raw archive becomes model-ready scans and tiles.

    Attributes:
        raw_dir: the archive root (format 1.0).
        out_dir: where prepared scans, the tile index, splits, statistics and the quarantine report go.
        pitch_mm: (row, column) pitch of the model input; the scan is resampled to it.
        channels: input channel names understood by :mod:`cargoscan.data.channels`.
        tile: tile side in pixels at the model pitch (a multiple of 32).
        overlap: overlap between neighbouring tiles in pixels.
        split_fractions: train / val / test fractions of *trains* (never of wagons).
        seed: seed of the split.
        dtype: storage dtype of the prepared channels (float16 keeps ~3 significant digits of A, well below the
            quantum noise; float32 for exactness).
        extra_dirs: further archive roots of TIP'd real scans (``cargoscan tip`` output), mixed in at
            ``tip.mix_ratio`` when they exist; absent roots are skipped.
    """

    raw_dir: str = "data/raw"
    out_dir: str = "data/prepared"
    pitch_mm: tuple[float, float] = (16.0, 16.0)   # 16 mm: a 5 cm drug layer still spans 3 px
    channels: tuple[str, ...] = ("a_high", "a_low", "ratio")
    tile: int = 128
    overlap: int = 32
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    seed: int = 0
    dtype: str = "float16"
    extra_dirs: tuple[str, ...] = ("data/tip",)

    def __post_init__(self) -> None:
        if self.tile % 32:
            raise ValueError(f"prepare.tile must be a multiple of 32, got {self.tile}")
        if not 0 <= self.overlap < self.tile:
            raise ValueError(f"prepare.overlap must be in [0, tile), got {self.overlap}")
        if abs(sum(self.split_fractions) - 1) > 1e-6 or min(self.split_fractions) < 0:
            raise ValueError(f"prepare.split_fractions must be >= 0 and sum to 1, got {self.split_fractions}")
        if self.dtype not in ("float16", "float32"):
            raise ValueError(f"prepare.dtype must be float16 or float32, got {self.dtype!r}")
