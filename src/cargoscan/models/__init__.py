"""Segmentation models: the registry (``list_models``, ``create_model``, ``build_model``), export and the
artifact contract. Torch is imported lazily, so ``cargoscan.models.artifact`` stays light."""

from typing import Any

__all__ = ["build_model", "create_model", "list_models"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from cargoscan.models import registry
        return getattr(registry, name)
    raise AttributeError(name)
