"""``cargoscan train``, ``evaluate`` and ``export``: the DVC stages after ``prepare``."""

from __future__ import annotations

from pathlib import Path

import typer

PARAMS = typer.Option(Path("params.yaml"), help="Parameter file.")
PROFILE = typer.Option(None, help="Profile overlay (default: the file's `profile`).")


def register(app: typer.Typer) -> None:
    """Add the training stages to the CLI."""

    @app.command("train")
    def train_cmd(params: Path = PARAMS, profile: str = PROFILE,
                  resume: bool = typer.Option(False, help="Continue from <out_dir>/checkpoints/last.ckpt.")) -> None:
        """Train a segmentation model on prepared tiles (Lightning; tracked in MLflow)."""
        from cargoscan.config import load_section
        from cargoscan.training.config import TrainParams
        from cargoscan.training.train import train

        train(load_section(TrainParams, "train", params, profile), resume=resume)

    @app.command("evaluate")
    def evaluate_cmd(params: Path = PARAMS, profile: str = PROFILE) -> None:
        """Score whole test wagons; choose the operating point on validation; write reports/."""
        from cargoscan.config import load_section
        from cargoscan.training.config import EvaluateParams
        from cargoscan.training.evaluate import evaluate

        evaluate(load_section(EvaluateParams, "evaluate", params, profile))

    @app.command("export")
    def export_cmd(params: Path = PARAMS, profile: str = PROFILE) -> None:
        """Write safetensors + ONNX + config.json + model card; register the MLflow pyfunc (alias champion)."""
        from cargoscan.config import load_section
        from cargoscan.training.config import ExportParams
        from cargoscan.training.publish import export

        from cargoscan.bench.config import load_bench_params

        from cargoscan.inspect.config import InspectParams

        export(load_section(ExportParams, "export", params, profile), load_bench_params(params, profile),
               load_section(InspectParams, "inspect", params, profile))
