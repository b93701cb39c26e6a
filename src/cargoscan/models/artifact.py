"""The exported model artifact: the contract between training (export) and deployment (inspect).

An artifact directory holds::

    config.json        ArtifactConfig below (JSON)
    model.safetensors  the PyTorch weights (state dict of the SMP model built by cargoscan.models.build_model)
    model.onnx         the same network, dynamic height and width; outputs "mask" (N, K, H, W) logits and
                       "label" (N, M) cargo-category logits
    model_card.md      metrics, operating point, data version, limits

``config.json`` records sha256 of both weight files; the inspector refuses a file whose hash differs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ARTIFACT_VERSION = "1"


@dataclass(frozen=True)
class ArtifactConfig:
    """What a deployment needs to run and trust an exported model."""

    name: str                                  # registered model name, e.g. "cargoscan-seg"
    version: str                               # model version (registry version or a content hash)
    arch: str                                  # SMP architecture key, e.g. "unet"
    encoder: str                               # SMP encoder name, e.g. "resnet18"
    in_channels: tuple[str, ...]               # names understood by cargoscan.data.channels
    classes: tuple[str, ...]                   # segmentation classes in output order
    categories: tuple[str, ...]                # cargo categories of the classification head
    pitch_mm: tuple[float, float]              # (row, column) pitch the model was trained at
    norm_mean: tuple[float, ...]               # per input channel
    norm_std: tuple[float, ...]
    tile: int = 256                            # inference tile side (pixels at the model pitch)
    overlap: int = 32                          # tile overlap
    multilabel: bool = False                   # sigmoid per class (True) or softmax over classes (False)
    thresholds: dict[str, float] = field(default_factory=dict)  # per-class score thresholds (operating point)
    wagon_threshold: float = 0.5               # per-wagon "something to find" score threshold
    thresholds_version: str = "1"
    sha256: dict[str, str] = field(default_factory=dict)        # file name -> hex digest
    artifact_version: str = ARTIFACT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / "config.json"
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> "ArtifactConfig":
        data = json.loads((Path(directory) / "config.json").read_text(encoding="utf-8"))
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"{directory}/config.json: unknown keys {sorted(unknown)}")
        for key in ("in_channels", "classes", "categories", "pitch_mm", "norm_mean", "norm_std"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
