"""Fixtures of the inspection tests: a tiny exported model artifact, synthetic scans and a fake decomposer.

The artifact is a hand-weighted network with the exported model's interface (contract D): its mask head
thresholds the high-energy attenuation (air → background, moderate → cargo, very strong → drugs), its
classification head says "garments" with 0.65 confidence, and its encoder (a strided conv, pooled) gives
embeddings that differ with the image. So decisions on the synthetic scans below are known in advance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cargoscan.archive import write_scan
from cargoscan.archive.classes import class_names
from cargoscan.models.artifact import ArtifactConfig, sha256_file

CATEGORIES = ("garments", "footwear", "electronics", "machinery", "auto_parts", "tyres", "steel_products", "plastics",
              "furniture", "food", "paper", "chemicals", "bulk_minerals", "liquids")
PITCH = 10.0                # mm, scans and model alike unless a test says otherwise
MU = 0.04                   # cm²/g: the fake decomposer's attenuation per areal density
WALL = 3.1                  # g/cm²: InspectParams' container wall areal density
DRUGS_A = 4.0               # the stub calls attenuation above ~3 drugs
CARGO_LAMBDA = 45.0         # g/cm² of the clean cargo: a garment load as the synthesiser draws it (bulk density
                            # 0.18-0.32 g/cm³ over 2.35 m: 42-75 g/cm², inspect/category_physics.json)


def build_stub_model():
    import torch

    classes = class_names()

    class Stub(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = torch.nn.Conv2d(3, len(classes), 1)
            self.encoder = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
            self.pool = torch.nn.AdaptiveAvgPool2d(1)
            self.classifier = torch.nn.Linear(8, len(CATEGORIES))
            with torch.no_grad():
                s = 10.0
                w = torch.zeros(len(classes), 3, 1, 1)
                b = torch.full((len(classes),), -10.0)
                b[classes.index("background")] = 0.0
                w[classes.index("cargo"), 0], b[classes.index("cargo")] = s, -s * 0.05
                w[classes.index("drugs"), 0], b[classes.index("drugs")] = 2 * s, -2 * s * 1.525  # wins above a=3
                self.head.weight.copy_(w)
                self.head.bias.copy_(b)
                g = torch.Generator().manual_seed(0)
                self.encoder.weight.copy_(torch.randn(self.encoder.weight.shape, generator=g))
                self.classifier.weight.zero_()
                bias = torch.zeros(len(CATEGORIES))
                bias[0] = 3.0                      # garments, p ≈ 0.65
                self.classifier.bias.copy_(bias)

        def forward(self, x):
            f = torch.relu(self.encoder(x))
            return self.head(x), self.classifier(torch.flatten(self.pool(f), 1))

    return Stub().eval()


def export_artifact(directory: Path, pitch: float = PITCH, tile: int = 64, overlap: int = 16) -> Path:
    """Export the stub as an artifact directory (config.json, model.onnx, model.safetensors)."""
    import torch
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    model = build_stub_model()
    torch.onnx.export(model, torch.zeros(1, 3, tile, tile), str(directory / "model.onnx"),
                      input_names=["image"], output_names=["mask", "label"],
                      dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "mask": {0: "n", 2: "h", 3: "w"},
                                    "label": {0: "n"}}, dynamo=False)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(directory / "model.safetensors"))
    cfg = ArtifactConfig(name="stub-seg", version="0.0.1", arch="stub", encoder="conv", in_channels=("a_high", "a_low",
                         "ratio"), classes=tuple(class_names()), categories=CATEGORIES, pitch_mm=(pitch, pitch),
                         norm_mean=(0.0, 0.0, 0.0), norm_std=(1.0, 1.0, 1.0), tile=tile, overlap=overlap,
                         sha256={f: sha256_file(directory / f) for f in ("model.onnx", "model.safetensors")})
    cfg.save(directory)
    (directory / "model_card.md").write_text("stub model for tests\n", encoding="utf-8")
    return directory


class FakeDecomposer:
    """λ = A_high / μ and Z_eff from the dual-energy ratio: exact on the scans below, no physics."""

    def invert(self, a_high, a_low):
        a_high, a_low = np.asarray(a_high, np.float32), np.asarray(a_low, np.float32)
        ratio = (a_low + 0.1) / (a_high + 0.1)
        return a_high / MU, 6.0 + 40.0 * (ratio - 1.0)

    def material_class(self, zeff):
        z = np.asarray(zeff, np.float32)
        return np.select([z < 10, z < 18, z < 40], ["organic", "mixed", "inorganic"], "heavy")


def fake_decomposer(meta):
    return FakeDecomposer()


def scan_id_for(i: int) -> str:
    return f"32701RF06202502181747{i:02d}{i % 10}"[:24]


PHOTONS = (4000.0, 1800.0)  # photons per pixel in air, high and low energy: the quantum noise of the scans
RATIO = 1.06                # A_low / A_high of every material here (a real 6/4 MeV scanner: 1.07-1.10)


def make_scan(root: Path, i: int, *, width: int = 520, height: int = 160, containers=("CSQU3054383",),
              cargo: tuple[int, int, int, int] | None = (40, 20, 360, 90), drugs: tuple[int, int, int, int] | None = None,
              pitch: float = PITCH, lam: float = CARGO_LAMBDA, wagon: str = "45488855", seed: int = 0) -> Path:
    """Write a scan + sidecar: air, a cargo block of areal density ``lam`` behind container walls, and optionally
    a drugs block (boxes are x0, y0, x1, y1 in pixels); at both ends, low in the image, a thin coupler plate and
    a dense buffer block (so the scan shows thin and thick structure, as every wagon does). Quantum noise (the
    Gaussian limit of the photon counts) in both pages, so the scan passes the input-validity check: 5.2 × 1.6 m
    at the default 10 mm. Returns the TIFF path."""
    rng = np.random.default_rng(seed + i)
    a_high = np.zeros((height, width), np.float32)
    s = PITCH / pitch                      # the end structure keeps its size in metres
    e, y = max(2, round(14 * s)), round(100 * s)
    for x0 in (2, width - 2 - e):
        a_high[y:y + round(30 * s), x0:x0 + e] = 0.25           # coupler plate: thin
        a_high[y + round(30 * s):y + round(50 * s), x0:x0 + e] = 2.0   # buffer: thick
    if cargo:
        x0, y0, x1, y1 = cargo
        a_high[y0:y1, x0:x1] = MU * (lam + (WALL if containers else 0.0))
    if drugs:
        x0, y0, x1, y1 = drugs
        a_high[y0:y1, x0:x1] = DRUGS_A
    a_low = a_high * RATIO
    pages = []
    for a, n in zip((a_high, a_low), PHOTONS):
        t = np.exp(-a)
        pages.append(t + rng.normal(0, 1, t.shape).astype(np.float32) * np.sqrt(t / n))
    image = np.clip(np.round(np.stack(pages) * 65535), 0, 65535).astype(np.uint16)
    scans = root / "scans"
    scans.mkdir(parents=True, exist_ok=True)
    sid = scan_id_for(i)
    write_scan(scans / f"{sid}.tiff", image)
    meta = {"schema_version": "1.0", "scan_id": sid, "post_code": "32701", "device_id": "RF06",
            "scanned_at": "2025-02-18T17:47:02+06:00", "energies_mev": [6.0, 4.0],
            "pixel_pitch_mm": {"row": pitch, "column": pitch}, "train_number": "2001",
            "wagon_number": wagon, "container_numbers": list(containers), "direction": "import", "speed_kmh": 5.0,
            "wagon_type": "flat", "source": {"kind": "synthetic"}}
    (scans / f"{sid}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return scans / f"{sid}.tiff"


def declaration_row(net_kg: float, hs: str = "6204", wagon: str = "45488855", container: str = "CSQU3054383",
                    pi: str = "PI-0001") -> dict[str, str]:
    return {"pi_number": pi, "train_number": "2001", "wagon_number": wagon, "container_number": container,
            "hs_code": hs, "goods_description": "платья женские хлопчатобумажные", "packages_count": "120",
            "packaging": "коробки", "gross_weight_kg": f"{net_kg * 1.05:.1f}", "net_weight_kg": f"{net_kg:.1f}",
            "consignor": "ООО Отправитель", "consignee": "ТОО Получатель"}


def _garment_packaging() -> float:
    from cargoscan.inspect.declarations import load_categories
    return load_categories()["garments"].packaging_fraction


GARMENT_PACKAGING = _garment_packaging()   # derived from the synthesiser's loads (bench/category_physics.py)


def loaded_kg(cargo=(40, 20, 360, 90), lam: float = CARGO_LAMBDA, pitch: float = PITCH) -> float:
    """Mass in the load box (goods and their cartons), kg."""
    x0, y0, x1, y1 = cargo
    return lam * (x1 - x0) * (y1 - y0) * (pitch / 10) ** 2 / 1000


def true_net_kg(cargo=(40, 20, 360, 90), lam: float = CARGO_LAMBDA, pitch: float = PITCH,
                packaging: float = GARMENT_PACKAGING) -> float:
    """The goods' net mass of a garment load: the loaded mass less its cartons."""
    return loaded_kg(cargo, lam, pitch) * (1 - packaging)


