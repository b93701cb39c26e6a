"""Export of a trained network to the deployable artifact (contract D, :class:`ArtifactConfig`):
``model.safetensors`` + ``config.json`` + ``model.onnx`` (dynamic N, H, W) + ``model_card.md``.

``config.json`` is sealed on save (``config_sha256``, see :mod:`cargoscan.models.artifact`), and the weights are
refused if any is not finite: a NaN written into an artifact would otherwise be hashed and trusted.

The ONNX graph is checked against PyTorch with onnxruntime at two input sizes (so the dynamic axes are real);
the largest absolute difference is recorded in the config and the card.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from cargoscan.models.artifact import ArtifactConfig, sha256_file

log = logging.getLogger(__name__)


class _OnnxWrapper(torch.nn.Module):
    """Names the two outputs and makes them a plain tuple for the exporter."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask, label = self.model(image)
        return mask, label


def export_onnx(model: torch.nn.Module, path: str | Path, in_channels: int, size: int = 128, opset: int = 17) -> None:
    """Write ``model`` as ONNX: input ``image`` (N, C, H, W), outputs ``mask`` (N, K, H, W) and ``label`` (N, M).

    The TorchScript-based exporter is used (``dynamo=False``): it is an order of magnitude faster on these
    convolutional nets and handles the dynamic axes directly.
    """
    model = model.eval().float().to(memory_format=torch.contiguous_format)
    x = torch.zeros(1, in_channels, size, size)
    torch.onnx.export(
        _OnnxWrapper(model), (x,), str(path), input_names=["image"], output_names=["mask", "label"],
        opset_version=opset, dynamo=False,
        dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "mask": {0: "n", 2: "h", 3: "w"}, "label": {0: "n"}})


def onnx_parity(model: torch.nn.Module, path: str | Path, in_channels: int,
                sizes: tuple[tuple[int, int], ...] = ((128, 128), (96, 224)), seed: int = 0,
                relative: bool = False) -> float:
    """Largest absolute difference between PyTorch and onnxruntime outputs over random inputs of ``sizes``.

    With ``relative``, each output's difference is divided by ``max(1, max |output|)``: a trained network's
    logits reach tens or hundreds, where float32 kernels that sum in another order differ by more than 1e-3
    while agreeing to six digits.
    """
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    g = torch.Generator().manual_seed(seed)
    worst = 0.0
    model = model.eval().float()
    for h, w in sizes:
        x = torch.randn(2, in_channels, h, w, generator=g)
        with torch.no_grad():
            ref = [t.numpy() for t in model(x)]
        got = session.run(["mask", "label"], {"image": x.numpy()})
        for r, o in zip(ref, got):
            if r.shape != o.shape:
                raise AssertionError(f"ONNX output shape {o.shape} != PyTorch {r.shape} at input {h}×{w}")
            scale = max(1.0, float(np.abs(r).max())) if relative else 1.0
            worst = max(worst, float(np.abs(r - o).max()) / scale)
    return worst


def model_card(cfg: ArtifactConfig, metrics: dict[str, Any], data: dict[str, Any]) -> str:
    """The model card (Markdown): what it is, how good, at what operating point, on what data, and its limits."""
    d, s, c = metrics.get("detection", {}), metrics.get("segmentation", {}), metrics.get("category", {})
    op = cfg.extra.get("operating_point") or {}
    iou = "\n".join(f"| {k} | {v if v is not None else 'n/a'} | {s.get('dice', {}).get(k)} |"
                    for k, v in s.get("iou", {}).items())
    sites = "\n".join(f"| {k} | {v['n']} | {v['detection_rate']} |" for k, v in d.get("per_site", {}).items())
    vis = metrics.get("visibility") or {}
    visible = ", ".join(f"{k} {v['visible_share']:.0%} of {v['regions']}" for k, v in vis.get("per_class", {}).items())
    return f"""# Model card: {cfg.name} {cfg.version}

**Network:** SMP `{cfg.arch}` with encoder `{cfg.encoder}`, random initialisation (no pretrained weights);
auxiliary cargo-category head over {len(cfg.categories)} categories. Output: {"sigmoid per class" if cfg.multilabel
else "softmax over classes"} for {", ".join(cfg.classes)}.

**Input:** channels {", ".join(cfg.in_channels)} (attenuation in physical units, `cargoscan.data.channels`) at a
pitch of {cfg.pitch_mm[0]} × {cfg.pitch_mm[1]} mm, normalised with mean {list(cfg.norm_mean)} and std
{list(cfg.norm_std)}; tiles of {cfg.tile} px with {cfg.overlap} px overlap. ONNX: dynamic N, H, W (multiples of 32).

## Evaluation (held-out test split, whole wagons; trains never shared between splits)

- Per-wagon detection of "something to find": AUROC {d.get("auroc")}, average precision {d.get("ap")}.
- **Operating point** (sealed in config.json): wagon threshold {cfg.wagon_threshold:.4f} on the raw wagon score
  (`cargoscan.scoring.wagon`), calibration {(cfg.calibration or {}).get("method", "none")}; chosen on
  {op.get("chosen_on", "the validation split")} for ≤ {cfg.extra.get("target_far", d.get("target_far"))} false
  alarms on clean wagons: there, false alarms {_r(op.get("false_alarm_rate"))}, detection
  {_r(op.get("detection_rate"))}. The 1,500-wagon benchmark (`reports/benchmark.json`) measures it on an archive
  of its own.
- {_decision(cfg.extra.get("decision"))}
- {_mass_calibration(cfg.extra.get("mass_calibration"))}
- At that threshold on the small test split: detection {d.get("detection_rate")} of {d.get("n_positive")}
  threat wagons, false alarms {d.get("false_alarm_rate")} of {d.get("n_negative")} clean ones.
- Cargo-category accuracy: {c.get("accuracy")} ({c.get("n")} wagons).

| class | IoU | Dice |
|---|---|---|
{iou}

| concealment site | wagons | detection rate |
|---|---|---|
{sites}

## Training data

Prepared data: {data.get("scans")} scans per split, {data.get("tiles")} tiles, channels {data.get("channels")};
data version (`dvc.lock` sha256): `{cfg.extra.get("dvc_lock_sha256", "n/a")}`; MLflow run `{cfg.extra.get("run_id")}`.

## Limits

- Trained on **synthetic** scans from `cargoscan synth`; performance on a real scanner is unknown until it is
  validated on labelled real scans (and the operating point re-chosen there).
- Visibility at the model pitch (test split, share of labelled threat regions with contrast-to-noise > 1 against
  their surroundings, `cargoscan.data.visibility`): {visible or "n/a"}. Concealment that does not stand out can
  only be found by shape or context; detection among wagons with a visible threat:
  {vis.get("detection_rate_visible", "n/a")} ({vis.get("wagons_visible", "n/a")} wagons).
- Small test sets make the rates above coarse (one wagon can move a rate by several percent).
- The classifier sees only what the scanner sees: dense cargo that starves the detector hides what is behind it;
  such wagons must go to manual inspection.
- ONNX/PyTorch max abs difference: {cfg.extra.get("onnx_max_abs_diff")}.
"""


