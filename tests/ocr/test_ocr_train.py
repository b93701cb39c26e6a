import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from cargoscan.ocr.config import FrameParams, OcrParams, OcrTrainParams
from cargoscan.ocr.model import ALPHABET, create_model, list_models
from cargoscan.ocr.train import render_dataset, train_ocr


def _tiny() -> OcrParams:
    return OcrParams(frames=FrameParams(p_night=0), train=OcrTrainParams(
        n_frames=24, n_val=8, crops_per_frame=1, n_lines=16, epochs_det=1, epochs_rec=1, batch_size=8,
        channels=(4, 8, 8, 8), hidden=8, det_width=4, seed=3))


def test_models_have_the_documented_shapes():
    assert list_models() == ["crnn", "detector"]
    det, rec = create_model("detector").eval(), create_model("crnn").eval()
    assert det(torch.zeros(2, 1, 96, 240)).shape == (2, 1, 48, 120)
    out = rec(torch.zeros(2, 1, 32, 256))
    assert out.shape == (2, 64, len(ALPHABET) + 1)
    assert torch.allclose(out.exp().sum(-1), torch.ones(2, 64), atol=1e-5)   # log-probabilities
    assert rec(torch.zeros(1, 1, 24, 200)).shape == (1, 50, len(ALPHABET) + 1)   # any height /8, any width /4
    with pytest.raises(ValueError):
        create_model("yolo")


def test_render_dataset_labels_match_the_painted_text():
    data = render_dataset(6, _tiny(), seed=0, identities=[("wagon", "45488855")])
    assert data["det_x"].shape == (6, 1, 96, 240) and data["det_y"].shape == (6, 1, 48, 120)
    assert 0 < data["det_y"].mean() < 0.5            # the text box is a small part of the frame
    label = "".join(ALPHABET[k - 1] for k in data["rec_y"][0, : data["rec_len"][0]].tolist())
    assert label == "45488855"


def test_render_dataset_labels_each_painted_line_of_a_door():
    data = render_dataset(12, _tiny(), seed=1, identities=[("container", "CSQU3054383")])
    labels = {"".join(ALPHABET[k - 1] for k in y[:n].tolist()) for y, n in zip(data["rec_y"], data["rec_len"])}
    # one-line doors give the whole code, stacked ones the owner code and the serial with its check digit
    assert labels & {"CSQU3054383", "CSQU", "3054383"}
    assert labels <= {"CSQU3054383", "CSQU", "3054383"} | {lab for lab in labels if len(lab) == 4 and lab[2] in "GRUTP"}


@pytest.mark.slow
def test_training_exports_onnx_that_matches_torch(tmp_path):
    train_ocr(_tiny(), tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["alphabet"] == ALPHABET and "rec_val_acc" in config["metrics"]
    assert config["det_norm"] == _tiny().det_norm     # the engine normalises the detector's input the same way
    from safetensors.torch import load_file

    weights = load_file(str(tmp_path / "model.safetensors"))
    rec = create_model("crnn", channels=(4, 8, 8, 8), hidden=8).eval()
    rec.load_state_dict({k[len("recognizer."):]: v for k, v in weights.items() if k.startswith("recognizer.")})
    h, w = _tiny().rec_input
    x = np.random.default_rng(0).normal(size=(3, 1, h, w - 64)).astype(np.float32)   # dynamic batch and width
    onnx_out = ort.InferenceSession(str(tmp_path / "recognizer.onnx")).run(None, {"image": x})[0]
    with torch.no_grad():
        assert np.allclose(onnx_out, rec(torch.from_numpy(x)).numpy(), atol=1e-4)
    det = ort.InferenceSession(str(tmp_path / "detector.onnx"))
    assert det.run(None, {"image": np.zeros((2, 1, 96, 240), np.float32)})[0].shape == (2, 1, 48, 120)
