"""Domain randomisation of a native scan window, within physical ranges, before it becomes model channels.

The synthesiser's cargo texture and noise are not what a real scanner sees; a model that keys on them fails on
real backgrounds (an independent check found the engine's score did not move when a threat was added to a real
scan). So every training window is re-imaged as if by another scanner, in the order of acquisition:

* **cargo texture** — the attenuation A = −ln T is multiplied by a smooth random field 1 + t·g (both energies
  alike, so the dual-energy ratio, the material, is kept): denser and lighter patches of the same load;
* **blur** — a Gaussian of σ px along rows and columns (a wider focal spot, a slower detector);
* **detector gain** — T·g with g near 1 (air normalisation off by a per cent or two);
* **noise** — white noise in T of σ = n·√T/√N₀ (N₀ photons per pixel in air), i.e. a source with fewer photons;
* **pitch** — the window is read at a pitch up to ±15 % off its true one (another detector pitch or belt speed),
  by the caller: :func:`draw` returns the factors and ``cargoscan.data.projected`` applies them when it resamples.

Everything works on transmission in [0, 1] as float32 and returns uint16 counts, as a scanner writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

MAX_VALUE = 65535.0
#: Photons per pixel in air of the synthesiser's high channel (cargoscan.physics.scanner.DEFAULT_RANGES, middle).
AIR_PHOTONS = 11000.0


@dataclass(frozen=True)
class RandomizeParams:
    """Ranges of the re-imaging (``train.projection.randomize`` in params.yaml); ``p`` = 0 turns it off."""

    p: float = 0.8                      # share of windows re-imaged
    texture: float = 0.12               # max amplitude t of the multiplicative A field
    texture_scale_px: tuple[float, float] = (6.0, 40.0)   # correlation length of the field (native px)
    blur_px: float = 1.0                # max extra Gaussian σ (native px)
    gain: float = 0.03                  # max |g − 1|
    noise: float = 1.5                  # max n: extra noise, in units of the air photon noise
    pitch: float = 0.15                 # max relative pitch error, per axis


@dataclass(frozen=True)
class Draw:
    """One re-imaging: the values drawn for a window."""

    texture: float
    texture_scale: float
    blur: float
    gain: float
    noise: float
    pitch: tuple[float, float]          # factors on the (row, column) pitch

    @classmethod
    def identity(cls) -> "Draw":
        return cls(0.0, 1.0, 0.0, 1.0, 0.0, (1.0, 1.0))


def draw(rng: np.random.Generator, p: RandomizeParams) -> Draw:
    """Draw one re-imaging (the identity with probability 1 − ``p.p``)."""
    if rng.random() >= p.p:
        return Draw.identity()
    return Draw(texture=float(rng.uniform(0, p.texture)),
                texture_scale=float(rng.uniform(*p.texture_scale_px)),
                blur=float(rng.uniform(0, p.blur_px)),
                gain=float(1 + rng.uniform(-p.gain, p.gain)),
                noise=float(rng.uniform(0, p.noise)),
                pitch=(float(1 + rng.uniform(-p.pitch, p.pitch)), float(1 + rng.uniform(-p.pitch, p.pitch))))


def reimage(image: np.ndarray, d: Draw, rng: np.random.Generator) -> np.ndarray:
    """Re-image a (2, h, w) uint16 window with the draw ``d`` (the pitch factors are the caller's)."""
    if d == Draw.identity():
        return image
    t = np.clip(image.astype(np.float32) / np.float32(MAX_VALUE), 0.5 / MAX_VALUE, 1.0)
    starved = image == 0
    if d.texture > 0:
        field = smooth_field(t.shape[1:], d.texture_scale, rng)
        a = -np.log(t) * np.clip(1 + d.texture * field, 0.5, 1.5)[None]
        t = np.exp(-a)
    if d.blur > 0:
        t = np.stack([ndimage.gaussian_filter(c, d.blur) for c in t])
    t = t * np.float32(d.gain)
    if d.noise > 0:
        t = t + rng.standard_normal(t.shape).astype(np.float32) * d.noise * np.sqrt(t) / np.sqrt(AIR_PHOTONS)
    out = np.rint(np.clip(t, 0, 1) * MAX_VALUE).astype(np.uint16)
    out[starved] = 0                    # a starved pixel stays starved
    return out


def smooth_field(shape: tuple[int, int], scale: float, rng: np.random.Generator) -> np.ndarray:
    """A zero-mean, unit-σ random field correlated over ~``scale`` px: white noise on a grid ``scale`` px apart,
    interpolated bicubically (the cost of a Gaussian filter of that width, without its wide kernel)."""
    import cv2

    h, w = shape
    gh, gw = max(2, int(np.ceil(h / scale)) + 1), max(2, int(np.ceil(w / scale)) + 1)
    field = cv2.resize(rng.standard_normal((gh, gw)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return (field - field.mean()) / max(float(field.std()), 1e-6)