def _decision(dec: dict[str, Any] | None) -> str:
    """The model card's line on the declaration checks' joint operating point (cargoscan.scoring.budget)."""
    if not dec:
        return "**Declaration checks**: the physical rules (no decision budget was chosen for this artifact)."
    th = ", ".join(f"{k} {v:.2f}" for k, v in (dec.get("thresholds") or {}).items())
    return (f"**Declaration checks** (sealed in config.json): thresholds {th} × the physical rules, chosen jointly "
            f"on {dec.get('chosen_on')} for ≤ {dec.get('budget_total')} honest clean wagons red for any reason; "
            f"there {_r(dec.get('honest_clean_red_rate'))}.")


def _mass_calibration(cal: dict[str, Any] | None) -> str:
    """The model card's line on the mass read at the dark level (cargoscan.inspect.mass_calibration)."""
    if not cal or not cal.get("beta"):
        return "**Mass at the dark level**: uncalibrated (a unit read there is judged as a lower bound)."
    per = ", ".join(f"{c} β {b:+.2f} ± {cal['spread'][c]:.0%} (n {(cal.get('n') or {}).get(c, '?')})"
                    for c, b in cal["beta"].items())
    return (f"**Mass at the dark level** (sealed in config.json), calibrated per category on "
            f"{cal.get('fitted_on', 'the validation archive')}: {per}.")


def _r(r: Any) -> str:
    """A rate dict of cargoscan.scoring.intervals.rate as "k/n (lo–hi)"."""
    if not isinstance(r, dict):
        return "n/a"
    lo, hi = r.get("ci95", [None, None])
    return f"{r.get('k')}/{r.get('n')} (95 % CI {lo:.3f}–{hi:.3f})" if lo is not None else f"{r.get('k')}/{r.get('n')}"


def write_artifact(model: torch.nn.Module, cfg: ArtifactConfig, out_dir: str | Path, metrics: dict[str, Any],
                   data: dict[str, Any], opset: int = 17, parity_atol: float = 1e-3) -> ArtifactConfig:
    """Write weights, ONNX, config (with hashes and the parity figure) and the model card into ``out_dir``.

    Raises:
        AssertionError: when ONNX and PyTorch disagree by more than ``parity_atol``.
    """
    import dataclasses

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = model.eval().float().cpu()
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ValueError(f"weights not finite, not exported: {bad[:5]}")
    save_file(state, str(out / "model.safetensors"), metadata={"arch": cfg.arch, "encoder": cfg.encoder})
    n_in = len(cfg.in_channels)
    export_onnx(model, out / "model.onnx", n_in, cfg.tile, opset)
    sizes = ((cfg.tile, cfg.tile), (cfg.tile - 32, cfg.tile + 96))
    diff = onnx_parity(model, out / "model.onnx", n_in, sizes)
    rel = onnx_parity(model, out / "model.onnx", n_in, sizes, relative=True)
    if rel > parity_atol:
        raise AssertionError(f"ONNX parity failed: max difference {rel:.3g} of the output scale > {parity_atol} "
                             f"(max abs diff {diff:.3g})")
    hashes = {f: sha256_file(out / f) for f in ("model.safetensors", "model.onnx")}
    cfg = dataclasses.replace(cfg, version=cfg.version or hashes["model.safetensors"][:12], sha256=hashes,
                              extra={**cfg.extra, "onnx_max_abs_diff": diff, "onnx_max_rel_diff": rel,
                                     "onnx_opset": opset})
    cfg.save(out)
    cfg = ArtifactConfig.load(out)      # as written: with config_sha256, the hash the inspector verifies
    (out / "model_card.md").write_text(model_card(cfg, metrics, data), encoding="utf-8")
    log.info("exported %s %s to %s (ONNX parity max abs diff %.2e)", cfg.name, cfg.version, out, diff)
    return cfg
