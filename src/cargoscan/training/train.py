"""The ``train`` stage: Lightning fit of a registry model on prepared tiles, tracked in MLflow.

Writes ``<out_dir>/checkpoints/{best,last}.ckpt`` and ``<out_dir>/train.json`` (the MLflow run id, the best
checkpoint and the data statistics the later stages need).

**Resumable.** Checkpoints are written every ``checkpoint_every_n_steps`` steps and every epoch to
``checkpoint_dir``, which is *not* a DVC output (DVC deletes a stage's outputs before it runs). A run that was
stopped — a killed ``dvc exp run``, a lost machine — and is started again with the same parameters and the same
prepared data finds ``last.ckpt`` there with a matching fingerprint and goes on where it stopped, in the same
MLflow run; different parameters or data start afresh. ``resume=True`` insists on resuming.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import MLFlowLogger
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from cargoscan.data.dataset import Prepared
from cargoscan.models.registry import model_name
from cargoscan.training.config import TrainParams
from cargoscan.training.datamodule import TileDataModule
from cargoscan.training.module import SegmentationModule
from cargoscan.training.tracking import OverlayCallback, create_run, flatten, run_tags

log = logging.getLogger(__name__)

MONITOR = "val_loss"


def model_kwargs(p: TrainParams) -> dict[str, Any]:
    """SMP keyword arguments that differ from the registry's defaults (kept in the checkpoint and the artifact)."""
    kw: dict[str, Any] = {}
    if p.encoder_depth != 5:
        kw["encoder_depth"] = p.encoder_depth
    if p.decoder_channels:
        kw["decoder_channels"] = list(p.decoder_channels)
    return kw


def loss_weights(prepared: list[float], power: float) -> list[float]:
    """The class weights of the loss: ``prepare``'s inverse-frequency weights raised to ``power`` and renormalised
    to a mean of 1.

    Why a knob: the sampler already oversamples threat tiles (``threat_tile_fraction``), and weighting their pixels
    by inverse frequency on top of that counts the imbalance twice. The model then paints low-grade threat
    probability over every wall and stanchion, which is harmless for pixel recall and ruinous for a per-wagon
    score taken from the top of the threat map.
    """
    w = [float(x) ** power for x in prepared]
    mean = sum(w) / len(w)
    return [x / mean for x in w]


def batch_limit(value: float | int) -> int | float:
    """Lightning's batch limit: an int is a count of batches, a float a fraction, except that a whole float above
    1 (params.yaml's ``40`` read into a float field) is a count too."""
    if isinstance(value, int) or (float(value).is_integer() and value > 1):
        return int(value)
    return float(value)


def build_trainer(p: TrainParams, out: Path, logger: Any, callbacks: list, progress_bar: bool = True) -> L.Trainer:
    """The Trainer, configured from params (hardware, precision, DDP, limits)."""
    on_gpu = p.accelerator in ("gpu", "cuda") or (p.accelerator == "auto" and torch.cuda.is_available())
    deterministic: bool | str = p.deterministic
    if p.deterministic and on_gpu:
        deterministic = "warn"  # some CUDA kernels (e.g. upsampling backward) have no deterministic form
    return L.Trainer(
        max_epochs=p.epochs, accelerator=p.accelerator, devices=p.devices, num_nodes=p.num_nodes,
        strategy=p.strategy, precision=p.precision, deterministic=deterministic,
        limit_train_batches=batch_limit(p.limit_train_batches), limit_val_batches=batch_limit(p.limit_val_batches),
        log_every_n_steps=p.log_every_n_steps, logger=logger,
        callbacks=callbacks + ([RichProgressBar()] if progress_bar else []),
        enable_progress_bar=progress_bar, enable_model_summary=False, default_root_dir=str(out),
        num_sanity_val_steps=0,
    )


def fingerprint(p: TrainParams, stats: dict[str, Any]) -> str:
    """What a checkpoint must share with this run to be resumed: the parameters (but the run-control ones, and
    ``epochs``: a finished run may be continued for more), the prepared data's statistics and the source of the
    code that trains (a changed loss or sampler must not continue an old run)."""
    import hashlib

    import cargoscan

    keep = {k: v for k, v in dataclasses.asdict(p).items()
            if k not in ("out_dir", "checkpoint_dir", "checkpoint_every_n_steps", "num_workers", "log_every_n_steps",
                         "epochs", "patience")}
    h = hashlib.sha256(json.dumps({"params": keep, "stats": stats}, sort_keys=True, default=str).encode())
    pkg = Path(cargoscan.__file__).parent
    for part in ("training", "data", "models", "tip"):
        for f in sorted((pkg / part).rglob("*.py")):
            h.update(f.relative_to(pkg).as_posix().encode() + f.read_bytes())
    return h.hexdigest()


def resume_state(ckpt_dir: Path, fp: str, resume: bool) -> dict[str, Any]:
    """The earlier run to continue (``run.json``: fingerprint, MLflow run id, seconds), or {} to start afresh."""
    run_file, last = ckpt_dir / "run.json", ckpt_dir / "last.ckpt"
    state = json.loads(run_file.read_text()) if run_file.exists() else {}
    if last.exists() and state.get("fingerprint") == fp:
        log.info("resuming from %s (same parameters and data)", last)
        return state
    if resume:
        raise FileNotFoundError(f"{last}: nothing to resume from with these parameters and data")
    for f in ckpt_dir.glob("*.ckpt"):   # another run's checkpoints: not ours to continue
        f.unlink()
    return {}


class _RunClock(L.Callback):
    """Keeps the run's training seconds in ``run.json`` at every validation, so a resumed run adds up its time."""

    def __init__(self, path: Path, t0: float, before: float):
        self.path, self.t0, self.before = path, t0, before

    @rank_zero_only
    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        state = json.loads(self.path.read_text()) if self.path.exists() else {}
        state["seconds"] = round(self.before + time.time() - self.t0, 1)
        self.path.write_text(json.dumps(state) + "\n")


