"""The scene-text reader: a whole photograph to one identifier, and the cascade that puts it behind our engine.

:class:`SceneTextReader` finds every text line of a frame or photo (:class:`~cargoscan.ocr.ppocr.SceneTextDetector`),
reads each upright (:func:`~cargoscan.ocr.ppocr.rectify`; a column of stacked glyphs is restacked into a row and
also read turned either way), chains the lines that could spell one identifier (:func:`~cargoscan.ocr.layout
.reading_paths`) and corrects every chain under the same check-digit rules as our own recogniser
(:func:`~cargoscan.ocr.fusion.correct`). Of the chains that pass, the identifier is the most **prominent**
valid number (the tallest lettering): a wagon's side also carries its owner's 8-digit ОКПО code, and one in ten
random 8-digit strings passes the check digit. A second valid number painted nearly as large leaves the frame
ambiguous: refused, never guessed.

:class:`CascadeReader` reads a frame with our engine first (fast, and exact on the portal frames it was trained
for) and hands what it refuses to the scene-text reader (slower, but trained on real photographs).
"""

from __future__ import annotations

import dataclasses
import logging

import cv2
import numpy as np

from cargoscan.ocr.config import OcrParams
from cargoscan.ocr.decode import greedy, join_lines
from cargoscan.ocr.fusion import FORMATS, OcrResult, best_of, correct
from cargoscan.ocr.layout import Line, box_of, boxed_glyph, is_vertical, reading_paths, restack
from cargoscan.ocr.policy import Check, Reason
from cargoscan.ocr.ppocr import default_networks, quad_size, rectify

log = logging.getLogger(__name__)

#: A second valid number whose lettering is at least this share of the best one's height makes a frame ambiguous.
PROMINENCE_RATIO = 0.8
#: How far each horizontal line is also read past its right end, in line heights.
EXTEND = 1.5
#: An image at least this many times longer than wide (or wider than long) is read whole, as one line, too.
CROP_ASPECT = 2.5
#: The least mean log-likelihood per character of an accepted number (nats; −0.75 ≈ a geometric mean of 0.47).
MIN_NATS_PER_CHAR = -0.75
#: The detector's finer second look at photographs larger than this (longer side, pixels).
FINE_SIDE = 1600
#: Lines read per frame at most (the most confident of the detector's boxes): bounds the time on busy scenes.
MAX_LINES = 40


