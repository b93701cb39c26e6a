"""Parameters of the ``train``, ``evaluate`` and ``export`` stages (``params.yaml`` sections of those names)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cargoscan.data.augment import AugmentParams
from cargoscan.data.projected import ProjectionParams


@dataclass(frozen=True)
class TrainParams:
    """Model, optimisation, run control, hardware and tracking of the ``train`` stage."""

    prepared_dir: str = "data/prepared"
    out_dir: str = "data/models/train"
    arch: str = "unet"
    encoder: str = "resnet18"
    encoder_depth: int = 5              # SMP encoder stages (3..5); fewer is much cheaper on a CPU
    decoder_channels: tuple[int, ...] = ()  # Unet/Unet++ decoder widths, one per stage; () = SMP's default
    multilabel: bool = False            # sigmoid per class instead of softmax over classes
    epochs: int = 8
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-4
    dice_weight: float = 1.0
    focal_weight: float = 1.0
    focal_gamma: float = 2.0
    any_threat_weight: float = 1.0      # BCE + batch Dice on P(any threat), the wagon score's map (0: off)
    any_threat_pos_weight: float = 5.0  # weight of a threat pixel against a clean one in that BCE
    aux_weight: float = 0.2             # cargo-category head
    class_weight_power: float = 1.0     # prepare's weights ** power (1: as prepared, 0: uniform); see module docs
    threat_tile_fraction: float = 0.5   # oversample tiles holding a threat to this share of each epoch
    samples_per_epoch: int = 0          # 0: the number of training tiles
    limit_train_batches: float = 1.0    # a fraction of the batches, or (a whole number > 1) a count
    limit_val_batches: float = 1.0
    patience: int = 5                   # early stopping on val mIoU of the threat classes
    num_workers: int = 0
    seed: int = 42
    deterministic: bool = True          # "warn" semantics on GPU (some CUDA kernels have no deterministic form)
    accelerator: str = "auto"
    devices: int | str = 1
    num_nodes: int = 1
    strategy: str = "auto"              # e.g. "ddp" (GPU, NCCL) or "ddp_gloo"-style CPU runs via "ddp"
    precision: str = "32-true"          # "bf16-mixed" on the H200
    channels_last: bool = False
    compile: bool = False
    log_every_n_steps: int = 10
    overlay_samples: int = 2            # val tiles drawn into the per-epoch overlay figure
    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "cargoscan"
    artifact_location: str = "mlartifacts"
    augment: AugmentParams = field(default_factory=AugmentParams)
    projection: ProjectionParams = field(default_factory=ProjectionParams)   # threats projected on the fly
    hard_negative_weight: float = 4.0   # the hardest clean tiles are drawn up to 1 + this times as often
    checkpoint_dir: str = ""            # "" = <out_dir>/../checkpoints: outside the stage's outs, so a stopped run
                                        # resumes from there
    checkpoint_every_n_steps: int = 100


@dataclass(frozen=True)
class EvaluateParams:
    """Per-wagon evaluation on the held-out test split; the operating point comes from the validation split."""

    prepared_dir: str = "data/prepared"
    model_dir: str = "data/models/train"
    reports_dir: str = "reports"
    target_far: float = 0.02            # false alarms on clean wagons allowed at the operating point
    score_top_k: int = 16               # wagon score: mean of the k highest threat probabilities
    batch_size: int = 16
    accelerator: str = "auto"
    tip_dir: str = "data/tip"           # TIP'd real scans: detection on real backgrounds, when present
    imported_dir: str = "data/imported" # untouched imported real scans: false alarms on real backgrounds


@dataclass(frozen=True)
class ExportParams:
    """The deployable artifact and its registration."""

    model_dir: str = "data/models/train"
    reports_dir: str = "reports"
    out_dir: str = "data/models/export"
    name: str = "cargoscan-seg"
    opset: int = 17
    parity_atol: float = 1e-3           # ONNX vs PyTorch, relative to max(1, |logit|max)
    champion_metric: str = "test_wagon_auroc"   # higher is better; the alias moves only on improvement
    register: bool = True
    # honest clean validation wagons sent red for any reason (threat alarm or declaration checks), at most: the
    # declaration checks' joint operating point (cargoscan.scoring.budget), chosen on bench's val archive
    decision_budget: float = 0.03
    # the one-sided confidence with which that rate stays within the budget, judged on the validation wagons (a
    # Wilson upper bound: a margin for choosing on a few hundred wagons); None: the observed rate
    decision_confidence: float | None = 0.95