@pytest.fixture(scope="session")
def artifact(tmp_path_factory) -> Path:
    return export_artifact(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Path:
    """An archive of clean garment scans (for the reference library) with truth.csv."""
    from cargoscan.archive import write_table

    root = tmp_path_factory.mktemp("raw")
    rows = []
    for i in range(1, 4):
        p = make_scan(root, i, cargo=(40 + 10 * i, 20, 360, 90))
        rows.append({"scan_id": p.stem, "pi_number": f"PI-{i}", "wagon_number": "45488855",
                     "container_number": "CSQU3054383", "true_category": "garments", "true_hs_code": "6204",
                     "true_goods_description": "платья", "true_net_weight_kg": "100", "true_packages_count": "1",
                     "mismatch": "none", "has_threat": "0", "threat_classes": ""})
    write_table(root / "truth.csv", rows)
    return root


@pytest.fixture(scope="session")
def library(tmp_path_factory, artifact, archive) -> Path:
    from cargoscan.inspect import InspectParams, Inspector
    from cargoscan.inspect.references import build_library

    out = tmp_path_factory.mktemp("references")
    inspector = Inspector.load(artifact, InspectParams(), decomposer_factory=fake_decomposer)
    build_library(archive, inspector).save(out)
    return out


@pytest.fixture()
def inspector(artifact, library):
    from cargoscan.inspect import InspectParams, Inspector

    return Inspector.load(artifact, InspectParams(references_dir=str(library)), decomposer_factory=fake_decomposer)


SMP_KWARGS = {"encoder_depth": 3, "decoder_channels": [32, 16, 8]}


def export_smp_artifact(directory: Path, tile: int = 64) -> Path:
    """A tiny real SMP Unet (resnet18 encoder cut to depth 3, random weights) as an artifact."""
    import segmentation_models_pytorch as smp
    import torch
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    classes = tuple(class_names())
    model = smp.create_model("unet", encoder_name="resnet18", encoder_weights=None, in_channels=3,
                             classes=len(classes), aux_params={"classes": len(CATEGORIES)}, **SMP_KWARGS).eval()
    torch.onnx.export(model, torch.zeros(1, 3, tile, tile), str(directory / "model.onnx"),
                      input_names=["image"], output_names=["mask", "label"],
                      dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "mask": {0: "n", 2: "h", 3: "w"},
                                    "label": {0: "n"}}, dynamo=False)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(directory / "model.safetensors"))
    ArtifactConfig(name="tiny-unet", version="0.0.1", arch="unet", encoder="resnet18",
                   in_channels=("a_high", "a_low", "ratio"), classes=classes, categories=CATEGORIES,
                   pitch_mm=(PITCH, PITCH), norm_mean=(1.0, 1.0, 1.0), norm_std=(1.0, 1.0, 0.2), tile=tile,
                   overlap=16, extra={"model_kwargs": SMP_KWARGS},
                   sha256={f: sha256_file(directory / f) for f in ("model.onnx", "model.safetensors")}).save(directory)
    return directory
