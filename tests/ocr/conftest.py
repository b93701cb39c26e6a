"""A tiny OCR model trained once per test session on a handful of identities (clean frames, a few seconds)."""

from __future__ import annotations

import pytest

from cargoscan.ocr.config import FrameParams, OcrParams, TrainParams

#: The identities the tiny model learns (valid numbers: the wagon ones pass Luhn, the container ISO 6346).
IDENTITIES = [("wagon", "45488855"), ("wagon", "62345670"), ("container", "CSQU3054383")]


def tiny_params() -> OcrParams:
    clean = FrameParams(p_dirt=0, p_rust=0, p_blur=0, p_perspective=0, p_night=0, p_occlusion=0, p_stencil=0)
    return OcrParams(frames=clean, train=TrainParams(n_frames=240, n_val=24, crops_per_frame=3, epochs_det=3,
                                                     epochs_rec=8, batch_size=32, lr=5e-3, channels=(8, 16, 32, 48),
                                                     hidden=32, seed=7))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    import logging

    from cargoscan.ocr.train import train_ocr

    logging.getLogger("lightning").setLevel(logging.WARNING)
    out = tmp_path_factory.mktemp("ocr_model")
    metrics = train_ocr(tiny_params(), out, identities=IDENTITIES)
    return out, metrics