def train(p: TrainParams, resume: bool = False, progress_bar: bool = True) -> dict[str, Any]:
    """Fit a model. Returns the ``train.json`` record (on every rank; only rank 0 writes it)."""
    t0 = time.time()
    L.seed_everything(p.seed, workers=True)
    out = Path(p.out_dir)
    ckpt_dir = Path(p.checkpoint_dir) if p.checkpoint_dir else out.parent / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    data = Prepared(p.prepared_dir)
    stats = data.stats
    name = model_name(p.arch, p.encoder)
    record_path = out / "train.json"
    fp = fingerprint(p, stats)
    previous = resume_state(ckpt_dir, fp, resume)
    resume = bool(previous)
    last = ckpt_dir / "last.ckpt"

    run_id = previous.get("run_id")
    if rank_zero_only.rank == 0 and not run_id:
        run_id = create_run(p.tracking_uri, p.experiment, p.artifact_location, f"{name}-{p.seed}",
                            run_tags({"model": name}))
    logger = MLFlowLogger(experiment_name=p.experiment, tracking_uri=p.tracking_uri, run_id=run_id,
                          artifact_location=str(Path(p.artifact_location).resolve()))
    if rank_zero_only.rank == 0 and not resume:
        logger.log_hyperparams({**flatten(dataclasses.asdict(p), "train."),
                                **flatten({k: stats[k] for k in ("channels", "pitch_mm", "tile", "overlap",
                                                                 "scans", "tiles", "class_weights")}, "data.")})

    module = SegmentationModule(
        name, model_kwargs=model_kwargs(p), in_channels=len(stats["channels"]), classes=list(stats["classes"]),
        categories=data.categories,
        class_weights=loss_weights(stats["class_weights"], p.class_weight_power), multilabel=p.multilabel,
        lr=p.lr, weight_decay=p.weight_decay,
        dice_weight=p.dice_weight, focal_weight=p.focal_weight, focal_gamma=p.focal_gamma, aux_weight=p.aux_weight,
        any_threat_weight=p.any_threat_weight, any_threat_pos_weight=p.any_threat_pos_weight,
        channels_last=p.channels_last)
    if p.compile:
        module.model = torch.compile(module.model)
    dm = TileDataModule(p.prepared_dir, p.batch_size, p.num_workers, p.augment, p.seed, p.threat_tile_fraction,
                        p.samples_per_epoch, p.projection, p.hard_negative_weight)
    dm.setup("fit")
    module.hard_negatives = dm.hard
    if rank_zero_only.rank == 0:
        (ckpt_dir / "run.json").write_text(json.dumps({"fingerprint": fp, "run_id": run_id,
                                                        "seconds": previous.get("seconds", 0.0)}) + "\n")
    best_cb = ModelCheckpoint(dirpath=ckpt_dir, filename="best", monitor=MONITOR, mode="min",
                              enable_version_counter=False)
    last_cb = ModelCheckpoint(dirpath=ckpt_dir, filename="step", every_n_train_steps=p.checkpoint_every_n_steps,
                              save_top_k=1, save_last=True, enable_version_counter=False)
    callbacks = [best_cb, last_cb, _RunClock(ckpt_dir / "run.json", t0, previous.get("seconds", 0.0)), EarlyStopping(monitor=MONITOR, mode="min", patience=p.patience),
                 OverlayCallback(p.tracking_uri, run_id, p.overlay_samples, stats["norm_mean"], stats["norm_std"])
                 if run_id else OverlayCallback(p.tracking_uri, "", 0)]
    trainer = build_trainer(p, out, logger, callbacks, progress_bar)
    trainer.fit(module, dm, ckpt_path=str(last) if resume else None)

    out_ckpt = out / "checkpoints"     # the stage's output: the best and last weights, copied from ckpt_dir
    out_ckpt.mkdir(parents=True, exist_ok=True)
    best_src = Path(best_cb.best_model_path) if best_cb.best_model_path else last
    if trainer.global_rank == 0:
        shutil.copy2(best_src, out_ckpt / "best.ckpt")
        shutil.copy2(last, out_ckpt / "last.ckpt")
    record = {
        "run_id": run_id, "tracking_uri": p.tracking_uri, "model": name, "arch": p.arch, "encoder": p.encoder,
        "model_kwargs": model_kwargs(p), "multilabel": p.multilabel,
        "best_checkpoint": "checkpoints/best.ckpt", "resumed": resume,
        "projected_instances": int(module.projected_instances),
        "best_score": float(best_cb.best_model_score) if best_cb.best_model_score is not None else None,
        "epochs": int(trainer.current_epoch), "global_step": int(trainer.global_step),
        "seconds": round(time.time() - t0 + previous.get("seconds", 0.0), 1),
        "prepared_dir": p.prepared_dir, "stats": stats,
    }
    if trainer.global_rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        record_path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        log.info("trained %s: %d epochs, %d steps, best %s=%s in %.0f s (MLflow run %s)", name, record["epochs"],
                 record["global_step"], MONITOR, record["best_score"], record["seconds"], run_id)
    return record


def load_module(model_dir: str | Path, map_location: str = "cpu") -> tuple[SegmentationModule, dict[str, Any]]:
    """The best checkpoint of a ``train`` output directory and its ``train.json`` record."""
    model_dir = Path(model_dir)
    record = json.loads((model_dir / "train.json").read_text(encoding="utf-8"))
    module = SegmentationModule.load_from_checkpoint(model_dir / record["best_checkpoint"], map_location=map_location)
    module.eval()
    return module, record
