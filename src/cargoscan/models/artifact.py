"""The exported model artifact: the contract between training (export) and deployment (inspect).

An artifact directory holds::

    config.json        ArtifactConfig below (JSON)
    model.safetensors  the PyTorch weights (state dict of the SMP model built by cargoscan.models.build_model)
    model.onnx         the same network, dynamic height and width; outputs "mask" (N, K, H, W) logits and
                       "label" (N, M) cargo-category logits
    model_card.md      metrics, operating point, data version, limits

``config.json`` records sha256 of both weight files and ``config_sha256``, the hash of its own content (every
field but that one, canonical JSON): an edited threshold or normalisation no longer matches it. The **artifact
hash** (:func:`artifact_sha256`) joins the config's hash with the weight files' hashes; it is the one "model hash"
that provenance records and that the reference library is bound to. The inspector refuses an artifact whose
config or files do not match, whose numbers are not finite or out of range (:meth:`ArtifactConfig.problems`), and
one written before ``config_sha256`` existed (nothing vouches for its thresholds: re-export it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ARTIFACT_VERSION = "2"
#: Fields that are not part of the hashed content (the hash itself).
UNHASHED = ("config_sha256",)


class ArtifactError(ValueError):
    """An artifact that cannot be trusted: unreadable, altered, or holding impossible numbers."""


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
    wagon_threshold: float = 0.5               # per-wagon "something to find" score threshold (raw scale)
    calibration: dict[str, Any] = field(default_factory=dict)  # Calibrator.to_dict() of the wagon score; {} = none
    thresholds_version: str = "1"
    sha256: dict[str, str] = field(default_factory=dict)        # file name -> hex digest
    artifact_version: str = ARTIFACT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    config_sha256: str = ""                    # content_sha256() when saved; "" in artifacts before version 2

    def content_sha256(self) -> str:
        """Hash of every field but ``config_sha256`` (canonical JSON): what an edit to config.json changes."""
        return content_sha256(dataclasses.asdict(self))

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    def save(self, directory: str | Path) -> Path:
        """Write config.json with ``config_sha256`` set to this content's hash."""
        sealed = dataclasses.replace(self, artifact_version=ARTIFACT_VERSION, config_sha256="")
        sealed = dataclasses.replace(sealed, config_sha256=sealed.content_sha256())
        path = Path(directory) / "config.json"
        path.write_text(sealed.to_json(), encoding="utf-8")
        return path

    def problems(self) -> list[str]:
        """Numbers that cannot be right: not finite, thresholds outside [0, 1], non-positive pitch or std."""
        out = [f"{where}: {v!r} не конечно" for where, v in _numbers(dataclasses.asdict(self)) if not math.isfinite(v)]
        if out:
            return out
        if not 0.0 < self.wagon_threshold <= 1.0:
            out.append(f"wagon_threshold = {self.wagon_threshold} вне (0, 1]")
        out += [f"thresholds.{k} = {v} вне [0, 1]" for k, v in self.thresholds.items() if not 0.0 <= v <= 1.0]
        if any(p <= 0 for p in self.pitch_mm) or len(self.pitch_mm) != 2:
            out.append(f"pitch_mm = {list(self.pitch_mm)}: нужны два положительных шага")
        if any(s <= 0 for s in self.norm_std) or len(self.norm_std) != len(self.in_channels) \
                or len(self.norm_mean) != len(self.in_channels):
            out.append("norm_mean/norm_std: по одному числу на входной канал, std > 0")
        if self.calibration:
            from cargoscan.scoring.calibration import Calibrator

            try:
                Calibrator.from_dict(self.calibration)
            except (KeyError, TypeError, ValueError) as exc:
                out.append(f"calibration: {exc}")
        if not 0 <= self.overlap < self.tile:
            out.append(f"tile {self.tile}, overlap {self.overlap}: нужно 0 ≤ overlap < tile")
        return out

    def verify(self) -> None:
        """Raise :class:`ArtifactError` unless the content matches ``config_sha256`` and its numbers are sane."""
        if not self.config_sha256:
            raise ArtifactError("config.json без config_sha256 (артефакт до версии 2): пороги и нормировку "
                                "нечем проверить — переэкспортируйте модель (cargoscan export)")
        actual = self.content_sha256()
        if actual != self.config_sha256:
            raise ArtifactError(f"config.json изменён после экспорта: хэш {actual[:12]}… ≠ {self.config_sha256[:12]}…")
        bad = self.problems()
        if bad:
            raise ArtifactError("config.json: " + "; ".join(bad[:3]))

    @classmethod
    def load(cls, directory: str | Path) -> "ArtifactConfig":
        data = json.loads((Path(directory) / "config.json").read_text(encoding="utf-8"),
                          parse_constant=_keep_constant)
        if not isinstance(data, dict):
            raise ArtifactError(f"{directory}/config.json: not a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"{directory}/config.json: unknown keys {sorted(unknown)}")
        for key in ("in_channels", "classes", "categories", "pitch_mm", "norm_mean", "norm_std"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)


def sha256_file(path: str | Path, chunk: int = 1 << 20, check: Callable[[], None] | None = None) -> str:
    """Hex SHA-256 of a file, read in chunks; ``check`` is called between chunks (a deadline: a file that never
    ends, such as a link to /dev/zero, must not hold a worker forever)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
            if check is not None:
                check()
    return h.hexdigest()


def content_sha256(doc: dict[str, Any]) -> str:
    """Canonical-JSON SHA-256 of a config mapping without its :data:`UNHASHED` fields."""
    body = {k: v for k, v in doc.items() if k not in UNHASHED}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def artifact_sha256(config_sha: str, files: dict[str, str]) -> str:
    """The artifact hash: the config's content hash and every weight file's hash, in one digest."""
    text = json.dumps({"config": config_sha, "files": dict(sorted(files.items()))}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _keep_constant(name: str) -> float:
    """NaN and ±Infinity in config.json are read (so :meth:`ArtifactConfig.problems` names them), not refused."""
    return float(name.replace("Infinity", "inf"))


def _numbers(obj: Any, where: str = "") -> list[tuple[str, float]]:
    """Every float in a nested mapping, with its path."""
    if isinstance(obj, bool):
        return []
    if isinstance(obj, float):
        return [(where, obj)]
    if isinstance(obj, dict):
        return [x for k, v in obj.items() for x in _numbers(v, f"{where}.{k}" if where else str(k))]
    if isinstance(obj, (list, tuple)):
        return [x for i, v in enumerate(obj) for x in _numbers(v, f"{where}[{i}]")]
    return []
