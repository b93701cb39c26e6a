"""Small constructed wagon scans for the TIP tests (no physics needed)."""

from __future__ import annotations

import numpy as np
import pytest


def constructed_wagon(h: int = 120, w: int = 300, seed: int = 0) -> np.ndarray:
    """A (2, H, W) uint16 archive image of a loaded wagon, rows top→rail.

    Air above; a body with thin walls and a cargo block; a floor; two bogies at the bottom whose axles starve
    the detector. The low energy attenuates 20 % more than the high one, as at 4 vs 6 MeV.
    """
    rng = np.random.default_rng(seed)
    a = np.zeros((h, w), np.float64)
    top, floor, bottom = int(0.15 * h), int(0.72 * h), int(0.95 * h)
    left, right = int(0.05 * w), int(0.95 * w)
    a[top:floor, left:right] = 0.12  # two side walls, seen through
    a[top + 8 : floor - 2, left + 6 : right - 6] += 1.4  # cargo
    a[floor : floor + 4, left:right] = 2.5  # floor and sole bar
    for cx in (int(0.2 * w), int(0.8 * w)):  # bogies: frames and starved axles
        a[floor + 4 : bottom, cx - 20 : cx + 20] = 4.0
        a[floor + 10 : floor + 18, cx - 6 : cx + 6] = 13.0
    t = np.stack([np.exp(-a), np.exp(-1.2 * a)])
    # Quantum noise (the Gaussian limit of photon counting, 12000 and 5000 photons per pixel in air): the engine's
    # validity check, which import shares, measures its growth with attenuation.
    t = t + np.sqrt(t / np.array([12000.0, 5000.0])[:, None, None]) * rng.standard_normal(t.shape)
    img = np.rint(np.clip(t, 0, 1) * 65535)
    img[img < 2] = 0
    return img.astype(np.uint16)


@pytest.fixture
def wagon() -> np.ndarray:
    return constructed_wagon()


def plausible_wagon(seed: int = 0) -> np.ndarray:
    """A constructed wagon the size of a real scan at 5 mm (5.5 × 1.8 m): it passes the validity check."""
    return constructed_wagon(h=360, w=1100, seed=seed)


def sidecar(scan_id: str, shape: tuple[int, int], pitch_mm: float = 10.0, kind: str = "imported") -> dict:
    """A schema-valid sidecar for a test scan."""
    from cargoscan.archive import ScanId

    sid = ScanId.parse(scan_id)
    return {
        "schema_version": "1.0",
        "scan_id": scan_id,
        "post_code": sid.post_code,
        "device_id": sid.device_id,
        "scanned_at": sid.stamp.strftime("%Y-%m-%dT%H:%M:%S+05:00"),
        "energies_mev": [6.0, 4.0],
        "pixel_pitch_mm": {"row": pitch_mm, "column": pitch_mm},
        "train_number": "2001",
        "wagon_number": None,
        "container_numbers": [],
        "direction": "import",
        "speed_kmh": 7.0,
        "source": {"kind": kind},
    }


def write_background(
    root,
    image: np.ndarray,
    scan_id: str = "32701RF06202502181747020",
    kind: str = "imported",
    pitch_mm: float = 10.0,
) -> str:
    """Write ``image`` with a sidecar into archive ``root``; returns the scan ID."""
    from cargoscan.archive import ArchivePaths, write_json, write_scan

    paths = ArchivePaths(root)
    paths.scans.mkdir(parents=True, exist_ok=True)
    write_scan(paths.scan_tiff(scan_id), image)
    write_json(paths.sidecar(scan_id), sidecar(scan_id, image.shape[1:], pitch_mm, kind))
    return scan_id


def wagon_paths(h: int = 200, w: int = 360, cargo_steel_cm: float = 0.0) -> dict[str, np.ndarray]:
    """Material paths (cm) of an empty or loaded wagon for the physics scanner: walls, floor, bogies."""
    p = {"steel": np.zeros((h, w), np.float32), "wood": np.zeros((h, w), np.float32)}
    top, floor, bottom = int(0.1 * h), int(0.75 * h), int(0.95 * h)
    p["steel"][top:floor, 8 : w - 8] = 0.6  # two 3 mm side walls
    p["steel"][top + 10 : floor - 4, 20 : w - 20] += cargo_steel_cm  # machinery, when loaded
    p["wood"][top + 10 : floor - 4, 20 : w - 20] += 30.0 if cargo_steel_cm else 0.0
    p["steel"][floor : floor + 6, 8 : w - 8] = 25.0  # floor and sole bars, seen along their width
    for cx in (int(0.2 * w), int(0.8 * w)):
        p["steel"][floor + 6 : bottom, cx - 25 : cx + 25] = 20.0  # bogie frames
        p["steel"][floor + 12 : floor + 22, cx - 8 : cx + 8] = 200.0  # axles: starved
    return p
