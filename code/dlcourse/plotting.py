"""Plots for every chapter: lines (``plot``), image grids (``show_images``) and the live
``ProgressBoard`` that the Trainer draws its curves on (section 3.2)."""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from ._checks import check_int, check_ints


def in_notebook() -> bool:
    """True inside a Jupyter kernel (a notebook, Colab, or the book's executor)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return type(shell).__name__ == "ZMQInteractiveShell" or "google.colab" in sys.modules


def _as_numpy(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _is_one_series(X) -> bool:
    """A single series is a 1-D array or a flat list of numbers."""
    if isinstance(X, (torch.Tensor, np.ndarray)):
        return X.ndim == 1
    return isinstance(X, list) and (len(X) == 0 or not hasattr(X[0], "__len__"))


def plot(
    X,
    Y=None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    legend: Sequence[str] | None = None,
    xlim=None,
    ylim=None,
    xscale: str = "linear",
    yscale: str = "linear",
    fmts: Sequence[str] = ("-", "m--", "g-.", "r:", "c-", "y--"),
    figsize: tuple[float, float] = (3.5, 2.5),
    title: str | None = None,
    axes=None,
):
    """Plot one or several lines and return the axes.

    ``plot(x, [f(x), g(x)], legend=["f", "g"])`` draws two lines over the same ``x``;
    ``plot(y)`` draws ``y`` against its index. Tensors, arrays and lists are accepted.
    """
    if Y is None:
        X, Y = [[]], X
    if _is_one_series(X):
        X = [X]
    if _is_one_series(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    if legend is not None and len(legend) != len(Y):
        raise ValueError(f"legend has {len(legend)} labels but there are {len(Y)} lines")
    if axes is None:
        _, axes = plt.subplots(figsize=figsize)
    for i, (x, y) in enumerate(zip(X, Y)):
        x, y = _as_numpy(x), _as_numpy(y)
        fmt = fmts[i % len(fmts)]
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    if xlim is not None:
        axes.set_xlim(xlim)
    if ylim is not None:
        axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    if title:
        axes.set_title(title)
    axes.grid(True, alpha=0.3)
    return axes


def show_images(imgs, num_rows: int, num_cols: int, titles=None, scale: float = 1.5):
    """Show a grid of images (tensors of shape (H, W) or (1, H, W)) with optional titles."""
    check_ints(num_rows=num_rows, num_cols=num_cols)
    if len(imgs) > num_rows * num_cols:
        raise ValueError(
            f"{len(imgs)} images do not fit a {num_rows}x{num_cols} grid; "
            "pass fewer images or a larger grid"
        )
    figsize = (num_cols * scale, num_rows * scale)
    _, axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)
    axes = axes.flatten()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= len(imgs):
            continue
        img = _as_numpy(imgs[i])
        if img.ndim == 3 and img.shape[0] == 1:  # (1, H, W) -> (H, W)
            img = img[0]
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    return axes


class ProgressBoard:
    """A figure whose lines grow as points arrive, redrawn in place in a notebook.

    ``draw(x, y, label)`` adds a point to the line called ``label``; with ``every_n > 1``
    it plots the mean of every ``every_n`` points, which smooths noisy minibatch losses.
    In a notebook the figure is shown once and then updated in place, so an executed page
    keeps one final figure. Outside a notebook nothing is displayed; the points are kept.
    """

    def __init__(
        self,
        xlabel: str | None = None,
        ylabel: str | None = None,
        xlim=None,
        ylim=None,
        xscale: str = "linear",
        yscale: str = "linear",
        figsize: tuple[float, float] = (4.5, 3.0),
        display: bool | None = None,
    ):
        self.xlabel, self.ylabel = xlabel, ylabel
        self.xlim, self.ylim = xlim, ylim
        self.xscale, self.yscale = xscale, yscale
        self.figsize = figsize
        self.display = in_notebook() if display is None else display
        self.lines: dict[str, tuple[list[float], list[float]]] = {}
        self._pending: dict[str, list[tuple[float, float]]] = {}
        self._handle = None
        self.fig = None

    def draw(self, x: float, y: float, label: str, every_n: int = 1, show: bool = True) -> None:
        """Add the point (x, y) to line ``label`` (averaged over ``every_n`` calls)."""
        check_int("every_n", every_n)
        pending = self._pending.setdefault(label, [])
        pending.append((float(x), float(y)))
        if len(pending) < every_n:
            return
        xs, ys = self.lines.setdefault(label, ([], []))
        xs.append(float(np.mean([p[0] for p in pending])))
        ys.append(float(np.mean([p[1] for p in pending])))
        pending.clear()
        if show:
            self.show()

    def render(self) -> Figure:
        """Draw every line on a fresh figure (not registered with pyplot) and return it."""
        fig = Figure(figsize=self.figsize)
        ax = fig.add_subplot()
        styles = ["-", "--", "-.", ":"]
        for i, (label, (xs, ys)) in enumerate(self.lines.items()):
            ax.plot(xs, ys, styles[i % len(styles)], label=label)
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(self.ylabel)
        ax.set_xscale(self.xscale)
        ax.set_yscale(self.yscale)
        if self.xlim is not None:
            ax.set_xlim(self.xlim)
        if self.ylim is not None:
            ax.set_ylim(self.ylim)
        if self.lines:
            ax.legend()
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        self.fig = fig
        return fig

    def show(self) -> None:
        """Show the figure, or update the one already shown (notebooks only)."""
        if not self.display:
            return
        from IPython import display

        # A PNG made here, not a Figure object: it shows the same under any matplotlib
        # backend (Colab, Jupyter, the book's executor), and nbval does not compare images.
        buffer = io.BytesIO()
        self.render().savefig(buffer, format="png", dpi=110)
        image = display.Image(data=buffer.getvalue(), format="png")
        if self._handle is None:
            self._handle = display.display(image, display_id=True)
        else:
            self._handle.update(image)
