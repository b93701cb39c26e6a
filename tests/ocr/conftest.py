"""The OCR fixture model: the small profile's detector and recogniser (ONNX) committed under ``fixtures/model``.

Provenance: the pipeline's model (``dvc repro ocr_train``: ``cargoscan ocr-train`` with the small profile of
``params.yaml``, seed 1234, CPU, 2 threads; line-core detector at 96x240, convolutional CRNN at 24 px line height
with a dynamic width, trained on 60000 rendered lines and the crops of 1000 frames); see
``fixtures/model/config.json`` for its parameters and training metrics. Tests read frames rendered with other
seeds, so what they read was never seen in training. Retrain and copy ``detector.onnx``,
``recognizer.onnx`` and ``config.json`` here when the networks' inputs change."""

from __future__ import annotations

from pathlib import Path

import pytest

from cargoscan.ocr.config import FrameParams, OcrParams

FIXTURE_MODEL = Path(__file__).parent / "fixtures" / "model"


def clean_params() -> OcrParams:
    """Frames without degradations (except stencil cuts), for tests that need a sure reading."""
    return OcrParams(frames=FrameParams(p_dirt=0, p_rust=0, p_blur=0, p_perspective=0, p_night=0, p_occlusion=0))


@pytest.fixture(scope="session")
def ocr_engine():
    from cargoscan.ocr.identify import OcrEngine

    return OcrEngine(FIXTURE_MODEL, clean_params())