class SceneTextReader:
    """One frame or photo → the identifier of ``kind`` it shows (or a refusal with its reason).

    Args:
        params: the ``ocr:`` parameters (its acceptance rules are shared with our own engine).
        networks: (detector, recogniser); the packaged PP-OCRv4 pair by default. Injected in tests.
    """

    def __init__(self, params: OcrParams = OcrParams(), networks=None):
        self.params = params
        self.fusion = params.fusion
        self.detector, self.recognizer = networks or default_networks()

    def read(self, image: np.ndarray | None, kind: str) -> OcrResult:
        if image is None or image.size == 0 or image.std() < 2.0:
            return OcrResult(None, None, 0.0, Reason.NO_TEXT)
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
        res = self._read_at(image, kind, None)
        if res.number is None and max(image.shape[:2]) > FINE_SIDE:
            # A large photograph scaled to the detector's size can shrink a distant code below what it finds:
            # look again at a finer scale (only when the first look found nothing: it costs three times as much).
            again = self._read_at(image, kind, FINE_SIDE)
            if again.number is not None or res.reason == Reason.NO_TEXT:
                return again
        return res

    def _read_at(self, image: np.ndarray, kind: str, side: int | None) -> OcrResult:
        found = sorted(self.detector(image, side), key=lambda qs: -qs[1])[:MAX_LINES]
        h, w = image.shape[:2]
        if max(h, w) >= CROP_ASPECT * min(h, w):
            # A photo cropped tight around one code (a row, or a column down a post) is itself a line: read whole
            # as well, whatever the detector made of it.
            found.append((np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32), 0.0))
        if not found:
            return OcrResult(None, None, 0.0, Reason.NO_TEXT)
        length = FORMATS[kind][0]
        logprobs, lines = self._read_lines(image, [q for q, _ in found], length)
        results, heights = [], []
        for path in reading_paths(lines, length, stacked=kind == "container"):
            lp = logprobs[path[0]] if len(path) == 1 else join_lines([logprobs[i] for i in path])
            results.append(correct(greedy(lp), kind, self.fusion))
            heights.append(float(np.mean([lines[i].height for i in path])))
        for lp, line in zip(logprobs, lines):
            # A line longer than the identifier may hold it among other text ("CMAU 649966 9 L5G1" down a post,
            # "№ 46112595" on a wagon): each run of the identifier's length in it is read as well.
            for window in ctc_windows(lp, length):
                results.append(correct(greedy(window), kind, self.fusion))
                heights.append(line.height)
        # The identifier is the most prominent lettering of its kind: a frame whose tallest digit-bearing line
        # stays unread must not be identified by a smaller marking that happens to pass the check digit.
        # (Wagons only: a door's weight table may be lettered as large as its code, whose grammar and modulus-11
        # check digit already make a chance pass rare.)
        digits = [line.height for lp, line in zip(logprobs, lines) if sum(c.isdigit() for c in greedy(lp).text) >= 4]
        return decide_prominent(results, heights, max(digits, default=0.0) if kind == "wagon" else 0.0)

    def _read_lines(self, image: np.ndarray, quads: list[np.ndarray],
                    length: int) -> tuple[list[np.ndarray], list[Line]]:
        """Every line's CTC output in our alphabet, and its geometry.

        A vertical line gives up to three readings (restacked, turned clockwise, turned anticlockwise), each its
        own line that stands alone. A horizontal line shorter than the identifier is read a second time extended
        to its right: the boxed check digit set apart from the serial is often not taken for text.
        """
        views: list[tuple[np.ndarray, Line]] = []
        flat: list[tuple[np.ndarray, float, int]] = []     # horizontal lines: quad, height, index of its view
        for quad in quads:
            w, h = quad_size(quad)
            crop = rectify(image, quad)
            if is_vertical(w, h):
                stacked = restack(crop)
                turned = [cv2.rotate(crop, cv2.ROTATE_90_CLOCKWISE), cv2.rotate(crop, cv2.ROTATE_90_COUNTERCLOCKWISE)]
                # The lettering's height: a column's glyphs are about as tall as the column is wide.
                columns = turned if stacked is None else [stacked] + turned
                views += [(v, Line(box_of(quad), 0, w, alone=True)) for v in columns]
            else:
                flat.append((quad, h, len(views)))
                views.append((crop, Line(box_of(quad), 0, h)))
                # (cut with a wider margin: the detector's box can cut through the frame itself)
                inner = boxed_glyph(rectify(image, quad, pad=0.35)) if w < 1.6 * h else None
                if inner is not None:        # a check digit found alone in its frame: read without the frame too
                    views.append((inner, Line(box_of(quad), 0, h)))
        logprobs = self.recognizer.logprobs([v for v, _ in views])
        lines = [dataclasses.replace(line, chars=len(greedy(lp).text)) for lp, (_, line) in zip(logprobs, views)]
        short = [(quad, h, logprobs[i]) for quad, h, i in flat if 0 < lines[i].chars < length]
        wider = [extend_right(quad, EXTEND * h) for quad, h, _ in short]
        more = self.recognizer.logprobs([rectify(image, q) for q in wider])
        logprobs += more
        # Read past its end, a line may have taken in the start of the next piece: it can only end a chain.
        lines += [Line(box_of(q), len(greedy(lp).text), h, tail=True) for q, (_, h, _), lp in zip(wider, short, more)]
        boxed = self._boxed_check_digits(image, [(*line, q) for line, q in zip(short, wider)])
        for lp, line in boxed:
            logprobs.append(lp)
            lines.append(line)
        return logprobs, lines

    def _boxed_check_digits(self, image: np.ndarray, short: list) -> list[tuple[np.ndarray, Line]]:
        """Each short line (quad, height, CTC output, the quad read past its end) followed by the framed glyph just
        to its right, when there is one, read as one line."""
        found = []
        for quad, h, lp, ahead in short:
            # From the last glyph and a half of the line (the detector's box often takes the frame in, and the
            # recogniser then reads it as nothing) to a glyph and a half past its end.
            back = extend_right(quad, -EXTEND * h)
            right = np.array([back[1], ahead[1], ahead[2], back[2]], np.float32)
            # A frame stands taller than the line's glyphs: the region reaches a third of a line above and below.
            glyph = boxed_glyph(rectify(image, right, pad=0.3))
            if glyph is not None:
                found.append((ahead, h, lp, glyph))
        if not found:
            return []
        glyph_lps = self.recognizer.logprobs([g for *_, g in found])
        out = []
        for (ahead, h, lp, _), glp in zip(found, glyph_lps):
            joined = join_lines([lp, glp])
            out.append((joined, Line(box_of(ahead), len(greedy(joined).text), h, tail=True)))
        return out


def extend_right(quad: np.ndarray, by: float) -> np.ndarray:
    """The quad (TL, TR, BR, BL) with its right side moved ``by`` pixels further along its reading direction."""
    along = quad[1] - quad[0]
    along = along / max(1e-6, float(np.linalg.norm(along)))
    out = quad.copy()
    out[1] += by * along
    out[2] += by * along
    return out


