"""Benchmark of the identification part on a held-out split (figures printed, never asserted).

Renders a held-out set of wagons (the ``ocr.eval`` seed, disjoint from training's) with simulated RFID reads,
runs our OCR (2 threads) alone and fused with RFID, and the packaged baseline (RapidOCR) on a subset of the same
frames. Targets (issue 6): fused accuracy ≥ 99.5 % with RFID present, OCR alone ≥ 97 %, 0 wrong numbers
accepted, ≥ 20 frames/s on 2 cores.

With ``--scenes N`` it renders the realistic scene sets instead (:mod:`cargoscan.ocr.scenesets`, portal and
hand-held geometry, N wagons each, seed ``--seed`` or ``ocr.eval.scene_seed``) and benchmarks the chosen reader
(``--reader``, default ``ocr.reader``) on them: accuracy per kind and layout, wrong numbers, frames/s.

Usage: ``python benchmarks/bench_ocr.py [--model data/ocr/model] [--wagons N] [--seed S] [--baseline N]
[--reader cascade|ours|scene] [--scenes N [--keep DIR]]``. The metrics list every wrong number accepted
(``wrong_cases``: scope, frame file, truth, reading); ``--keep`` keeps the scene sets to look at those frames.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    import torch

    from cargoscan.config import load_section
    from cargoscan.ocr.config import OcrParams
    from cargoscan.ocr.evaluate import evaluate, make_heldout

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--wagons", type=int, default=None)
    ap.add_argument("--seed", type=int, default=None, help="Rendering seed (default: ocr.eval.seed).")
    ap.add_argument("--baseline", type=int, default=None)
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--reader", default=None, help="Frame reader (default: ocr.reader).")
    ap.add_argument("--scenes", type=int, default=0, help="Benchmark on realistic scene sets of N wagons.")
    ap.add_argument("--keep", type=Path, default=None,
                    help="Write the scene sets here and keep them (to look at the frames of wrong_cases).")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(2)
    params = load_section(OcrParams, "ocr", args.params) if args.params.exists() else OcrParams()
    if args.wagons:
        params = dataclasses.replace(params, eval=dataclasses.replace(params.eval, n_wagons=args.wagons))
    if args.seed is not None:
        params = dataclasses.replace(params, eval=dataclasses.replace(params.eval, seed=args.seed))
    if args.reader:
        params = dataclasses.replace(params, reader=args.reader)
    model = args.model or Path(params.model_dir)
    if not (model / "recognizer.onnx").exists():
        from cargoscan.ocr.train import train_ocr

        logging.info("no OCR model at %s: training one (small profile)", model)
        train_ocr(params, model)
    if args.scenes:
        from cargoscan.ocr.evaluate import evaluate_scene_sets
        from cargoscan.ocr.scenes import list_geometries
        from cargoscan.ocr.scenesets import write_scene_set

        seed = params.eval.scene_seed if args.seed is None else args.seed
        with tempfile.TemporaryDirectory() as tmp:
            sets = args.keep or Path(tmp)
            for geometry in list_geometries():
                write_scene_set(sets / geometry, geometry, args.scenes, seed)
            print(json.dumps(evaluate_scene_sets(sets, model, params), indent=1, sort_keys=True))
        return
    with tempfile.TemporaryDirectory() as tmp:
        frames, rfid = make_heldout(Path(tmp), params)
        n_base = params.eval.baseline_frames if args.baseline is None else args.baseline
        metrics = evaluate(frames, rfid, model, params, baseline_frames=n_base)
    print(json.dumps(metrics, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
