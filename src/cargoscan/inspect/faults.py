"""The fault catalogue of the fail-closed benchmark: wrong data that *reads* fine, and what each must not do.

Each fault turns a valid input into a wrong one the way a broken export, a misconfigured scanner, a careless or
hostile declarant or a tampered deployment would. None of them may give «без подозрения»
(``benchmarks/bench_faults.py`` counts those; the target is 0).

Three families, by what they change:

* **image** faults — ``fn(image, meta, rng) → (image, meta)`` on a (2, H, W) uint16 scan and its sidecar;
* **declaration** faults — ``fn(rows, rng) → rows`` on declaration rows that otherwise agree with the scan;
* **artifact** faults — ``fn(artifact_dir, references_dir, rng)`` on temporary copies of the deployed model and
  its reference library (the inspector is then loaded from the copies).

A file fault (``truncated``) writes the scan and cuts the file. :data:`CONTROLS` are changes that are *not*
faults: a horizontally mirrored scan is a train that passed the portal the other way (the sidecar's
``direction`` says import or export, the archive stores columns "along the train in scan direction"), so a
clean wagon mirrored must still be judged on its content, and it is reported beside the faults, not among them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import ndimage

from cargoscan.archive.validity import MAX_VALUE
from cargoscan.models.artifact import ArtifactConfig, sha256_file

Image = np.ndarray
ImageFault = Callable[[Image, dict, np.random.Generator], tuple[Image, dict]]
RowsFault = Callable[[list[dict[str, str]], np.random.Generator], list[dict[str, str]]]
ArtifactFault = Callable[[Path, Path, np.random.Generator], None]


def _pick(rng: np.random.Generator, options: list):
    """One of ``options`` (``rng.choice`` would go through a numpy string array, which drops a trailing NUL)."""
    return options[int(rng.integers(0, len(options)))]


def _u16(x: np.ndarray) -> Image:
    return np.clip(np.round(x), 0, MAX_VALUE).astype(np.uint16)


def _pitch(meta: dict, row: float, column: float) -> dict:
    return {**meta, "pixel_pitch_mm": {"row": row, "column": column}}


def _swap_pitch(meta: dict) -> dict:
    p = meta["pixel_pitch_mm"]
    return _pitch(meta, p["column"], p["row"])


# -- image faults -----------------------------------------------------------------------------------------------
def high_zeroed(im, meta, rng):
    out = im.copy()
    out[0] = rng.integers(0, 3)          # zero, or a dead page's offset of a count or two
    return out, meta


def low_zeroed(im, meta, rng):
    out = im.copy()
    out[1] = rng.integers(0, 3)
    return out, meta


def pages_swapped(im, meta, rng):
    return im[::-1].copy(), meta


def inverted(im, meta, rng):
    """A log or negative export read as transmission: air dark, the wheels bright."""
    if rng.random() < 0.5:
        return (MAX_VALUE - im).astype(np.uint16), meta
    a = -np.log(np.clip(im / MAX_VALUE, 0.5 / MAX_VALUE, 1.0))
    return _u16(a / a.max() * MAX_VALUE), meta


def transposed(im, meta, rng):
    return np.ascontiguousarray(im.transpose(0, 2, 1)), _swap_pitch(meta)


def rotated_90(im, meta, rng):
    k = _pick(rng, [1, 3])
    return np.ascontiguousarray(np.rot90(im, k, axes=(1, 2))), _swap_pitch(meta)


def rotated_180(im, meta, rng):
    return np.ascontiguousarray(im[:, ::-1, ::-1]), meta


def flipped_vertical(im, meta, rng):
    """Upside down (rail at the top), the train's direction kept."""
    return np.ascontiguousarray(im[:, ::-1, :]), meta


def eight_bit(im, meta, rng):
    """Cut to 8 bits and scaled back (×257 or ×256, with or without rounding)."""
    scale = _pick(rng, [256.0, 257.0])
    q = np.round(im / scale) if rng.random() < 0.5 else np.floor(im / scale)
    return _u16(q * scale), meta


def constant(im, meta, rng):
    return np.full_like(im, int(rng.integers(0, MAX_VALUE + 1))), meta


def noise_image(im, meta, rng):
    """Pure noise: no wagon at all."""
    if rng.random() < 0.5:
        return rng.integers(0, MAX_VALUE + 1, im.shape, dtype=np.uint16), meta
    mean, sd = rng.uniform(0.2, 0.8) * MAX_VALUE, rng.uniform(0.05, 0.3) * MAX_VALUE
    return _u16(rng.normal(mean, sd, im.shape)), meta


