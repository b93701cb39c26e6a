"""Segmentation models by name: a timm-style registry over ``segmentation_models_pytorch``.

A model name is ``<arch>-<encoder>``, e.g. ``unet-resnet18`` or ``deeplabv3plus-efficientnet-b0``. Every model has
SMP's auxiliary classification head for the cargo category, so its forward returns ``(mask_logits,
category_logits)``. Weights always start random (``encoder_weights=None``): nothing is downloaded, and ImageNet
statistics mean little for attenuation images anyway.
"""

from __future__ import annotations

from typing import Any, Callable

import segmentation_models_pytorch as smp
import torch

#: architecture key → SMP class name (``smp.create_model`` resolves it).
ARCHITECTURES: dict[str, str] = {
    "unet": "Unet",
    "unetplusplus": "UnetPlusPlus",
    "fpn": "FPN",
    "deeplabv3plus": "DeepLabV3Plus",
    "segformer": "Segformer",
}
ENCODERS: tuple[str, ...] = ("resnet18", "resnet34", "efficientnet-b0", "mobilenet_v2")
#: H and W of the input must be multiples of this (five stride-2 stages).
SIZE_MULTIPLE = 32


def prune_unused_stages(model: torch.nn.Module, in_channels: int) -> torch.nn.Module:
    """Replace encoder stages that a shallow encoder (``encoder_depth`` < 5) never runs by ``nn.Identity``.

    SMP keeps them (ResNet's ``layer3``/``layer4`` are 10 M parameters at depth 3): dead weight in checkpoints,
    and DDP refuses parameters that get no gradient. A stage counts as unused when none of its parameters gets a
    gradient from a dummy forward and backward.
    """
    model.zero_grad(set_to_none=True)
    was_training = model.training
    model.eval()
    mask, label = model(torch.zeros(1, in_channels, 64, 64))
    (mask.sum() + label.sum()).backward()
    for name, child in list(model.encoder.named_children()):
        params = list(child.parameters())
        if params and all(p.grad is None for p in params):
            setattr(model.encoder, name, torch.nn.Identity())
    model.zero_grad(set_to_none=True)
    return model.train(was_training)


def _factory(arch: str, encoder: str) -> Callable[..., torch.nn.Module]:
    def create(in_channels: int = 3, num_classes: int = 8, num_categories: int = 1, dropout: float = 0.1,
               **kwargs: Any) -> torch.nn.Module:
        model = smp.create_model(
            ARCHITECTURES[arch], encoder_name=encoder, encoder_weights=None, in_channels=in_channels,
            classes=num_classes, aux_params={"classes": max(1, num_categories), "dropout": dropout}, **kwargs)
        if kwargs.get("encoder_depth", 5) < 5:
            prune_unused_stages(model, in_channels)
        return model
    create.__name__ = f"create_{arch}_{encoder}".replace("-", "_")
    return create


#: model name → factory ``(in_channels, num_classes, num_categories, dropout, **smp_kwargs) -> nn.Module``.
MODELS: dict[str, Callable[..., torch.nn.Module]] = {
    f"{arch}-{enc}": _factory(arch, enc) for arch in ARCHITECTURES for enc in ENCODERS
}


def list_models(pattern: str | None = None) -> list[str]:
    """Registered model names, optionally those containing ``pattern``."""
    return sorted(n for n in MODELS if pattern is None or pattern in n)


def model_name(arch: str, encoder: str) -> str:
    """The registry name of an (architecture, encoder) pair."""
    return f"{arch}-{encoder}"


def split_name(name: str) -> tuple[str, str]:
    """``"unet-efficientnet-b0"`` → ``("unet", "efficientnet-b0")``."""
    arch, _, encoder = name.partition("-")
    return arch, encoder


def create_model(name: str, **kwargs: Any) -> torch.nn.Module:
    """Build a registered model.

    Args:
        name: ``<arch>-<encoder>`` from :func:`list_models`.
        **kwargs: ``in_channels``, ``num_classes``, ``num_categories``, ``dropout`` and SMP keyword arguments.

    Raises:
        KeyError: for an unknown name, listing the known ones.
    """
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {list_models()}")
    return MODELS[name](**kwargs)


def build_model(cfg: Any) -> torch.nn.Module:
    """Build the network described by an :class:`~cargoscan.models.artifact.ArtifactConfig` (or anything with
    ``arch``, ``encoder``, ``in_channels``, ``classes`` and ``categories``), with random weights; load the
    artifact's ``model.safetensors`` into it. Non-default SMP arguments (a shallower encoder, narrower decoder)
    come from ``cfg.extra["model_kwargs"]``."""
    in_ch = cfg.in_channels if isinstance(cfg.in_channels, int) else len(cfg.in_channels)
    kwargs = dict((getattr(cfg, "extra", None) or {}).get("model_kwargs") or {})
    return create_model(model_name(cfg.arch, cfg.encoder), in_channels=in_ch, num_classes=len(cfg.classes),
                        num_categories=len(cfg.categories), **kwargs)
