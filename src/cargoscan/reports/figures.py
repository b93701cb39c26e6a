"""Matplotlib helpers for the reports, and the one function that exports a figure.

Every figure goes through :func:`show`: it is written as a PNG to ``reports/figures/`` and the *same* PNG
bytes are displayed in the notebook, so the HTML embeds exactly the committed file at a modest dpi.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: CI and the DVC stage have no display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch, Rectangle

from cargoscan.archive.classes import load_classes, palette

MAX_DISPLAY_COLUMNS = 900  # a 40 m wagon is decimated for display; the physics is not affected
A_MAX = 7.0                # attenuation shown as black (T ≈ 0.1 %)

plt.rcParams.update({"figure.dpi": 72, "font.size": 9, "axes.titlesize": 10, "axes.grid": False,
                     "savefig.bbox": "tight", "figure.max_open_warning": 0})


def save(fig: plt.Figure, name: str, figures_dir: str | Path, dpi: int = 72) -> Path:
    """Save ``fig`` as ``<figures_dir>/<name>.png`` (no timestamp: same data, same bytes)."""
    out = Path(figures_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return path


def show(fig: plt.Figure, name: str, figures_dir: str | Path, dpi: int = 72) -> None:
    """Save ``fig`` with :func:`save` and display that very PNG inline (returns None: no path echoed)."""
    path = save(fig, name, figures_dir, dpi)
    try:
        from IPython.display import Image, display
    except ImportError:  # outside Jupyter the file is enough
        return
    display(Image(filename=str(path), alt=name.replace("_", " ")))


def _display_image(image: np.ndarray) -> tuple[np.ndarray, int]:
    """High-energy image on a log scale, decimated along the train so it fits; returns (pixels, column step).

    Grey level = 1 − A/A_MAX with A = −ln T: dense cargo keeps its texture instead of going flat black.
    """
    step = max(1, int(np.ceil(image.shape[-1] / MAX_DISPLAY_COLUMNS)))
    t = np.maximum(image[0, :, ::step].astype(np.float32), 1.0) / 65535.0
    return 1.0 - np.clip(-np.log(t) / A_MAX, 0.0, 1.0), step


def overlay(ax: plt.Axes, image: np.ndarray, mask: np.ndarray | None = None,
            boxes: pd.DataFrame | None = None, title: str = "", min_class: int = 3) -> None:
    """Draw a scan (high energy, log scale; air white, steel dark) with label colours and predicted boxes.

    Args:
        ax: the axes.
        image: (2, H, W) uint16 scan.
        mask: (H, W) label mask; classes with id >= ``min_class`` (compartments, voids, contraband)
            are coloured.
        boxes: predicted risk areas with ``x0, y0, x1, y1, class, score`` in scan pixels.
        title: axes title.
        min_class: the first class id to colour (cargo and vehicle would drown the threats).
    """
    t, step = _display_image(image)
    ax.imshow(t, cmap="gray", vmin=0, vmax=1, aspect="auto", interpolation="antialiased")
    if mask is not None:
        m = mask[:, ::step]
        rgba = np.zeros((*m.shape, 4), dtype=np.float32)
        rgba[..., :3] = palette()[m] / 255.0
        rgba[..., 3] = np.where(m >= min_class, 0.55, 0.0)
        ax.imshow(rgba, aspect="auto", interpolation="nearest")
    colours = palette() / 255.0
    names = {c.name: c.id for c in load_classes()}
    for b in [] if boxes is None else boxes.to_dict("records"):
        cid = names.get(b["class"], 0)
        ax.add_patch(Rectangle((b["x0"] / step, b["y0"]), (b["x1"] - b["x0"]) / step, b["y1"] - b["y0"],
                               fill=False, lw=1.5, ec=colours[cid] if cid else "red", ls="--"))
        ax.text(b["x0"] / step, b["y0"], f"{b['class']} {b['score']:.2f}", fontsize=7, color="white",
                va="bottom", bbox={"fc": "black", "alpha": 0.6, "pad": 1, "lw": 0})
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def class_legend(fig: plt.Figure, min_class: int = 3) -> None:
    """A legend of the coloured label classes (Russian name in brackets)."""
    handles = [Patch(color=np.array(c.color) / 255.0, label=f"{c.name} ({c.ru})") for c in load_classes()
               if c.id >= min_class]
    fig.legend(handles=handles, loc="lower center", ncol=min(5, len(handles)), fontsize=7, frameon=False)


def gallery(items: Sequence[dict], ncols: int = 2, min_class: int = 3) -> plt.Figure:
    """A grid of overlays; each item holds ``image``, optional ``mask``, ``boxes`` and ``title``."""
    n = max(1, len(items))
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(max(7.0, 5.2 * ncols), 2.2 * nrows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, it in zip(axes.ravel(), items):
        ax.axis("on")
        overlay(ax, it["image"], it.get("mask"), it.get("boxes"), it.get("title", ""), min_class)
    class_legend(fig, min_class)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def roc(curves: dict[str, tuple[Sequence[float], Sequence[float]]], point: tuple[float, float] | None = None,
        title: str = "ROC") -> plt.Figure:
    """ROC curves (false-alarm rate → detection rate), with the operating point marked."""
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    for name, (fpr, tpr) in curves.items():
        ax.plot(fpr, tpr, lw=1.5, label=name, drawstyle="steps-post")
    if point is not None:
        ax.plot(*point, "o", color="crimson", label=f"operating point ({point[0]:.3f}, {point[1]:.3f})")
    ax.plot([0, 1], [0, 1], ":", color="grey", lw=0.8)
    ax.set(xlabel="false-alarm rate (clean wagons flagged)", ylabel="detection rate", xlim=(-0.01, 1.01),
           ylim=(-0.01, 1.01), title=title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="lower right")
    return fig


def confusion(df: pd.DataFrame, title: str, xlabel: str = "predicted", ylabel: str = "true") -> plt.Figure:
    """A confusion matrix of counts (rows true, columns predicted), each cell annotated."""
    v = df.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.2 + 0.55 * max(3, v.shape[1]), 1.0 + 0.45 * max(3, v.shape[0])))
    row = v.sum(axis=1, keepdims=True)
    ax.imshow(np.divide(v, row, out=np.zeros_like(v), where=row > 0), cmap="Blues", vmin=0, vmax=1)
    for (i, j), n in np.ndenumerate(v):
        ax.text(j, i, f"{int(n)}", ha="center", va="center", fontsize=8,
                color="white" if row[i, 0] and n / row[i, 0] > 0.6 else "black")
    ax.set_xticks(range(v.shape[1]), [str(c) for c in df.columns], rotation=40, ha="right")
    ax.set_yticks(range(v.shape[0]), [str(i) for i in df.index])
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return fig


def reliability(prob_pred: np.ndarray, prob_true: np.ndarray, counts: np.ndarray, title: str) -> plt.Figure:
    """Reliability diagram: mean predicted score against observed frequency per bin, bin sizes below."""
    fig, (ax, axh) = plt.subplots(2, 1, figsize=(4.2, 4.4), sharex=True, gridspec_kw={"height_ratios": [3,
                                                                                                        1]})
    ax.plot([0, 1], [0, 1], ":", color="grey", lw=0.8, label="perfectly calibrated")
    ax.plot(prob_pred, prob_true, "o-", label="model")
    ax.set(ylabel="fraction with a threat", title=title, ylim=(-0.02, 1.02))
    ax.legend(fontsize=7, loc="upper left")
    axh.bar(prob_pred, counts, width=0.05, color="grey")
    axh.set(xlabel="predicted wagon score", ylabel="wagons", xlim=(-0.02, 1.02))
    return fig


def mass_scatter(df: pd.DataFrame, x: str, y: str, hue: str | None, xlabel: str, ylabel: str, title: str,
                 yerr: str | None = None) -> plt.Figure:
    """Scatter of two masses (kg) with the identity line; colours by ``hue``."""
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    groups = df.groupby(hue) if hue else [("", df)]
    for name, g in groups:
        ax.errorbar(g[x], g[y], yerr=None if yerr is None else g[yerr], fmt="o", ms=4, alpha=0.8, lw=0.8,
                    label=str(name) if hue else None)
    lim = np.nanmax(df[[x, y]].to_numpy(dtype=float)) * 1.05 if len(df) else 1.0
    ax.plot([0, lim], [0, lim], ":", color="grey", lw=0.8)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(0, lim), ylim=(0, lim))
    if hue and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return fig


def histogram(values: np.ndarray, xlabel: str, title: str, bins: int = 20,
              lines: Sequence[float] = ()) -> plt.Figure:
    """A histogram with optional vertical reference lines (tolerances)."""
    fig, ax = plt.subplots(figsize=(4.6, 3.0))
    ax.hist(values[np.isfinite(values)], bins=bins, color="steelblue", alpha=0.85)
    for v in lines:
        ax.axvline(v, color="crimson", ls="--", lw=1)
    ax.set(xlabel=xlabel, ylabel="count", title=title)
    return fig


def bars(df: pd.DataFrame, x: str, ys: Sequence[str], title: str, ylabel: str = "",
         horizontal: bool = False) -> plt.Figure:
    """Grouped bars of columns ``ys`` per ``x``."""
    fig, ax = plt.subplots(figsize=(max(4.2, 0.5 * len(df) + 2), 3.0))
    df.set_index(x)[list(ys)].plot.barh(ax=ax) if horizontal else df.set_index(x)[list(ys)].plot.bar(ax=ax,
                                                                                                     rot=30)
    ax.set(title=title, ylabel=ylabel, xlabel="")
    ax.legend(fontsize=7)
    return fig
