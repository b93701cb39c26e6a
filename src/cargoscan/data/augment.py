"""Training augmentation for radiographs: the only module of cargoscan that imports albumentations.

What is physically plausible for a drive-through line scanner, and nothing else:

* flips along the train axis (a wagon passes in either direction) — never vertical: the rail is at the bottom;
* a small scale and shift (speed and height jitter of the carriage);
* an intensity gain in *log space*: the attenuation channels A = −ln T are multiplied by one common factor (a
  slightly thicker or denser load, or a drifting source), the ratio channel is left alone because a common gain
  on both energies leaves A_low/A_high unchanged (up to the small air offset);
* noise in A that grows with A, as photon noise does (σ_A ≈ σ_T / T).

albumentations' own ``GaussNoise`` clips float images to [0, 1], which would destroy the physical units, so the
gain and the noise live in :class:`AttenuationJitter` (an albumentations transform, seeded by ``Compose``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import albumentations as A
import cv2
import numpy as np

from cargoscan.data.channels import air_channels


@dataclass(frozen=True)
class AugmentParams:
    """Augmentation strengths (``train.augment`` in ``params.yaml``); ``enabled: false`` turns all off."""

    enabled: bool = True
    hflip: float = 0.5
    scale: float = 0.1          # ± relative scale
    shift: float = 0.05         # ± fraction of the tile
    affine_p: float = 0.5
    gain: float = 0.1           # ± relative gain on the attenuation channels
    noise: float = 0.02         # σ of additive noise in A at A = 0 (grows as exp(A/2))
    jitter_p: float = 0.8


class AttenuationJitter(A.ImageOnlyTransform):
    """Common gain on the attenuation channels plus photon-like noise, in physical units (no clipping to [0, 1])."""

    def __init__(self, attenuation_channels: tuple[int, ...] = (0, 1), gain: float = 0.1, noise: float = 0.02,
                 p: float = 0.5):
        super().__init__(p=p)
        self.attenuation_channels = tuple(attenuation_channels)
        self.gain = gain
        self.noise = noise

    def get_params(self) -> dict[str, Any]:
        return {"g": self.py_random.uniform(1 - self.gain, 1 + self.gain),
                "seed": self.py_random.randrange(2 ** 31)}

    def apply(self, img: np.ndarray, g: float = 1.0, seed: int = 0, **params: Any) -> np.ndarray:
        out = img.copy()
        rng = np.random.default_rng(seed)
        for c in self.attenuation_channels:
            a = out[..., c] * g
            # Photon noise: σ_T ∝ sqrt(T) ⇒ σ_A = σ_T / T ∝ exp(A / 2); capped where the detector starves.
            sigma = self.noise * np.exp(np.minimum(a, 8.0) / 2)
            out[..., c] = np.maximum(a + rng.standard_normal(a.shape).astype(np.float32) * sigma, 0.0)
        return out

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("attenuation_channels", "gain", "noise")


def build_transform(params: AugmentParams, channels: tuple[str, ...], seed: int | None = None) -> A.Compose | None:
    """The training transform for HWC float32 images in physical units and HW uint8 masks.

    Args:
        params: augmentation strengths.
        channels: the input channel names (to find the attenuation channels).
        seed: seeds albumentations' own generator (it does not follow the global numpy seed).

    Returns:
        A ``Compose`` or ``None`` when augmentation is disabled.
    """
    if not params.enabled:
        return None
    att = tuple(i for i, c in enumerate(channels) if c in ("a_high", "a_low"))
    air = tuple(float(v) for v in air_channels(tuple(channels)))   # A = 0, but a dual-energy ratio of 1
    return A.Compose(
        [
            A.HorizontalFlip(p=params.hflip),
            A.Affine(scale=(1 - params.scale, 1 + params.scale),
                     translate_percent={"x": (-params.shift, params.shift), "y": (-params.shift, params.shift)},
                     border_mode=cv2.BORDER_CONSTANT, fill=air, fill_mask=0,  # pad with air / background
                     interpolation=cv2.INTER_LINEAR, mask_interpolation=cv2.INTER_NEAREST, p=params.affine_p),
            AttenuationJitter(att, params.gain, params.noise, p=params.jitter_p),
        ],
        seed=seed,
    )


def reseed(transform: A.Compose | None, seed: int) -> None:
    """Give a transform a new seed (one per data-loader worker, so workers do not repeat each other)."""
    if transform is not None:
        transform.set_random_seed(seed)
