"""What a page says about its own run: numbers quoted in its prose (``glue``).

A sentence that quotes a computed figure ("the network reaches 0.84 validation accuracy")
must never disagree with the output beside it. So the page computes the figure in a cell,
hands it to :func:`glue` under a name, and the prose refers to it with MyST's
``{glue:text}`name:.3f``` role. The website (myst-nb) shows the value of the run it
displays; the Colab twin's prose gets the same value written in by ``code/tools/colab.py``.

Glued values are recorded only where myst-nb is installed (the book build). In Colab or
plain Jupyter :func:`glue` just returns the value, and ``DLCOURSE_GLUE=0`` switches it off
where myst-nb is installed but the notebook should look as it does in Colab (``make nbval``).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import numbers
import os
import platform
import re
import sys

from . import costs, profile
from .tensors import device_name

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _plain(value):
    """A Python number for a tensor or NumPy scalar, so ``{glue:text}`` formats it."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return value
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def glue(name: str, value):
    """Make ``value`` quotable in the page's prose as ``{glue:text}`name```; return it.

    Shows nothing in the notebook (the cell's own printout is what a reader reads), unless
    it is a cell's last line, where Jupyter displays the returned value: call it earlier
    in the cell, or assign its result (``acc = glue("page_acc", acc)``). Tensors
    and NumPy scalars are converted to Python numbers first so that a format such as
    ``:.3f`` applies to them.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"glue name must be a Python-identifier-like string such as 'val_acc', got {name!r}"
        )
    value = _plain(value)
    if os.environ.get("DLCOURSE_GLUE", "1") == "0":
        return value
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # Colab, Jupyter: nothing to record
        return value
    myst_glue(name, value, display=False)
    return value


# -- where and how a notebook runs -------------------------------------------------------


def lowest_tested(package: str) -> str | None:
    """The lowest version of ``package`` the book is tested with: the lower bound that
    dlcourse's installed metadata (``pyproject.toml``) declares, or None."""
    try:
        requires = importlib.metadata.requires("dlcourse") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for requirement in requires:
        found = re.fullmatch(rf"{re.escape(package)}\s*>=\s*([0-9][0-9.]*)\S*", requirement.strip())
        if found:
            return found.group(1)
    return None


def _release(version: str) -> tuple[int, ...]:
    """(2, 8, 0) for '2.8.0+cu126'; enough to compare releases."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


def environment_warnings(trains: bool, *, in_colab: bool, cuda: bool, torch_version: str):
    """The plain-words warnings for a notebook about to run (an empty list when none)."""
    warnings = []
    if trains and in_colab and not cuda:
        warnings.append(
            "This page trains networks, and this Colab runtime has no GPU: it will run the "
            "small 'quick' profile, slowly. For the book's full settings pick a GPU with "
            "Runtime -> Change runtime type -> T4 GPU, then run the notebook again."
        )
    oldest = lowest_tested("torch")
    if oldest and _release(torch_version) < _release(oldest):
        warnings.append(
            f"torch {torch_version} is older than {oldest}, the oldest version this book is "
            f"tested with; some cells may fail. Upgrade with: pip install 'torch>={oldest}'"
        )
    return warnings


def check_environment(trains: bool = False) -> None:
    """Print one line saying what this notebook runs on, then any warnings.

    ``trains`` says that the page trains networks (a GPU matters). The first cells of every
    twin call this (the book's tools generate that cell; it is hidden on the website).
    """
    if not isinstance(trains, bool):
        raise TypeError(f"trains must be True or False, got {trains!r}")
    import torch

    from . import __version__

    cuda = torch.cuda.is_available()
    line = (
        f"Python {platform.python_version()} | torch {torch.__version__} | "
        f"dlcourse {__version__} | {'GPU' if cuda else 'CPU'}: {device_name()} | "
        f"profile: {profile.name()}"
    )
    print(line)
    for warning in environment_warnings(
        trains, in_colab="google.colab" in sys.modules, cuda=cuda, torch_version=torch.__version__
    ):
        print("WARNING:", warning)


class LastExecuted:
    """When, where and in which profile a page's outputs were produced (shown as Markdown)."""

    def __init__(self, page: str, cost: bool):
        import torch

        self.when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        self.device = ("GPU " if torch.cuda.is_available() else "CPU ") + device_name()
        self.profile = profile.name()
        expected = costs.expected_cost(page)  # also checks the page's name
        self.cost = expected if cost else None

    def text(self, bold: str = "") -> str:
        line = (
            f"{bold}Last executed:{bold} {self.when}, {self.profile} profile, on the "
            f"{self.device} (the outputs on this page are from that run)."
        )
        if self.cost is not None:  # its own paragraph, so a phone shows it at a glance
            line += f"\n\n{bold}Expected time:{bold} " + " ".join(self.cost.parts())
        return line

    def __repr__(self) -> str:
        return self.text()

    def _repr_markdown_(self) -> str:
        return self.text("**")


def last_executed(page: str, cost: bool = False) -> LastExecuted:
    """The "last executed" line near the top of every page (and, with ``cost``, the page's
    expected cost from the book's records: see :mod:`dlcourse.costs`)."""
    if not isinstance(cost, bool):
        raise TypeError(f"cost must be True or False, got {cost!r}")
    return LastExecuted(page, cost)
