"""Identification of every wagon and container of the archive's camera frames, fused with the RFID log.

:class:`OcrEngine` reads a frame (detector → boxes → crops → recogniser → corrected reading) with a
:class:`~cargoscan.ocr.networks.Reader`, by default the exported networks run by onnxruntime; :func:`read_frames`
reads a frames folder (``<train>/<position>_<view>[_cam<c>].png``: view ``side`` for the wagon number, ``door<k>``
for the k-th container, one frame per portal camera) and combines each identifier's views
(:func:`cargoscan.ocr.views.combine_views`); :func:`build_records` fuses those readings with the RFID reads into
contract C records, one per wagon. A frame that is blank, corrupt or missing is read as nothing, never guessed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from cargoscan.ocr.config import FusionParams, OcrParams
from cargoscan.ocr.decode import ctc_log_likelihoods, greedy, join_lines
from cargoscan.ocr.detect import boxes_from_heatmap, crop_line, to_gray
from cargoscan.ocr.fusion import OcrResult, best_of, correct, fuse_container, fuse_wagon
from cargoscan.ocr.networks import OnnxReader, Reader
from cargoscan.ocr.policy import Evidence, Reason, decide
from cargoscan.ocr.reader import CascadeReader, SceneTextReader
from cargoscan.ocr.views import combine_views

log = logging.getLogger(__name__)

FRAME_NAME = re.compile(r"^(?P<position>\d+)_(?P<view>side|door\d+)(?:_cam(?P<camera>\d+))?\.(?:png|jpe?g)$")


class OcrEngine:
    """Frames to corrected readings of their identifiers.

    Args:
        model_dir: the folder written by :func:`cargoscan.ocr.train.train_ocr` (unused with ``reader``).
        params: the ``ocr:`` parameters (fusion rules, number of boxes).
        threads: onnxruntime intra-op threads.
        reader: the detector and recogniser; default: the model folder's, run by onnxruntime.
    """

    def __init__(self, model_dir: str | Path | None = None, params: OcrParams = OcrParams(), threads: int = 2,
                 reader: Reader | None = None):
        self.reader = reader or OnnxReader(model_dir, threads)
        self.params = params

    def read(self, image: np.ndarray | None, kind: str) -> OcrResult:
        """Read the identifier of one frame.

        Args:
            image: (H, W, 3) or (H, W) uint8, or None for a frame that could not be loaded.
            kind: "wagon" or "container".
        """
        if image is None or image.size == 0 or image.std() < 2.0:   # missing, corrupt or blank: nothing to read
            return OcrResult(None, None, 0.0, Reason.NO_TEXT)
        gray = to_gray(image)
        prob = self.reader.heatmap(gray)
        res = self._read_boxes(gray, boxes_from_heatmap(prob, gray.shape, max_boxes=self.params.max_candidates),
                               kind)
        if res.number is None and res.reason in (Reason.NO_TEXT, Reason.NO_VALID_CANDIDATE, Reason.LOW_CONFIDENCE):
            # Dark (night), dirty or blurred frames give a fainter heat map: lines cut short or missed. Look again,
            # less strictly; what is read there passes every rule as usual.
            again = self._read_boxes(gray, boxes_from_heatmap(prob, gray.shape, threshold=0.3,
                                                              max_boxes=self.params.max_candidates), kind)
            if again.number is not None or res.reason == Reason.NO_TEXT:
                return again
        return res

    def _read_boxes(self, gray: np.ndarray, boxes: list, kind: str) -> OcrResult:
        """Read a frame's text boxes (from the heat map) under all the rules: one reading of the identifier."""
        if not boxes:
            return OcrResult(None, None, 0.0, Reason.NO_TEXT)
        if kind == "wagon":   # a number the heat map broke into pieces along its row is also read whole
            boxes = boxes + [(b, 0.0) for b in row_unions([b for b, _ in boxes])]
        results, spans = self._read_lines(gray, [b for b, _ in boxes], tuple(self.params.crop_pad), kind)
        res = best_of(results)
        won = next((spans[i] for i, r in enumerate(results) if r is res), None)
        if res.number is None and res.reason == Reason.AMBIGUOUS and won and self.params.check_pad:
            return self._second_view(gray, [b for b, _ in boxes[won[0]: won[1]]], res, kind)
        if res.number is None and res.reason == Reason.TOO_DOUBTFUL and won and self.params.clip_pads:
            return self._unclipped(gray, [b for b, _ in boxes[won[0]: won[1]]], res, kind)
        nothing_valid = res.reason in (Reason.NO_VALID_CANDIDATE, Reason.LOW_CONFIDENCE)
        if res.number is None and nothing_valid and self.params.clip_pads:
            # Nothing valid in any line or run of lines: a glyph the heat map left outside every box (most often
            # the boxed check digit, whose frame the detector does not take for text) is looked for in all the
            # lines cut wider.
            return self._unclipped(gray, [b for b, _ in boxes], res, kind, join_all=False)
        if res.number and won and self.params.check_pad:
            # The same lines cut wider must not prefer another valid number: a heat map that clipped the first
            # letter ("RHU" of "TRHU") can leave a crop that reads as a valid code with another letter ("JRHU").
            again, _ = self._read_lines(gray, [b for b, _ in boxes[won[0]: won[1]]], tuple(self.params.check_pad),
                                        kind, join_all=True)
            top = next(iter(again[0].scores), None)      # its likeliest valid number, accepted or not
            if top is not None and top != res.number:
                return OcrResult(None, res.raw, 0.0, Reason.AMBIGUOUS, res.scores, res.logprobs)
        return res

    def _unclipped(self, gray: np.ndarray, boxes: list, res: OcrResult, kind: str,
                   join_all: bool = True) -> OcrResult:
        """Read lines again cut wider when the heat map may have clipped an edge glyph ("SKU2164159").

        The reading of the widest cut (``clip_pads[0]``) is corrected under all the usual rules, and a cut between
        it and the first (``clip_pads[1]``) must prefer the same valid number, as an accepted reading's wider cut
        must. With ``join_all`` the boxes are one identifier's lines read joined; without, each line and each run
        of lines is read and the best accepted reading is checked on its own lines.
        """
        wide, veto = (tuple(p) for p in self.params.clip_pads)
        again, spans = self._read_lines(gray, boxes, wide, kind, join_all=join_all)
        best = best_of(again)
        if best.number is None:
            return res
        first, end = next(spans[i] for i, r in enumerate(again) if r is best)
        check, _ = self._read_lines(gray, boxes[first:end], veto, kind, join_all=True)
        return best if next(iter(check[0].scores), None) == best.number else res

    def _second_view(self, gray: np.ndarray, boxes: list, res: OcrResult, kind: str) -> OcrResult:
        """Settle a reading left ambiguous by a near rival (M/W, G/Q) with a second view of the same lines.

        The lines cut wider (``check_pad``) are a second, partly independent look: each candidate's CTC
        log-likelihoods of both views are added, and the best must beat every rival by twice the margin, that is
        by the margin on average over the two views (the policy's ``wide_cut`` rules). The reading's other rules
        (doubt, cost) still apply: they are checked with the margins set to zero.
        """
        fusion = self.params.fusion
        relaxed = correct(greedy(res.logprobs), kind, dataclasses.replace(fusion, ambiguity_margin=0.0,
                                                                          correction_margin=0.0,
                                                                          collision_margin=0.0))
        if relaxed.number is None:
            return res
        again, _ = self._read_lines(gray, boxes, tuple(self.params.check_pad), kind, join_all=True)
        if again[0].logprobs is None:        # the wider cut read no text at all: no second look to add
            return res
        cands = list(relaxed.scores)
        both = dict(zip(cands, np.add(list(relaxed.scores.values()), ctc_log_likelihoods(again[0].logprobs, cands))))
        decision = decide(Evidence("wide_cut", both, relaxed.raw, looks=2), fusion)
        if decision.number != relaxed.number:
            return res
        return dataclasses.replace(relaxed, confidence=decision.confidence, trace=relaxed.trace + decision.trace)

    def _read_lines(self, gray: np.ndarray, boxes: list, pad: tuple, kind: str, join_all: bool = False):
        """Corrected readings of each line box and, for containers, of each run of lines joined top to bottom.

        Returns:
            The readings and, for each, the (first, end) indices of the boxes it reads. With ``join_all``
            only the reading of all the boxes joined.
        """
        crops = np.stack([crop_line(gray, b, self.reader.rec_input, pad) for b in boxes]).astype(np.float32)
        logprobs = self.reader.logprobs(crops)
        n = len(logprobs)
        # The second, wider reading only asks which valid number the lines prefer: substitutions suffice for that,
        # the beam (the costliest step) is left out.
        fusion = dataclasses.replace(self.params.fusion, beam=0) if join_all else self.params.fusion
        if join_all:
            logprobs, spans = [join_lines(logprobs)], [(0, n)]
        else:
            spans = [(i, i + 1) for i in range(n)]
            if kind == "container":   # codes are often stacked: also read each run of lines joined in reading order
                logprobs += joined_runs(logprobs)
                spans += [(i, j) for i in range(n) for j in range(i + 2, n + 1)]
        return [correct(greedy(lp), kind, fusion) for lp in logprobs], spans


