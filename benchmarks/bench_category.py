"""Cargo category: the head alone against the head fused with the load's physics (cargoscan.inspect.fusion).

Fits :class:`~cargoscan.inspect.fusion.CategoryFusion` on the inspections of some archives and scores it on the
inspections of others, per wagon whose units all carry one true category (``truth.csv``). Both rates are given with
their counts and Wilson 95 % intervals; the head's is the engine's own ``cargo.predicted``.

    PYTHONPATH=src python benchmarks/bench_category.py \\
        --train data/bench/mismatch:data/bench/inspections-cpu/mismatch data/bench/shift:data/bench/inspections-cpu/shift \\
        --test data/bench/test:data/bench/inspections-cpu/test
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from collections import Counter
from pathlib import Path

from cargoscan.inspect.fusion import fit_fusion
from cargoscan.scoring.intervals import wilson

log = logging.getLogger("bench_category")


def load(pairs: list[str]) -> tuple[list[dict], list[str], int]:
    """(inspections, true categories, wagons left out) over ``archive:inspections`` pairs: wagons with one true
    category and a complete inspection file."""
    results, truth, skipped = [], [], 0
    for pair in pairs:
        archive, inspections = (Path(p) for p in pair.split(":"))
        cats: dict[str, set[str]] = {}
        with (archive / "truth.csv").open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                cats.setdefault(row["scan_id"], set()).add(row["true_category"])
        for scan_id, true in sorted(cats.items()):
            f = inspections / f"{scan_id}.json"
            if len(true) != 1 or not f.exists():
                skipped += 1
                continue
            results.append(json.loads(f.read_text(encoding="utf-8")))
            truth.append(true.pop())
    return results, truth, skipped


def rate(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k}/{n} = {k / max(n, 1):.3f} (95 % CI {lo:.3f}–{hi:.3f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", nargs="+", required=True, help="archive:inspections pairs to fit on")
    ap.add_argument("--test", nargs="+", required=True, help="archive:inspections pairs to score")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    train, y_train, s_train = load(args.train)
    test, y_test, s_test = load(args.test)
    head = sorted((train[0].get("cargo") or {}).get("probabilities") or {})
    fusion = fit_fusion(train, y_train, head)
    log.info("fitted on %d wagons (%d left out: mixed categories or no inspection), C = %g, classes %s",
             len(train), s_train, fusion.c, ", ".join(fusion.classes))
    known = [i for i, t in enumerate(y_test) if t in head]      # the benchmark's rule: the head knows the truth
    pred_head = [(test[i].get("cargo") or {}).get("predicted") for i in range(len(test))]
    pred_fused = [max(p.items(), key=lambda kv: kv[1])[0] for p in (fusion.probabilities(r) for r in test)]
    log.info("test: %d wagons (%d left out), %d of categories the head knows", len(test), s_test, len(known))
    log.info("head:  %s", rate(sum(pred_head[i] == y_test[i] for i in known), len(known)))
    log.info("fused: %s", rate(sum(pred_fused[i] == y_test[i] for i in known), len(known)))
    log.info("fused, every wagon (empty ones too): %s",
             rate(sum(p == t for p, t in zip(pred_fused, y_test)), len(y_test)))
    for name, pred in (("head", pred_head), ("fused", pred_fused)):
        errors = Counter((y_test[i], pred[i]) for i in known if pred[i] != y_test[i])
        log.info("%s, commonest confusions (true → predicted): %s", name,
                 "; ".join(f"{t} → {p} {n}" for (t, p), n in errors.most_common(6)))


if __name__ == "__main__":
    main()
