"""The label classes of ``configs/classes.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml


@dataclass(frozen=True)
class LabelClass:
    """One semantic class of the label masks."""

    id: int
    name: str
    ru: str
    color: tuple[int, int, int]
    priority: int
    threat: bool


@lru_cache(maxsize=1)
def load_classes() -> tuple[LabelClass, ...]:
    """The classes in id order, read from the packaged ``classes.yaml``."""
    text = resources.files("cargoscan.archive").joinpath("classes.yaml").read_text(encoding="utf-8")
    rows = yaml.safe_load(text)["classes"]
    classes = tuple(
        LabelClass(int(r["id"]), r["name"], r["ru"], tuple(r["color"]), int(r["priority"]), bool(r["threat"]))
        for r in rows
    )
    if [c.id for c in classes] != list(range(len(classes))):
        raise ValueError("classes.yaml: ids must run 0..N-1 in order")
    return classes


def class_names() -> list[str]:
    """Class names in id order."""
    return [c.name for c in load_classes()]


def class_id(name: str) -> int:
    """The id of a class by name."""
    for c in load_classes():
        if c.name == name:
            return c.id
    raise KeyError(f"unknown class {name!r}; known: {class_names()}")


def threat_ids() -> list[int]:
    """Ids of the classes that make a wagon 'something to find'."""
    return [c.id for c in load_classes() if c.threat]


def palette() -> np.ndarray:
    """(N, 3) uint8 colours in id order, for overlays."""
    return np.array([c.color for c in load_classes()], dtype=np.uint8)


def paint(mask: np.ndarray, class_id_: int, where: np.ndarray) -> None:
    """Write ``class_id_`` into ``mask`` where ``where`` holds, unless a higher-priority class is there already."""
    prio = np.array([c.priority for c in load_classes()])
    keep = where & (prio[mask] <= prio[class_id_])
    mask[keep] = class_id_
