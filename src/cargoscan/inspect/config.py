"""Parameters of the inspection engine: the ``inspect:`` section of ``params.yaml``.

Every threshold that changes a decision lives here (or in the model artifact's operating point), so that a
decision can be traced to a ``thresholds_version``: a hash of these parameters and of the HS→category table
(:func:`thresholds_version`), never a label bumped by hand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from cargoscan.archive.validity import ValidityParams

#: The checks whose outcome decides a wagon; «без подозрения» needs every one of them run and passed.
DEFAULT_REQUIRED_CHECKS = ("scan", "validity", "model", "segmentation", "declaration", "cargo", "material", "mass",
                           "references")
#: Required whatever ``required_checks`` says: a readable, physically plausible scan and a verified model.
MANDATORY_CHECKS = ("scan", "validity", "model")


#: The load's extent along the beam by unit type (cm): the inner widths of an ISO container and of 1520 mm-gauge
#: covered wagons, gondolas and tank barrels.
BEAM_DEPTH_CM = {"container": 235.0, "covered": 276.0, "gondola": 288.0, "tank": 280.0, "flat": 240.0, "other": 240.0}


def derived_structure() -> dict[str, float]:
    """The structure in the beam per unit type (g/cm²), as :mod:`cargoscan.bench.category_physics` measured it
    on the synthesiser's wagons (packaged ``category_physics.json``): a container's corrugated sides (3.2), a covered
    wagon's sheathing with its posts and doors (10), a gondola's plates and stanchions (12), a tank's shell along
    its chords (πt·ρ, not 2t·ρ: 24). A real post whose wagons differ sets its own in ``params.yaml``."""
    from cargoscan.inspect.declarations import load_derived

    return dict(load_derived()["structure_g_cm2"])


@dataclass(frozen=True)
class InspectParams:
    """The ``inspect:`` section of ``params.yaml``.

    Attributes:
        backend: ``onnx`` (onnxruntime, CPU) or ``torch`` (PyTorch, for a GPU).
        device: ``cpu`` or ``cuda``; only the torch backend uses a GPU.
        threads: onnxruntime intra-op threads (0 = library default).
        batch_size: tiles per backend call.
        bf16: torch backend: autocast to bfloat16 (GPU only).
        channels_last: torch backend: NHWC memory format.
        tile: tile side at the model pitch; 0 takes the artifact's.
        overlap: tile overlap; -1 takes the artifact's.
        timeout_s: per-inspection wall-clock limit; over it the inspection fails closed.
        min_area_px: connected components smaller than this (model pixels) are dropped as speckle.
        min_area_m2: ... and components smaller than this area, in square metres.
        category_max_declared_probability: the cargo head's probability of the declared category(ies) at or below
            which the category contradicts the declaration (its evidence is 1.0 there; see scoring.budget).
        mass_tolerance_rel: relative mass difference to the declared net weight that raises a flag ...
        mass_tolerance_sigma: ... unless it lies within this many standard deviations of the estimate.
        empty_tolerance_kg: a unit declared empty (net 0) is flagged only for a load beyond this (a pallet of
            goods), and its density and material judged only then: tens of kilograms read on an empty wagon are a
            few structure pixels segmented as cargo, not undeclared goods.
        lambda_rel_uncertainty: relative 1-sigma error of the (λ, Z_eff) inversion's areal density.
        structure_rel_uncertainty: relative 1-sigma error of the known structure (wall) areal density.
        structure_g_cm2: areal density of the wagon/container structure the beam crosses over the cargo, by type
            (g/cm²); default: derived from the synthesiser's wagons (:func:`derived_structure`).
        beam_depth_cm: the load's extent along the beam, by type, for the bulk density (cm).
        references_dir: the reference library (``cargoscan references`` output); empty = none (the check is
            then unavailable, shown on the conclusion).
        references_split: the training split the library is built from (csv ``scan_id,split`` or a list of IDs);
            empty = every scan with a truth row (the references stage passes prepare's index: its train rows).
        references_per_category: at most this many references per category.
        reference_min_similarity: cosine similarity to the declared category's references below which a flag is
            raised when another category is nearer.
        reference_top_k: nearest references listed in the conclusion.
        required_checks: the checks that must run and pass for «без подозрения».
        advisory_checks: checks whose flags are shown on the conclusion but do not decide (status ``advisory``):
            those that no operating point governs yet.
        hs_categories: path of the HS→category map; empty = the packaged ``hs_categories.yaml``.
        conclusion_template: path of the conclusion field set; empty = the packaged ``conclusion.yaml``.
        overlay_width_px: width of the scan image in the conclusion.
        material_max_pixels: above this many load pixels the (λ, Z_eff) inversion runs on blocks (0 = never).
        image_bottom_m: height above the rail of the image's bottom row (the lowest detector channel) — a property
            of the installation; risk-area heights are above the rail.
        validity: thresholds of the input-validity check (:class:`cargoscan.archive.validity.ValidityParams`).
        artifact_sha256: when set, the only model artifact hash accepted (pins the deployed model).
    """

    backend: str = "onnx"
    device: str = "cpu"
    threads: int = 2
    batch_size: int = 8
    bf16: bool = True
    channels_last: bool = True
    tile: int = 0
    overlap: int = -1
    timeout_s: float = 120.0
    min_area_px: int = 16
    min_area_m2: float = 0.005
    category_max_declared_probability: float = 0.1
    mass_tolerance_rel: float = 0.15
    mass_tolerance_sigma: float = 2.0
    empty_tolerance_kg: float = 500.0
    lambda_rel_uncertainty: float = 0.05
    structure_rel_uncertainty: float = 0.2
    structure_g_cm2: dict[str, float] = field(default_factory=lambda: derived_structure())
    beam_depth_cm: dict[str, float] = field(default_factory=lambda: dict(BEAM_DEPTH_CM))
    references_dir: str = "data/references"
    references_split: str = ""
    references_per_category: int = 50
    reference_min_similarity: float = 0.5
    reference_top_k: int = 3
    required_checks: tuple[str, ...] = DEFAULT_REQUIRED_CHECKS
    advisory_checks: tuple[str, ...] = ("references",)
    hs_categories: str = ""
    conclusion_template: str = ""
    overlay_width_px: int = 1600
    material_max_pixels: int = 400_000
    image_bottom_m: float = 0.30
    validity: ValidityParams = field(default_factory=ValidityParams)
    artifact_sha256: str = ""


#: Fields that cannot change a decision (how fast, where, what is shown): left out of :func:`thresholds_version`.
NOT_DECIDING = frozenset({"backend", "device", "threads", "batch_size", "bf16", "channels_last", "timeout_s",
                          "references_dir", "references_split", "references_per_category", "reference_top_k",
                          "conclusion_template", "overlay_width_px", "material_max_pixels", "image_bottom_m",
                          "artifact_sha256",
                          "hs_categories"})   # its path: the table's content is hashed instead


def thresholds_version(params: InspectParams) -> str:
    """``inspect-<12 hex>``: the SHA-256 of every decision parameter and of the HS→category table in force.

    Two engines that decide alike share it; any change of a threshold, a required or advisory check, a structure
    density or a category's density range gives a new one.
    """
    from importlib import resources
    from pathlib import Path

    deciding = {k: v for k, v in dataclasses.asdict(params).items() if k not in NOT_DECIDING}
    table = (Path(params.hs_categories).read_bytes() if params.hs_categories else
             resources.files("cargoscan.inspect").joinpath("hs_categories.yaml").read_bytes())
    derived = resources.files("cargoscan.inspect").joinpath("category_physics.json").read_bytes()
    h = hashlib.sha256(json.dumps(deciding, sort_keys=True, default=str).encode())
    h.update(table)
    h.update(derived)
    return "inspect-" + h.hexdigest()[:12]


def load_inspect_params(path: str | None = None, profile: str | None = None) -> InspectParams:
    """Read the ``inspect:`` section of ``params.yaml``, or the defaults when there is no parameter file."""
    from pathlib import Path

    from cargoscan.config import DEFAULT_PARAMS, load_section

    path = Path(path) if path else DEFAULT_PARAMS
    if not path.exists():
        return InspectParams()
    return load_section(InspectParams, "inspect", path, profile)
