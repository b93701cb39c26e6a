"""Where detection is lost: an exported model's pixels on threats projected the way it trained against the
archive's own threats, rendered by the synthesiser.

    python scripts/detection_gap.py ARTIFACT [--prepared data/prepared] [--tiles 400]

For each threat class it prints the share of the class's mask pixels whose arg-max is a threat class (and that
class), on three sets of 128-px tiles:

* ``projected/train``: threats projected by `cargoscan.data.projected` (new keys, so new instances) into the
  prepared train split's clean wagons, as training draws them;
* ``projected/test``: the same engine on the test split's clean wagons, which training never saw;
* ``archive/train``, ``archive/val`` and ``archive/test``: the prepared tiles of those splits that hold a threat, as
  `synth` drew it (val and test: wagons training never saw; a few dozen tiles each, so read their pixel counts).

A model that finds projected threats on unseen wagons but not the archive's threats has learned what projection
looks like, not what a threat looks like (issue 14). The cpu reference, run (d), on 2026-12-08: weapons 0.44 / 0.54
of pixels on projected/train and projected/test, 0.28 on archive/train, 0.07 / 0.04 on archive/val and archive/test
(drugs: 0.82 / 0.82 projected, 0.89 / 0.00 on the archive's val / test splits, 9 and 7 tiles: too few to say).
"""

from __future__ import annotations

import argparse
import logging

import numpy as np
import pandas as pd

from cargoscan.archive.classes import class_names, threat_ids
from cargoscan.data.dataset import Prepared, TileDataset
from cargoscan.data.projected import ProjectedTiles
from cargoscan.inspect.engine import Inspector
from cargoscan.config import load_section
from cargoscan.training.config import TrainParams

log = logging.getLogger("detection_gap")
THREATS = tuple(class_names()[i] for i in threat_ids())


def projected(prep: Prepared, params, split: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` projected samples (normalised tiles, masks) on the clean wagons of ``split``."""
    if split != "train":  # the engine draws the train split's clean wagons: hand it another split's as "train"
        ix = prep.index.copy()
        ix["split"] = ix["split"].replace({"train": "_train", split: "train"})
        prep.__dict__["index"] = ix
    tiles = ProjectedTiles(prep, params.projection, None, seed=params.seed)
    xs, ms = [], []
    for k in range(n):  # keys far past any a training run draws: new instances
        x, m, _, _ = tiles.render(10 ** 9 + 7919 * k)
        xs.append(prep.normalise(x.astype(np.float32)))
        ms.append(m)
    prep.__dict__.pop("index", None)
    return np.stack(xs), np.stack(ms)


def archive(root: str, split: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` prepared tiles of ``split`` that hold a threat pixel (normalised, masks)."""
    ds = TileDataset(root, split)
    samples = [ds[int(i)] for i in np.flatnonzero(ds.has_threat)[:n]]
    return (np.stack([s["image"].numpy() for s in samples]).astype(np.float32),
            np.stack([s["mask"].numpy() for s in samples]))


def pixel_shares(insp: Inspector, x: np.ndarray, m: np.ndarray) -> dict[str, tuple[int, float, float]]:
    """Per threat class: (mask pixels, share whose arg-max is any threat class, share whose arg-max is the class)."""
    classes = list(insp.cfg.classes)
    threat = [classes.index(c) for c in THREATS if c in classes]
    am = np.concatenate([insp.backend.run(x[i:i + 16])[0].argmax(1) for i in range(0, len(x), 16)])
    out = {}
    for c in threat:
        mk = m == c
        if mk.any():
            out[classes[c]] = (int(mk.sum()), float(np.isin(am[mk], threat).mean()), float((am[mk] == c).mean()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("artifact")
    ap.add_argument("--prepared", default="data/prepared")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--profile", default=None, help="the params profile the model trained with (e.g. cpu)")
    ap.add_argument("--tiles", type=int, default=400)
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    insp, prep = Inspector.load(a.artifact), Prepared(a.prepared)
    params = load_section(TrainParams, "train", a.params, a.profile)
    rows = []
    for name, (x, m) in {"projected/train": projected(prep, params, "train", a.tiles),
                         "projected/test": projected(prep, params, "test", a.tiles),
                         "archive/train": archive(a.prepared, "train", a.tiles),
                         "archive/val": archive(a.prepared, "val", a.tiles),
                         "archive/test": archive(a.prepared, "test", a.tiles)}.items():
        for cls, (px, any_threat, own) in pixel_shares(insp, x, m).items():
            rows.append({"set": name, "class": cls, "pixels": px, "argmax_threat": any_threat, "argmax_class": own})
    df = pd.DataFrame(rows)
    log.info("share of each class's pixels whose arg-max is a threat class\n%s",
             df.pivot(index="class", columns="set", values="argmax_threat").round(2).to_string())
    log.info("mask pixels behind each share\n%s", df.pivot(index="class", columns="set", values="pixels").to_string())


if __name__ == "__main__":
    main()
