"""Training of the text detector and the CRNN recogniser (Lightning), and their export to ONNX.

The data are rendered, not read, with seeds of their own (disjoint from the held-out benchmark's). The detector
learns from whole frames (:func:`render_dataset`: the frame at detector size and its line-core target). The
recogniser learns mostly from rendered line patches (:func:`cargoscan.ocr.lines.render_line_dataset`: cheap,
letter-balanced, cut like the detector cuts) plus the crops of the detector's frames. Crops are batched by width
(:class:`WidthBatches`) so that a batch of short owner codes does not pay for 256 columns of padding; the
recogniser is fully convolutional along the line and exported with a dynamic width. Everything lives in memory.
:func:`train_ocr` fits both networks and writes ``model_dir``: ``detector.onnx``, ``recognizer.onnx``,
``model.safetensors`` (both state dicts) and ``config.json``.
"""

from __future__ import annotations

import json
import logging
import string
from dataclasses import asdict
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cargoscan.ids import make_container_number
from cargoscan.ocr.config import OcrParams
from cargoscan.ocr.detect import crop_line, detector_input, detector_target, to_gray
from cargoscan.ocr.frames import render_degraded, synthetic_units
from cargoscan.ocr.lines import CROP_JITTER, content_width, render_line_dataset
from cargoscan.ocr.model import ALPHABET, BLANK, create_model, encode

log = logging.getLogger(__name__)

#: Character draw of the letter-balancing doors: letters three times as likely as digits.
_LETTER_HEAVY = np.array([1.0] * 10 + [3.0] * 26) / (10 + 3 * 26)


def render_dataset(n_frames: int, params: OcrParams, seed: int,
                   identities: list[tuple[str, str]] | None = None) -> dict[str, torch.Tensor]:
    """Render frames and turn them into detector and recogniser tensors.

    Args:
        n_frames: how many frames.
        params: the ``ocr:`` parameters.
        seed: the rendering seed.
        identities: optional fixed ``(kind, text)`` pairs to draw from (tests); default random valid numbers.

    Returns:
        ``det_x`` (N,1,h,w), ``det_y`` (N,1,h/2,w/2) line cores, ``rec_x`` (M,1,32,W) float16 crops, one per
        painted line (and jitter), ``rec_w`` (M,) their content widths, ``rec_y`` (M, 11) padded labels,
        ``rec_len`` (M,) label lengths.
    """
    from cargoscan.logs import progress

    rng = np.random.default_rng(seed)
    units = synthetic_units(n_frames, rng)
    det_x, det_y, rec_x, rec_w, rec_y, rec_len = [], [], [], [], [], []
    with progress(transient=True) as bar:
        task = bar.add_task("render OCR data", total=n_frames)
        for u in units:
            if identities:
                kind, text = identities[int(rng.integers(len(identities)))]
                frame = render_degraded(rng, text, kind, u["wagon_type"], params.frames)
            elif rng.random() < params.train.container_share:   # doors are rarer than sides, but harder (letters)
                # Any three letters as owner code: with only the dozen real prefixes the recogniser learns a
                # prior over them instead of reading the letters.
                owner = "".join(rng.choice(list(string.ascii_uppercase), size=3))
                code = make_container_number(rng, owner)
                if rng.random() < params.train.letter_share:
                    # Letters are starved otherwise: a code has 3 free letters and 7 digits, a wagon 8 digits, so
                    # each letter class got ~10x fewer samples than each digit and the small-profile recogniser
                    # never learned them (every owner code came out as "U" or garbage). Doors painted with random
                    # letters and digits (not a valid code: the recogniser is trained, not the fusion) balance it.
                    code = "".join(rng.choice(list(ALPHABET), size=11, p=_LETTER_HEAVY))
                frame = render_degraded(rng, code, "container", params=params.frames)
            else:
                frame = render_degraded(rng, u["wagon_number"], "wagon", u["wagon_type"], params.frames)
            gray = to_gray(frame.image)
            det_x.append(detector_input(gray, params.det_input, params.det_norm))
            det_y.append(detector_target([b for _, b in frame.lines], gray.shape, params.det_input))
            for text, box in frame.lines:      # one crop per painted line, labelled with that line's characters
                for _ in range(params.train.crops_per_frame):
                    pad = tuple(rng.uniform(lo, hi) for lo, hi in CROP_JITTER)
                    crop = crop_line(gray, box, params.rec_input, pad)
                    rec_x.append(crop.astype(np.float16))
                    rec_w.append(content_width(crop))
                    label = encode(text)
                    rec_y.append(label + [BLANK] * (11 - len(label)))
                    rec_len.append(len(label))
            bar.advance(task)
    return {"det_x": torch.from_numpy(np.stack(det_x)), "det_y": torch.from_numpy(np.stack(det_y)),
            "rec_x": torch.from_numpy(np.stack(rec_x)), "rec_w": torch.tensor(rec_w), "rec_y": torch.tensor(rec_y),
            "rec_len": torch.tensor(rec_len)}