def gaussian_noise(im, meta, rng):
    """The quantum noise smoothed away and replaced by Gaussian noise of constant σ (in A, or in counts)."""
    t = ndimage.gaussian_filter(im.astype(np.float32) / MAX_VALUE, sigma=(0, 2.0, 2.0))
    if rng.random() < 0.5:
        a = -np.log(np.clip(t, 0.5 / MAX_VALUE, 1.0))
        a = a + rng.normal(0, rng.uniform(0.005, 0.05), a.shape).astype(np.float32)
        return _u16(np.exp(-a) * MAX_VALUE), meta
    return _u16((t + rng.normal(0, rng.uniform(0.002, 0.02), t.shape).astype(np.float32)) * MAX_VALUE), meta


def gain_high(im, meta, rng):
    """Gain or air level too high (×1.15–1.6): the air clips at full scale."""
    return _u16(im.astype(np.float32) * rng.uniform(1.15, 1.6)), meta


def gain_low(im, meta, rng):
    """Air level wrong: air reads 55–88 % of full scale."""
    return _u16(im.astype(np.float32) * rng.uniform(0.55, 0.88)), meta


def saturated(im, meta, rng):
    """Heavy saturation: everything above a level clips, then rescaled to full scale."""
    level = rng.uniform(0.05, 0.5) * MAX_VALUE
    return _u16(np.minimum(im, level) / level * MAX_VALUE), meta


def absurd_pitch(im, meta, rng):
    """A pitch that makes the wagon 3–10 times too long or too short (or the portal too high)."""
    p = meta["pixel_pitch_mm"]
    f = float(rng.uniform(3, 10)) ** (1 if rng.random() < 0.5 else -1)
    if rng.random() < 0.7:
        return im, _pitch(meta, p["row"], p["column"] * f)
    return im, _pitch(meta, p["row"] * f, p["column"])


IMAGE_FAULTS: dict[str, ImageFault] = {
    "high_zeroed": high_zeroed, "low_zeroed": low_zeroed, "pages_swapped": pages_swapped, "inverted": inverted,
    "transposed": transposed, "rotated_90": rotated_90, "rotated_180": rotated_180,
    "flipped_vertical": flipped_vertical, "eight_bit": eight_bit, "constant": constant, "noise_image": noise_image,
    "gaussian_noise": gaussian_noise, "gain_high": gain_high, "gain_low": gain_low, "saturated": saturated,
    "absurd_pitch": absurd_pitch,
}


def flipped_horizontal(im, meta, rng):
    """Not a fault: the train passed the other way."""
    return np.ascontiguousarray(im[:, :, ::-1]), meta


CONTROLS: dict[str, ImageFault] = {"flipped_horizontal": flipped_horizontal}


# -- declaration faults -----------------------------------------------------------------------------------------
def _each(rows, **values):
    return [{**r, **values} for r in rows]


def decl_zero_kg(rows, rng):
    return _each(rows, net_weight_kg="0", gross_weight_kg=_pick(rng, ["0", "0.0", "150"]))


def decl_huge_kg(rows, rng):
    big = _pick(rng, ["1" + "0" * 400, "1e400", "9" * 30, "inf", "nan"])
    return _each(rows, net_weight_kg=big, gross_weight_kg=big)


def decl_negative_kg(rows, rng):
    return _each(rows, net_weight_kg=f"-{rng.uniform(1, 20000):.1f}")


def decl_gross_below_net(rows, rng):
    return [{**r, "gross_weight_kg": f"{float(r['net_weight_kg']) * rng.uniform(0.3, 0.95):.1f}"} for r in rows]


def decl_bad_hs(rows, rng):
    return _each(rows, hs_code=_pick(rng, ["62O4", "6", "620", "62041", "6204-10", "0000", "9900", "", "620400000000",
                                               "６２０４"]))


def decl_huge_packages(rows, rng):
    return _each(rows, packages_count=_pick(rng, ["1000000000", "-5", "1e9", "12.5", "999999"]))


def decl_control_chars(rows, rng):
    bad = _pick(rng, ["\x1b[31m", "\x00", "\x07", "\u202e", "\x1b", "\r\x0b"])
    field = _pick(rng, ["goods_description", "consignor", "consignee", "packaging"])
    return [{**r, field: r.get(field, "") + bad + "груз"} for r in rows]


def decl_understated(rows, rng):
    """100 kg (or a few hundred) declared for a loaded wagon."""
    each = _pick(rng, [100.0, 200.0, 500.0]) / max(len(rows), 1)
    return _each(rows, net_weight_kg=f"{each:.1f}", gross_weight_kg=f"{each * 1.1:.1f}")


