"""Parameters of the identification part: the ``ocr:`` section of ``params.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FrameParams:
    """Camera frames: size and how often each degradation strikes."""

    height: int = 240
    width: int = 640
    p_dirt: float = 0.4
    p_rust: float = 0.3
    p_blur: float = 0.4
    p_perspective: float = 0.5
    p_night: float = 0.25
    p_occlusion: float = 0.1
    p_stencil: float = 0.5           # stencil bridges cut into the glyphs
    max_blur_px: int = 7             # longest horizontal motion-blur kernel
    cameras: int = 2                 # portal cameras, one each side of the track: each identifier seen this often


@dataclass(frozen=True)
class OcrTrainParams:
    """Training of the text detector and the CRNN recogniser."""

    n_frames: int = 1000             # rendered training frames (each gives one detector sample and crops)
    n_val: int = 150
    crops_per_frame: int = 2         # jittered crops of each painted line per frame (and per rendered line)
    n_lines: int = 60000             # rendered line patches for the recogniser (cargoscan.ocr.lines): more lines
                                     # pay more than more epochs (README, Identification)
    container_share: float = 0.6     # share of container doors among training frames (letters are the hard part)
    letter_share: float = 0.5        # of those, doors painted with random letters and digits (class balance)
    det_frames: int = 1000           # frames the detector trains on (0: all)
    det_width: int = 12              # detector channels
    epochs_det: int = 16
    epochs_rec: int = 3
    batch_size: int = 64             # recogniser batches
    det_batch_size: int = 16         # detector batches: small, the detector needs steps more than samples
    lr: float = 3e-3
    channels: tuple[int, ...] = (16, 24, 40, 64)   # CRNN conv widths
    hidden: int = 96                 # width of the recogniser's 1-D convolutions along the line
    threads: int = 2                 # the stage has the 2 cores to itself (1 is faster only on a shared machine)
    seed: int = 1234


@dataclass(frozen=True)
class FusionParams:
    """Check-digit constrained correction and the acceptance rules."""

    max_edits: int = 2               # substitutions tried on the OCR reading
    alternatives: int = 3            # per-character alternatives taken from the CTC output
    max_doubtful: int = 2            # a correction needs all but this many characters read surely
    max_doubtful_checked: int = 3    # ... or this many, when it beats every valid two-change rival of them too
    strong_margin: float = 5.0       # nats: ... by this much (≈ 150×)
    lock_prob: float = 0.9          # a legal character read at least this sure is never substituted
    rescore: int = 12                # candidates (best quick scores) rescored by the exact CTC likelihood
    beam: int = 16                   # grammar-constrained CTC beam (valid strings of any best-path length); 0: off
    min_inserted: float = 0.2        # a character the best path skipped needs at least this probability somewhere
    min_inserted_edge: float = 0.5   # ... and this much at either end of the line (the crop may have cut it)
    ambiguity_margin: float = 3.0    # nats: the best valid reading must beat the runner-up by this (≈ 20×)
    correction_margin: float = 3.0   # nats: ... and a corrected reading (not what the network read) by this
    collision_margin: float = 5.0    # nats: ... and a valid rival one character away (the check digit can't tell)
    view_margin: float = 1.5         # several cameras' summed likelihoods must clear the margins this many times
    min_confidence: float = 0.5      # below this the OCR reading is not accepted on its own
    max_correction_cost: float = 4.6 # nats: a correction may be at most ~100× less likely than the raw reading


@dataclass(frozen=True)
class EvalParams:
    """The held-out benchmark when no archive frames exist, and the simulated RFID quality."""

    n_wagons: int = 400
    seed: int = 98765
    p_rfid_missing: float = 0.05
    p_rfid_corrupt: float = 0.03
    baseline_frames: int = 60        # the packaged OCR is slow: evaluated on a subset
    scene_wagons: int = 100          # wagons of each frozen scene set (cargoscan.ocr.scenesets), per geometry
    scene_seed: int = 60917          # ... and its seed: with SCENE_SET_VERSION, all that names a frozen set


@dataclass(frozen=True)
class OcrParams:
    """The ``ocr:`` section of ``params.yaml``."""

    frames: FrameParams = field(default_factory=FrameParams)
    train: OcrTrainParams = field(default_factory=OcrTrainParams)
    fusion: FusionParams = field(default_factory=FusionParams)
    eval: EvalParams = field(default_factory=EvalParams)
    det_input: tuple[int, int] = (96, 240)    # (H, W) of the detector's input: stacked lines stay apart
    det_norm: str = "local"                   # the detector input's contrast normalisation: "local" or "global"
    rec_input: tuple[int, int] = (24, 224)    # (H, W) of the recogniser's input (aspect kept, padded)
    max_candidates: int = 3                   # text boxes read per frame
    # Padding of a detected line box (fractions of its height: left, top, right, bottom) before recognition.
    # The heat map's boxes already run taller than the ink: no vertical padding on top of them. A quarter of the
    # height on each side keeps an edge glyph the heat map clipped (a clipped owner code was read as another).
    crop_pad: tuple[float, float, float, float] = (0.25, 0.0, 0.25, 0.0)
    # The lines of an accepted reading are read again cut this wide; if that prefers another valid number, the
    # reading is ambiguous.
    # Empty: no second reading.
    check_pad: tuple[float, ...] = (0.8, 0.0, 0.8, 0.0)
    # A correction refused as too doubtful (an edge glyph put back), or lines with nothing valid in them, are read
    # again cut as wide as the first, and must be preferred cut as wide as the second. Empty: no such reading.
    # Wider on the right: the glyph most often left out is the boxed check digit at the end of the line.
    clip_pads: tuple[tuple[float, ...], ...] = ((0.8, 0.0, 1.6, 0.0), (0.5, 0.0, 1.2, 0.0))
    model_dir: str = "data/ocr/model"
    # Which reader reads a frame (cargoscan.ocr.identify.READERS): "ours" (our detector and recogniser), "scene"
    # (the packaged PP-OCRv4 networks under our decoding) or "cascade" (ours, then the scene reader for what ours
    # refuses: ours is fast and exact on portal frames like its training frames, the scene reader reads photos).
    reader: str = "cascade"
