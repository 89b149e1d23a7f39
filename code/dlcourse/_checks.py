"""Argument checks shared by every module of the package (private: pages never call them).

One rule per kind of mistake: a value of the wrong type raises ``TypeError``, a value of the
right type but outside its range raises ``ValueError``. Every message names the argument,
shows the bad value with ``repr`` and, where it helps, says how to fix it.
"""

from __future__ import annotations

import math

import torch


def _fail(error: type[Exception], name: str, what: str, value, fix: str | None) -> None:
    shown = repr(value) if error is ValueError else f"{type(value).__name__} {value!r}"
    raise error(f"{name} must be {what}, got {shown}" + (f"; {fix}" if fix else ""))


def is_number(value) -> bool:
    """A real Python number (bools excluded: ``True`` is not a learning rate)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_int(name: str, value, minimum: int = 1, what: str | None = None, fix=None) -> int:
    """``value`` as an int >= ``minimum`` (``what`` overrides the description)."""
    if what is None:
        what = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(TypeError, name, what, value, fix)
    if value < minimum:
        _fail(ValueError, name, what, value, fix)
    return value


def check_number(
    name: str, value, minimum: float = 0.0, strict: bool = True, maximum: float | None = None,
    what: str | None = None, fix=None,
) -> float:  # fmt: skip
    """``value`` as a finite number > ``minimum`` (>= when not ``strict``), <= ``maximum``."""
    if what is None:
        low = ("positive" if strict else "non-negative") if minimum == 0 else None
        what = f"a {low} number" if low else f"a number {'>' if strict else '>='} {minimum}"
    if not is_number(value):
        _fail(TypeError, name, what, value, fix)
    too_low = value <= minimum if strict else value < minimum
    if not math.isfinite(value) or too_low or (maximum is not None and value > maximum):
        _fail(ValueError, name, what, value, fix)
    return value


def check_lr(lr) -> float:
    return check_number("lr", lr, fix="a typical learning rate is 0.01 to 0.1")


def check_std(name: str, value) -> float:
    return check_number(name, value, strict=False, what="a standard deviation >= 0")


def check_probability(name: str, value) -> float:
    return check_number(name, value, strict=False, maximum=1, what="a probability in [0, 1]")


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        _fail(TypeError, name, "True or False", value, None)
    return value


def check_module(name: str, value) -> None:
    if not isinstance(value, torch.nn.Module):
        _fail(TypeError, name, "an nn.Module", value, None)


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        *first, last = map(repr, choices)
        _fail(ValueError, name, f"{', '.join(first)} or {last}" if first else last, value, None)


def check_ints(**values) -> None:
    """Check several positive integers at once: ``check_ints(in_channels=..., strides=...)``."""
    for name, value in values.items():
        check_int(name, value)


def check_size_pair(name: str, value) -> tuple[int, int]:
    """An int n (for n x n) or a (height, width) pair of positive ints, as a tuple."""
    what = "a positive int or a (height, width) pair of them"
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(pair, (tuple, list, torch.Size)):
        _fail(TypeError, name, what, value, None)
    pair = tuple(pair)
    if len(pair) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) for s in pair):
        _fail(TypeError if len(pair) == 2 else ValueError, name, what, value, None)
    if min(pair) <= 0:
        _fail(ValueError, name, what, value, None)
    return pair


def check_tensor(name: str, value, floating: bool = False, ndim=None, shape_hint="", fix=None):
    """``value`` is a tensor (floating-point when ``floating``) with ``ndim`` dimensions
    (an int or a tuple of allowed ints); ``shape_hint`` names the axes, e.g. "(height, width)".
    """
    if not isinstance(value, torch.Tensor):
        kind = "a floating-point torch.Tensor" if floating else "a torch.Tensor"
        _fail(TypeError, name, kind, value, fix or "convert it with torch.as_tensor(...)")
    if floating and not value.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got dtype {value.dtype}; "
            + (fix or f"convert it with {name}.float()")
        )
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and value.ndim not in allowed:
        dims = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(
            f"{name} must be a {dims} tensor {shape_hint}".rstrip()
            + f", got shape {tuple(value.shape)}"
            + (f"; {fix}" if fix else "")
        )
    return value


def check_classifier_args(lr, num_classes) -> None:
    """The two arguments every classifier takes: ``lr`` > 0 and ``num_classes`` >= 2."""
    check_lr(lr)
    check_int("num_classes", num_classes, minimum=2)


def check_arch(arch, pairs: str) -> tuple[tuple[int, int], ...]:
    """``arch`` as a non-empty tuple of ``pairs`` of positive ints, e.g. (num_convs, channels)."""
    what = f"a non-empty sequence of {pairs} pairs"
    try:
        arch = tuple(tuple(pair) for pair in arch)
    except TypeError:
        _fail(TypeError, "arch", what, arch, None)
    if not arch or any(len(pair) != 2 for pair in arch):
        _fail(ValueError, "arch", what, arch, None)
    for i, pair in enumerate(arch):
        check_ints(**{f"arch[{i}][{j}]": v for j, v in enumerate(pair)})
    return arch


def check_images(
    X, in_channels: int, image_size: tuple[int, int] | None, name: str, min_size: int = 1
) -> None:
    """Raise a ValueError that says what to change when a batch does not fit a CNN."""
    check_tensor("X", X)
    if X.ndim != 4 or X.shape[1] != in_channels:
        raise ValueError(
            f"{name} expects a batch of shape (batch_size, {in_channels}, height, width), "
            f"got {tuple(X.shape)}"
        )
    if image_size is not None and tuple(X.shape[-2:]) != image_size:
        raise ValueError(
            f"this {name} was built for {image_size[0]}x{image_size[1]} images, got "
            f"{X.shape[-2]}x{X.shape[-1]}; build it with image_size={tuple(X.shape[-2:])} "
            "or resize the data"
        )
    if min(X.shape[-2:]) < min_size:
        raise ValueError(
            f"{X.shape[-2]}x{X.shape[-1]} images are too small for {name}: its smallest "
            f"input is {min_size}x{min_size}; resize the data"
        )