def row_unions(boxes: list) -> list:
    """One box spanning each row of two or more boxes side by side (overlapping by half their height).

    A wagon number's digits painted in two groups ("6445 5454"), or a stretch the heat map lost, leave pieces that
    read as nothing valid; the whole row, gaps included, reads as the number.
    """
    out, seen = [], set()
    for i, a in enumerate(boxes):
        row = [a] + [b for b in boxes if (b[0] >= a[2] or b[2] <= a[0])           # side by side, not over
                     and min(a[3], b[3]) - max(a[1], b[1]) > 0.5 * min(a[3] - a[1], b[3] - b[1])]
        key = tuple(sorted(map(tuple, row)))
        if len(row) > 1 and key not in seen:
            seen.add(key)
            out.append((min(b[0] for b in row), min(b[1] for b in row), max(b[2] for b in row),
                        max(b[3] for b in row)))
    return out


def joined_runs(logprobs: list[np.ndarray]) -> list[np.ndarray]:
    """CTC outputs of consecutive lines (top to bottom) joined into one line: "CSQU" over "3054383".

    A blank step goes between two lines so that the last character of one and the first of the next never
    merge as a CTC repeat; the joined output is scored like any single line (greedy reading, exact likelihood).
    """
    return [join_lines(logprobs[i:j]) for i in range(len(logprobs)) for j in range(i + 2, len(logprobs) + 1)]


