"""The two small networks: a fully convolutional text detector and a CRNN recogniser trained with CTC.

Both are tiny on purpose (they train in minutes on two CPU cores and read > 20 frames/s): the painted numbers are
large, high-contrast and of a known alphabet. Names map to factories (:data:`MODELS`, :func:`create_model`).
"""

from __future__ import annotations

import string

import torch
from torch import nn

#: CTC classes: index 0 is the blank, then digits and capital letters.
ALPHABET = string.digits + string.ascii_uppercase
BLANK = 0


def encode(text: str) -> list[int]:
    """Class indices of a label (spaces dropped)."""
    return [ALPHABET.index(c) + 1 for c in text.replace(" ", "")]


def _conv(cin: int, cout: int, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TextDetector(nn.Module):
    """Per-pixel "painted text here" logits at half the input resolution.

    Dilated convolutions give a receptive field of ~60 input pixels, enough to tell a row of glyphs from the ribs
    and seams of a wagon body at the detector's quarter-frame resolution.
    """

    def __init__(self, width: int = 16):
        super().__init__()
        stem = nn.Sequential(nn.Conv2d(1, width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width),
                             nn.ReLU(inplace=True))
        self.body = nn.Sequential(stem, _conv(width, width, 2), _conv(width, width, 4), _conv(width, width, 8),
                                  nn.Conv2d(width, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.body(image)


class CRNN(nn.Module):
    """Convolutions collapse a text line's height (24 or 32 pixels); 1-D convolutions read the columns; CTC decodes.

    The sequence part is convolutional, not recurrent: painted identifiers have no language to model, a glyph is
    read from a few columns around it, and a BiGRU was most of the training time on CPU.

    Output: (N, T, C) log-probabilities with T = input width / 4 and C = len(ALPHABET) + 1.
    """

    def __init__(self, channels: tuple[int, ...] = (16, 32, 48, 64), hidden: int = 96):
        super().__init__()
        c1, c2, c3, c4 = channels
        self.cnn = nn.Sequential(
            _conv(1, c1), nn.MaxPool2d(2),                 # H/2 x W/2
            _conv(c1, c2), nn.MaxPool2d(2),                # H/4 x W/4
            _conv(c2, c3), _conv(c3, c3), nn.MaxPool2d((2, 1)),   # H/8 x W/4
            _conv(c3, c4),                                 # H/8 x W/4, then max over the height in forward
        )
        # Receptive field along the line: ~13 columns of T (≈ 52 input pixels, two to three glyphs).
        self.seq = nn.Sequential(
            nn.Conv1d(c4, hidden, 3, padding=1, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Conv1d(hidden, hidden, 3, padding=2, dilation=2, bias=False), nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv1d(hidden, len(ALPHABET) + 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        feats = self.cnn(image).amax(dim=2)                  # (N, c4, T): any line height that divides by 8
        return self.seq(feats).transpose(1, 2).log_softmax(-1)


MODELS = {"detector": TextDetector, "crnn": CRNN}


def list_models() -> list[str]:
    """Names accepted by :func:`create_model`."""
    return sorted(MODELS)


def create_model(name: str, **kwargs) -> nn.Module:
    """Build a network by name."""
    if name not in MODELS:
        raise ValueError(f"unknown OCR model {name!r}; known: {list_models()}")
    return MODELS[name](**kwargs)