def decide_prominent(results: list[OcrResult], heights: list[float], tallest: float = 0.0) -> OcrResult:
    """The accepted number with the tallest lettering; ambiguous when a different one is nearly as tall, or when
    it is much smaller than ``tallest`` (the tallest line of digits in the frame, read as nothing valid)."""
    results = [plausible(r) for r in results]
    accepted = sorted(((h, r) for h, r in zip(heights, results) if r.number), key=lambda hr: -hr[0])
    if not accepted:
        return best_of(results)
    top_h, top = accepted[0]
    rivals = [r for h, r in accepted[1:] if r.number != top.number and h >= PROMINENCE_RATIO * top_h]
    if rivals or top_h < PROMINENCE_RATIO * tallest:
        return OcrResult(None, top.raw, 0.0, Reason.AMBIGUOUS, top.scores, top.logprobs)
    return best_of([r for _, r in accepted if r.number == top.number])


def plausible(res: OcrResult) -> OcrResult:
    """``res``, or its refusal when the network itself finds the accepted number unlikely character by character.

    The format's coercions are free in :func:`~cargoscan.ocr.fusion.correct` (a letter where a digit must be is
    read as its look-alike digit). On a whole photo that can turn a word into a valid number ("FUFU LOGISTICS" →
    FUFU1061811): every character coerced, each one unlikely. A reading must average at least
    :data:`MIN_NATS_PER_CHAR` of log-likelihood per character; the check joins the reading's trace.
    """
    if res.number is None:
        return res
    per_char = res.scores.get(res.number, -np.inf) / len(res.number)
    check = Check("likelihood_floor", per_char, MIN_NATS_PER_CHAR, bool(per_char >= MIN_NATS_PER_CHAR))
    if check.passed:
        return dataclasses.replace(res, trace=res.trace + (check,))
    return dataclasses.replace(res, number=None, confidence=0.0, reason=Reason.LOW_CONFIDENCE,
                               trace=res.trace + (check,))


def ctc_windows(logprobs: np.ndarray, length: int, extra: int = 8) -> list[np.ndarray]:
    """The CTC output cut to each run of ``length`` consecutive characters of its greedy reading.

    Cuts fall halfway between the peaks of neighbouring characters. Only lines up to ``extra`` characters
    longer than the identifier are cut (a weight table's long lines hold no identifier, and cost time).
    """
    peaks = greedy(logprobs).frames
    if not length < len(peaks) <= length + extra:
        return []
    cuts = [0] + [(a + b + 1) // 2 for a, b in zip(peaks, peaks[1:])] + [logprobs.shape[0]]
    return [logprobs[cuts[i]: cuts[i + length]] for i in range(len(peaks) - length + 1)]


class CascadeReader:
    """Our engine first; what it refuses goes to the scene-text reader, and what it may have guessed is checked.

    Our engine is exact on frames like its training frames, but a realistic scene is not one: there it misreads
    a line cut short (4848166 read as 8481667T, corrected to 84816677) or reads the wrong marking (a wagon's ОКПО
    code), and a check digit passes one such reading in ten or eleven. So the scene-text reader also looks at
    the frame when our engine
    * *corrected* its reading (the correction has spent the check digit): accepted only if the second reader
      reads the same number;
    * read a *wagon* number as it stands (the 8-digit mod-10 check is the weakest, and a wagon's side carries
      other 8-digit codes): refused if the second reader accepts a different number.
    Either refusal is :attr:`Reason.UNCONFIRMED`, with the ``second_reader`` check in the trace.

    Exposes ``read`` and ``params`` like :class:`~cargoscan.ocr.identify.OcrEngine`, so it reads a frames folder
    the same way (:func:`~cargoscan.ocr.identify.read_frames`).
    """

    def __init__(self, engine, scene: SceneTextReader | None = None):
        self.engine = engine
        self.params = engine.params
        self.scene = scene or SceneTextReader(engine.params)

    def read(self, image: np.ndarray | None, kind: str) -> OcrResult:
        first = self.engine.read(image, kind)
        if image is None or image.size == 0:                            # nothing to look at
            return first
        corrected = first.number is not None and first.reason == Reason.CORRECTED
        if first.number is not None and not corrected and kind != "wagon":
            return first
        second = self.scene.read(image, kind)
        log.debug("%s: our engine %s (%s); scene-text reader: %s (%s)", kind, first.number, first.reason,
                  second.number, second.reason)
        if first.number is None:
            return second if second.number is not None else first
        return confirm(first, second, need_same=corrected)


def confirm(first: OcrResult, second: OcrResult, need_same: bool) -> OcrResult:
    """``first`` (our engine's accepted reading) as the second reader's ``second`` leaves it: refused when the
    second accepts another number, or, with ``need_same``, when it does not accept the same one.

    The trace's check scores the second reading +1 (the same number), 0 (none) or −1 (another number) against
    the 1 a correction needs, or the 0 a plain reading needs.
    """
    agreement = 1.0 if second.number == first.number else 0.0 if second.number is None else -1.0
    needed = 1.0 if need_same else 0.0
    check = Check("second_reader", agreement, needed, agreement >= needed)
    if check.passed:
        return dataclasses.replace(first, trace=first.trace + (check,))
    return OcrResult(None, first.raw, 0.0, Reason.UNCONFIRMED, first.scores, first.logprobs, first.trace + (check,))
