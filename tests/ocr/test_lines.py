import numpy as np
import torch

from cargoscan.ocr.config import FrameParams, OcrParams
from cargoscan.ocr.lines import content_width, line_text, render_line_dataset, render_line_patch
from cargoscan.ocr.model import ALPHABET


def test_line_texts_are_readable_labels_and_letters_are_not_scarce():
    rng = np.random.default_rng(0)
    texts = [line_text(rng)[0].replace(" ", "") for _ in range(2000)]
    assert all(1 <= len(t) <= 11 and set(t) <= set(ALPHABET) for t in texts)
    chars = "".join(texts)
    digits = sum(chars.count(d) for d in "0123456789") / 10
    letters = [chars.count(c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    assert min(letters) > 0.25 * digits       # every letter class gets a fair share of a digit class's samples


def test_patch_paints_the_line_inside_its_box():
    clean = OcrParams(frames=FrameParams(p_dirt=0, p_rust=0, p_blur=0, p_perspective=0, p_night=0,
                                         p_occlusion=0, p_stencil=0))
    rng = np.random.default_rng(1)
    for _ in range(5):
        image, (x0, y0, x1, y1), applied = render_line_patch(rng, "CSQU 305438 3", clean, box_last=True)
        assert applied == [] and 0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0]
        assert x1 - x0 > 4 * (y1 - y0)                   # eleven characters: a long line
        inside = image[y0:y1, x0:x1].astype(float).std()
        assert inside > 20                               # ink on paint, not bare body


def test_line_dataset_crops_are_labelled_and_know_their_width():
    params = OcrParams()
    data = render_line_dataset(6, params, seed=2, texts=["TGHU 123456 7"])
    n = 6 * params.train.crops_per_frame
    assert data["rec_x"].shape == (n, 1, *params.rec_input)
    assert all("".join(ALPHABET[k - 1] for k in y[:m].tolist()) == "TGHU1234567"
               for y, m in zip(data["rec_y"], data["rec_len"]))
    for x, w in zip(data["rec_x"].float().numpy(), data["rec_w"].tolist()):
        assert 4 <= w <= params.rec_input[1] and content_width(x) == w
        assert np.all(x[..., w:] == 0)                   # beyond its width a crop is padding only


def test_line_dataset_is_the_same_for_any_number_of_rendering_processes(monkeypatch):
    import cargoscan.ocr.lines as lines

    monkeypatch.setattr(lines, "CHUNK", 3)              # 7 lines in chunks of 3, 3 and 1
    params = OcrParams()
    one = render_line_dataset(7, params, seed=5)
    two = render_line_dataset(7, params, seed=5, workers=2)
    assert one["rec_x"].shape[0] == 7 * params.train.crops_per_frame
    for key in one:
        assert torch.equal(one[key], two[key])
    other = render_line_dataset(7, params, seed=6)
    assert not torch.equal(one["rec_x"], other["rec_x"])


def test_training_lines_are_painted_in_the_scene_faces_too(monkeypatch):
    """The recogniser's lines use the archive frames' faces and every condensed face of the realistic scenes
    (trained on the first alone, it read a condensed 3 as 5 with 8 nats to spare: 25093535 as 25095555)."""
    import cargoscan.ocr.lines as lines
    from cargoscan.ocr.lettering import compose, list_scene_fonts
    from cargoscan.ocr.stencil import list_fonts

    faces = lines.training_faces()
    assert set(list_fonts()) <= set(faces)
    assert {lines.SCENE_FACE + f for f in list_scene_fonts()} <= set(faces)
    for name in list_scene_fonts():
        m = lines.line_mask("2509 3535", lines.SCENE_FACE + name, 30, 0.08, False, False)
        assert np.array_equal(m, compose("2509 3535", name, 30, tracking=0.08).mask)
    drawn = []
    real_mask = lines.line_mask

    def spy(text, font, *args, **kwargs):
        drawn.append(font)
        return real_mask(text, font, *args, **kwargs)

    monkeypatch.setattr(lines, "line_mask", spy)
    rng = np.random.default_rng(4)
    for _ in range(80):
        render_line_patch(rng, "2509 3535", OcrParams())
    share = np.mean([f.startswith(lines.SCENE_FACE) for f in drawn])
    assert 0.2 < share < 0.6, share                     # 3 faces of 8