DECLARATION_FAULTS: dict[str, RowsFault] = {
    "decl_zero_kg": decl_zero_kg, "decl_huge_kg": decl_huge_kg, "decl_negative_kg": decl_negative_kg,
    "decl_gross_below_net": decl_gross_below_net, "decl_bad_hs": decl_bad_hs,
    "decl_huge_packages": decl_huge_packages, "decl_control_chars": decl_control_chars,
    "decl_understated": decl_understated,
}
#: Faults that need a loaded wagon to be faults at all (100 kg declared for an empty unit is the truth).
NEEDS_LOAD_KG = {"decl_understated": 1000.0}


# -- artifact faults --------------------------------------------------------------------------------------------
def _config(artifact: Path) -> dict:
    return json.loads((artifact / "config.json").read_text(encoding="utf-8"))


def _write_config(artifact: Path, doc: dict, reseal: bool) -> None:
    """Write an edited config.json; ``reseal`` recomputes its ``config_sha256`` as a forger who read the code
    would (the reference library's binding to the artifact hash must then catch it)."""
    (artifact / "config.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    if reseal:
        ArtifactConfig.load(artifact).save(artifact)


def threshold_edited(artifact, refs, rng):
    doc = _config(artifact)
    doc["wagon_threshold"] = _pick(rng, [2.0, 1.01, 10.0, 0.999])
    doc["thresholds"] = {k: 2.0 for k in doc.get("thresholds", {})}
    _write_config(artifact, doc, reseal=bool(rng.random() < 0.5))


def config_nan(artifact, refs, rng):
    doc = _config(artifact)
    key = _pick(rng, ["norm_std", "norm_mean"])
    doc[key] = [float("nan")] + list(doc[key][1:])
    _write_config(artifact, doc, reseal=bool(rng.random() < 0.5))


def weights_corrupted(artifact, refs, rng):
    """Random bytes of the weight file changed (its hash in config.json left as it was)."""
    path = artifact / "model.onnx"
    data = bytearray(path.read_bytes())
    for i in rng.integers(len(data) // 2, len(data), size=int(rng.integers(1, 16))):
        data[int(i)] ^= 0xFF
    path.write_bytes(bytes(data))


def weights_nan(artifact, refs, rng):
    """A weight tensor set to NaN, and every hash recomputed: the forger reseals config.json too."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(artifact / "model.onnx"))
    inits = [i for i in model.graph.initializer if numpy_helper.to_array(i).dtype.kind == "f"]
    init = inits[int(rng.integers(0, len(inits)))]
    w = numpy_helper.to_array(init).copy()
    w.reshape(-1)[int(rng.integers(0, w.size))] = _pick(rng, [np.nan, np.inf])
    init.CopyFrom(numpy_helper.from_array(w, init.name))
    onnx.save(model, str(artifact / "model.onnx"))
    doc = _config(artifact)
    doc["sha256"] = {**doc["sha256"], "model.onnx": sha256_file(artifact / "model.onnx")}
    _write_config(artifact, doc, reseal=True)


def references_nan(artifact, refs, rng):
    """NaN in the library's embeddings, with its npz hash recomputed."""
    with np.load(refs / "library.npz", allow_pickle=False) as d:
        data = {k: d[k] for k in d.files}
    e = data["embeddings"].copy()
    e[int(rng.integers(0, e.shape[0])), int(rng.integers(0, e.shape[1]))] = np.nan
    data["embeddings"] = e
    np.savez(refs / "library.npz", **data)
    info = json.loads((refs / "library.json").read_text(encoding="utf-8"))
    info["library_sha256"] = sha256_file(refs / "library.npz")
    (refs / "library.json").write_text(json.dumps(info), encoding="utf-8")


def references_unbound(artifact, refs, rng):
    """The library's binding to the model removed or pointing at another model."""
    info = json.loads((refs / "library.json").read_text(encoding="utf-8"))
    model = dict(info.get("model") or {})
    if rng.random() < 0.5:
        model.pop("sha256", None)
    else:
        model["sha256"] = "0" * 64
    info["model"] = model
    (refs / "library.json").write_text(json.dumps(info), encoding="utf-8")


ARTIFACT_FAULTS: dict[str, ArtifactFault] = {
    "threshold_edited": threshold_edited, "config_nan": config_nan, "weights_corrupted": weights_corrupted,
    "weights_nan": weights_nan, "references_nan": references_nan, "references_unbound": references_unbound,
}
FILE_FAULTS = ("truncated",)


def truncate(path: Path, rng: np.random.Generator) -> None:
    """Cut a written scan file at a random point (header kept or not)."""
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:int(size * rng.uniform(0.0, 0.95))])


def kinds() -> list[str]:
    """Every fault kind, in catalogue order."""
    return [*IMAGE_FAULTS, *DECLARATION_FAULTS, *ARTIFACT_FAULTS, *FILE_FAULTS]