class DetectorModule(L.LightningModule):
    """Pixel-wise BCE + Dice on the text mask (Dice because text is a few % of the frame)."""

    def __init__(self, lr: float, width: int = 16):
        super().__init__()
        self.net = create_model("detector", width=width)
        self.lr = lr
        self.bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(1.0))

    def _loss(self, batch):
        x, y = batch
        logits = self.net(x)
        p = logits.sigmoid()
        dice = 1 - (2 * (p * y).sum() + 1) / (p.sum() + y.sum() + 1)
        return self.bce(logits, y) + dice

    def training_step(self, batch, _):
        loss = self._loss(batch)
        self.log("det_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, _):
        self.log("det_val_loss", self._loss(batch), prog_bar=True)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, self.lr, total_steps=self.trainer.estimated_stepping_batches)
        return [opt], [{"scheduler": sched, "interval": "step"}]


class WidthBatches(torch.utils.data.Sampler):
    """Batches of crops of similar width (buckets of ``step`` columns), shuffled within and across buckets.

    The recogniser then runs each batch only as wide as its widest crop (see :meth:`RecognizerModule._loss`):
    a third less work than padding every crop to the full input width.
    """

    def __init__(self, widths: torch.Tensor, batch_size: int, shuffle: bool = True, seed: int = 0, step: int = 32):
        self.buckets = (widths.numpy() + step - 1) // step
        self.batch_size, self.shuffle = batch_size, shuffle
        self.rng = np.random.default_rng(seed)

    def _batches(self) -> list[list[int]]:
        out = []
        for b in np.unique(self.buckets):
            idx = np.nonzero(self.buckets == b)[0]
            if self.shuffle:
                idx = self.rng.permutation(idx)
            out += [idx[i: i + self.batch_size].tolist() for i in range(0, len(idx), self.batch_size)]
        if self.shuffle:
            out = [out[i] for i in self.rng.permutation(len(out))]
        return out

    def __iter__(self):
        return iter(self._batches())

    def __len__(self) -> int:
        return sum(-(-int((self.buckets == b).sum()) // self.batch_size) for b in np.unique(self.buckets))


class RecognizerModule(L.LightningModule):
    """CTC loss; validation reports the exact-string accuracy of greedy decoding."""

    def __init__(self, lr: float, channels: tuple[int, ...], hidden: int):
        super().__init__()
        self.net = create_model("crnn", channels=channels, hidden=hidden)
        self.lr = lr
        self.ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)

    def _loss(self, batch):
        x, widths, y, lengths = batch
        width = min(x.shape[-1], -(-int(widths.max()) // 32) * 32)   # as wide as the widest crop, in steps of 32
        logp = self.net(x[..., :width].float())             # (N, T, C)
        t = torch.full((x.shape[0],), logp.shape[1], dtype=torch.long)
        return self.ctc(logp.transpose(0, 1), y, t, lengths), logp

    def training_step(self, batch, _):
        loss, _ = self._loss(batch)
        self.log("rec_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, _):
        loss, logp = self._loss(batch)
        from cargoscan.ocr.decode import greedy

        y, lengths = batch[2], batch[3]
        ok = [greedy(lp).text == "".join(ALPHABET[k - 1] for k in y[i, : lengths[i]].tolist())
              for i, lp in enumerate(logp.detach().cpu().numpy())]
        self.log("rec_val_loss", loss, prog_bar=True)
        self.log("rec_val_acc", float(np.mean(ok)), prog_bar=True)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, self.lr, total_steps=self.trainer.estimated_stepping_batches)
        return [opt], [{"scheduler": sched, "interval": "step"}]


def _fit(module: L.LightningModule, train: DataLoader, val: DataLoader, epochs: int) -> dict:
    trainer = L.Trainer(max_epochs=epochs, accelerator="auto", devices=1, logger=False,
                        enable_checkpointing=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(module, train, val)
    return {k: float(v) for k, v in trainer.callback_metrics.items()}


def _rec_loader(data: dict[str, torch.Tensor], batch: int, shuffle: bool, seed: int) -> DataLoader:
    ds = TensorDataset(data["rec_x"], data["rec_w"], data["rec_y"], data["rec_len"])
    return DataLoader(ds, batch_sampler=WidthBatches(data["rec_w"], batch, shuffle, seed))


def export_onnx(net: nn.Module, example: torch.Tensor, path: Path, output: str, width_axis: bool = False) -> None:
    """Export one network with a dynamic batch axis (and width: the recogniser reads lines of any width)."""
    net = net.eval().cpu()
    axes = {"image": {0: "n", 3: "w"}, output: {0: "n", 1: "t"}} if width_axis else {"image": {0: "n"},
                                                                                       output: {0: "n"}}
    torch.onnx.export(net, (example,), str(path), input_names=["image"], output_names=[output],
                      dynamic_axes=axes, opset_version=17, dynamo=False)


def train_ocr(params: OcrParams, out_dir: str | Path, identities: list[tuple[str, str]] | None = None) -> dict:
    """Render data, train both networks, export them and write the model folder.

    Args:
        params: the ``ocr:`` parameters.
        out_dir: the model folder (``data/ocr/model``).
        identities: optional fixed ``(kind, text)`` pairs to train on (tests); default random valid numbers.

    Returns:
        The final training metrics.
    """
    from safetensors.torch import save_file

    tp = params.train
    torch.set_num_threads(tp.threads)
    L.seed_everything(tp.seed, verbose=False)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = render_dataset(tp.n_frames, params, tp.seed, identities)
    val = render_dataset(tp.n_val, params, tp.seed + 1, identities)
    det = DetectorModule(tp.lr, tp.det_width)
    n_det = tp.det_frames or len(data["det_x"])   # the detector learns from fewer frames than the recogniser
    metrics = _fit(det, DataLoader(TensorDataset(data["det_x"][:n_det], data["det_y"][:n_det]), tp.det_batch_size,
                                   shuffle=True),
                   DataLoader(TensorDataset(val["det_x"], val["det_y"]), 256), tp.epochs_det)
    if tp.n_lines:   # the recogniser's own stream of rendered lines, added to the frames' crops
        texts = [t for _, t in identities] if identities else None
        lines = render_line_dataset(tp.n_lines, params, tp.seed + 2, texts, workers=tp.threads)
        data |= {k: torch.cat([data[k], lines[k]]) for k in ("rec_x", "rec_w", "rec_y", "rec_len")}
    rec = RecognizerModule(tp.lr, tuple(tp.channels), tp.hidden)
    metrics |= _fit(rec, _rec_loader(data, tp.batch_size, True, tp.seed), _rec_loader(val, 256, False, 0),
                    tp.epochs_rec)
    save_file({**{f"detector.{k}": v.contiguous() for k, v in det.net.state_dict().items()},
               **{f"recognizer.{k}": v.contiguous() for k, v in rec.net.state_dict().items()}},
              str(out / "model.safetensors"))
    export_onnx(det.net, data["det_x"][:1], out / "detector.onnx", "text")
    export_onnx(rec.net, data["rec_x"][:1].float(), out / "recognizer.onnx", "logprobs", width_axis=True)
    config = {"alphabet": ALPHABET, "blank": BLANK, "det_width": tp.det_width, "det_input": list(params.det_input),
              "det_norm": params.det_norm,
              "rec_input": list(params.rec_input), "train": asdict(tp), "metrics": metrics}
    (out / "config.json").write_text(json.dumps(config, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log.info("OCR model written to %s: %s", out, {k: round(v, 4) for k, v in metrics.items()})
    return metrics