def load_frame(path: Path) -> np.ndarray | None:
    """A frame as RGB uint8, upright, or None (logged) when the file is missing or not a readable image.

    Phones store a photo as the sensor saw it and say in its EXIF orientation tag how to turn it: an officer's
    photo is turned upright before it is read.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        log.warning("%s: unreadable frame (%s)", path, exc)
        return None


def read_frames(engine, frames_dir: str | Path) -> dict[tuple[str, int], dict]:
    """Read every frame of a frames folder and combine each identifier's views.

    Returns:
        ``{(train_number, position): {"wagon": OcrResult | None, "containers": {k: OcrResult},
        "views": {(view, camera): OcrResult}}}``: the combined reading of the wagon number and of each
        container, and the reading of every single frame.
    """
    from cargoscan.logs import progress

    frames_dir = Path(frames_dir)
    if not frames_dir.is_dir():
        raise FileNotFoundError(f"{frames_dir}: no frames folder")
    files = sorted(p for p in frames_dir.glob("*/*") if FRAME_NAME.match(p.name))
    views: dict[tuple[str, int], dict[tuple[str, int], OcrResult]] = defaultdict(dict)
    with progress(transient=True) as bar:
        task = bar.add_task("identify", total=len(files))
        for path in files:
            m = FRAME_NAME.match(path.name)
            kind = "wagon" if m["view"] == "side" else "container"
            views[(path.parent.name, int(m["position"]))][(m["view"], int(m["camera"] or 1))] = \
                engine.read(load_frame(path), kind)
            bar.advance(task)
    out = {}
    for key, seen in views.items():
        by_view: dict[str, list[OcrResult]] = defaultdict(list)
        for (view, _), res in sorted(seen.items()):
            by_view[view].append(res)
        out[key] = {"wagon": combine_views(by_view["side"], engine.params.fusion) if "side" in by_view else None,
                    "containers": {int(v[4:]): combine_views(rs, engine.params.fusion)
                                   for v, rs in by_view.items() if v != "side"},
                    "views": seen}
    return out


def read_rfid(path: str | Path | None) -> dict[tuple[str, int], list[str]]:
    """RFID payloads per (train_number, position); an absent file means no reads at all."""
    import pandas as pd

    if path is None or not Path(path).exists():
        if path is not None:
            log.warning("%s: no RFID log, identifying from the cameras alone", path)
        return {}
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"train_number", "position", "tag_payload"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: RFID log lacks columns {sorted(missing)}")
    reads: dict[tuple[str, int], list[str]] = defaultdict(list)
    for r in table.itertuples():
        if str(r.position).isdigit():
            reads[(r.train_number, int(r.position))].append(r.tag_payload)
    return dict(reads)


def build_records(readings: dict[tuple[str, int], dict], rfid: dict[tuple[str, int], list[str]],
                  scan_ids: dict[tuple[str, int], str] | None = None,
                  params: FusionParams = FusionParams()) -> list[dict]:
    """Contract C records, one per wagon seen by a camera or an RFID reader, in train and position order."""
    scan_ids = scan_ids or {}
    records = []
    for key in sorted(set(readings) | set(rfid), key=lambda k: (k[0], k[1])):
        r = readings.get(key) or {"wagon": None, "containers": {}}
        records.append({
            "train_number": key[0], "position": key[1], "scan_id": scan_ids.get(key),
            "wagon": fuse_wagon(r["wagon"], rfid.get(key, []), params),
            "containers": [fuse_container([res]) for _, res in sorted(r["containers"].items())],
        })
    return records


def scan_ids_for(frames_dir: Path) -> dict[tuple[str, int], str]:
    """(train, position) → scan_id when the frames sit inside an archive (``<root>/frames`` next to ``scans``)."""
    from cargoscan.ocr.frames import archive_units

    root = frames_dir.parent
    if not (root / "scans").is_dir():
        return {}
    try:
        return {(u["train_number"], u["position"]): u["scan_id"] for u in archive_units(root)}
    except (FileNotFoundError, ValueError) as exc:
        log.warning("%s: scan IDs not resolved (%s)", root, exc)
        return {}


#: The frame readers by name (``ocr.reader``): our engine alone, the packaged scene-text networks alone, or ours
#: first and the scene-text reader for what ours refuses.
READERS = {
    "ours": lambda model_dir, params: OcrEngine(model_dir, params),
    "scene": lambda model_dir, params: SceneTextReader(params),
    "cascade": lambda model_dir, params: CascadeReader(OcrEngine(model_dir, params)),
}


def list_readers() -> list[str]:
    """Names accepted by :func:`create_reader`."""
    return sorted(READERS)


def create_reader(name: str, model_dir: str | Path | None, params: OcrParams = OcrParams()):
    """A frame reader (``read(image, kind)`` and ``params``) by name; see :data:`READERS`."""
    if name not in READERS:
        raise ValueError(f"unknown OCR reader {name!r}; known: {list_readers()}")
    return READERS[name](model_dir, params)


def identify(frames_dir: str | Path, rfid_csv: str | Path | None, out: str | Path, model_dir: str | Path,
             params: OcrParams = OcrParams()) -> list[dict]:
    """Identify the wagons and containers of a frames folder and write the records as JSON lines."""
    engine = create_reader(params.reader, model_dir, params)
    frames_dir = Path(frames_dir)
    records = build_records(read_frames(engine, frames_dir), read_rfid(rfid_csv), scan_ids_for(frames_dir),
                            params.fusion)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    counts = Counter(str(rec["wagon"]["status"]) for rec in records)
    log.info("%d wagons identified -> %s: %s", len(records), out, dict(counts))
    return records
