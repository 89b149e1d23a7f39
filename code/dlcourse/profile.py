"""Execution profiles: how large the book's training runs are (used by every chapter).

``full`` uses the textbook's settings: every epoch, every example, full image sizes.
``quick`` keeps every page runnable on a two-core CPU in seconds to a few minutes.
``smoke`` checks the full profile on a CPU: every size is the full profile's (image sizes,
batch sizes, widths, epochs as asked), but the ``Trainer`` runs one epoch of two minibatches
and data modules load only those, so a shape or memory error at full size shows up in
seconds; the quality bounds of ``expect`` do not apply (nothing is learned in two steps).
``code/tools/smoke.py`` runs the training pages this way and projects the full run's time.
Pick one with the environment variable ``DLCOURSE_PROFILE=full|quick|smoke``; without it
the profile is ``full`` when CUDA is available and ``quick`` otherwise.

Pages ask this module for their sizes and never test the profile themselves::

    epochs = dlcourse.profile.epochs(10)          # 10 in full, 2 in quick
    num_train = dlcourse.profile.examples(60000)  # 60000 in full, 12000 in quick

so that all the scaling happens here, in one place.
"""

from __future__ import annotations

import math
import os

import torch

from ._checks import check_int

PROFILES = ("full", "quick", "smoke")

# How the quick profile scales the textbook's settings. Change them here, not in pages.
QUICK_EPOCH_FRACTION = 0.2  # 10 epochs -> 2
QUICK_EXAMPLE_FRACTION = 0.2  # 60,000 training images -> 12,000
QUICK_MIN_EXAMPLES = 1000
SMOKE_BATCHES = 2  # minibatches per fit (training and validation) in the smoke profile


def name() -> str:
    """Return the active profile, ``"full"`` or ``"quick"``."""
    value = os.environ.get("DLCOURSE_PROFILE", "").strip().lower()
    if not value:
        return "full" if torch.cuda.is_available() else "quick"
    if value not in PROFILES:
        raise ValueError(
            f"DLCOURSE_PROFILE={os.environ['DLCOURSE_PROFILE']!r} is not a profile; "
            f"use one of {', '.join(PROFILES)} (or unset it to choose by the hardware)"
        )
    return value


def is_quick() -> bool:
    """True in the quick profile (for the package's own use; pages call the sizing functions)."""
    return name() == "quick"


def smoke_batches() -> int | None:
    """Minibatches a fit may run (in one epoch), or None for all of them.

    In the smoke profile ``SMOKE_BATCHES`` (two: the first warms up, the second is timed).
    ``DLCOURSE_SMOKE_BATCHES`` sets the number in any profile: one is enough to check shapes
    and memory at full size without timing anything (``code/tools/smoke.py --check``), or,
    in the quick profile, to try a page's code paths at small sizes (the rehearsal of a
    T4's fp16, which runs ten times slower on a CPU than float32)."""
    value = os.environ.get("DLCOURSE_SMOKE_BATCHES", "").strip()
    if not value:
        return SMOKE_BATCHES if name() == "smoke" else None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"DLCOURSE_SMOKE_BATCHES={value!r} is not a number of minibatches; use a positive "
            "integer such as 1 (or unset it for the default, 2)"
        )
    return int(value)


def _scaled(full: int, quick: int | None, shrink) -> int:
    """``full``, or in the quick profile ``quick`` (at most ``full``) or ``shrink(full)``."""
    check_int("full", full)
    if not is_quick():
        return full
    if quick is not None:
        return min(check_int("quick", quick), full)
    return shrink(full)


def epochs(full: int, quick: int | None = None) -> int:
    """Number of epochs: ``full`` in the full profile, about a fifth (or ``quick``) in quick."""
    return _scaled(full, quick, lambda n: max(1, math.ceil(n * QUICK_EPOCH_FRACTION)))


def examples(full: int, quick: int | None = None) -> int:
    """Number of training examples to use: all of ``full``, or a subset in quick."""
    return _scaled(
        full, quick, lambda n: min(n, max(QUICK_MIN_EXAMPLES, int(n * QUICK_EXAMPLE_FRACTION)))
    )


def image_size(full: int, quick: int) -> int:
    """Side length of resized images: ``full`` (e.g. 224 for AlexNet) or ``quick``."""
    check_int("full", full)
    check_int("quick", quick)
    return quick if is_quick() else full


def expect(full: float, quick: float) -> float:
    """The quality bound a training cell asserts: ``full`` or ``quick``, by profile.

    A quick run trains on less data for fewer epochs, so it is held to a lower bound; the
    page states both and asserts ``expect(...)``, never testing the profile itself. (A smoke
    run gets the full bound and fails it; ``code/tools/smoke.py`` expects exactly that.)
    """
    return quick if is_quick() else full


def summary() -> str:
    """One sentence saying which profile runs and what it reduces; pages print it."""
    if is_quick():
        return (
            "Profile 'quick': about a fifth of the textbook's epochs and training examples "
            "(smaller images where a page says so), so the page runs on a CPU in minutes. "
            "Set DLCOURSE_PROFILE=full for the textbook's settings."
        )
    if name() == "smoke":
        return (
            "Profile 'smoke': the full profile's sizes for two minibatches per fit; a shape "
            "and memory check, not a training run."
        )
    return "Profile 'full': the textbook's epochs, data and image sizes."
