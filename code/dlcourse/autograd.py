"""Checking automatic differentiation against finite differences (sections 2.4 and 2.5).

Autograd is exact up to rounding; a finite difference is an approximation whose error we can
control. Comparing the two is how we test a gradient we did not derive by hand:

    max_error = check_grad(lambda x: (x**3).sum(), torch.randn(5, dtype=torch.float64))

Work in float64 here: with float32's seven significant digits, the difference
f(x + h) - f(x - h) loses most of its digits to rounding for any step small enough to be
accurate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ._checks import check_number, check_tensor
from .plotting import plot


def _check_float_tensor(name: str, x) -> None:
    fix = f"pass {name}.double(), or make it with torch.tensor(..., dtype=torch.float64)"
    check_tensor(name, x, floating=True, fix=fix)


def _scalar(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(
            f"{what} must return a single number (a tensor with one element), got {shape}; "
            "reduce it first, e.g. lambda x: f(x).sum()"
        )
    return value.reshape(())


def numerical_grad(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, h: float = 1e-4
) -> torch.Tensor:
    """Gradient of the scalar function ``f`` at ``x`` by central differences.

    Entry i is (f(x + h e_i) - f(x - h e_i)) / (2h), where e_i is the i-th unit tensor; its
    error shrinks like h**2 until rounding (about eps / h) takes over. Costs 2 * x.numel()
    calls of f, so use it on small tensors only.
    """
    _check_float_tensor("x", x)
    check_number("h", h, fix="the step size is typically 1e-6 to 1e-4")
    x = x.detach()
    grad = torch.zeros_like(x)
    with torch.no_grad():
        for i in range(x.numel()):
            step = torch.zeros_like(x)
            step.view(-1)[i] = h  # view(-1) walks every entry whatever the shape of x
            f_plus = _scalar(f(x + step), "f")
            f_minus = _scalar(f(x - step), "f")
            grad.view(-1)[i] = (f_plus - f_minus) / (2 * h)
    return grad


def autograd_grad(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Gradient of the scalar function ``f`` at ``x`` by autograd (``x`` itself is untouched)."""
    _check_float_tensor("x", x)
    x = x.detach().clone().requires_grad_(True)  # a fresh leaf: no stale .grad to add to
    y = _scalar(f(x), "f")
    if not y.requires_grad:
        return torch.zeros_like(x)  # f does not depend on x at all
    (grad,) = torch.autograd.grad(y, x, allow_unused=True)
    return torch.zeros_like(x) if grad is None else grad


def check_grad(
    f: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    h: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> float:
    """Compare autograd's gradient of ``f`` at ``x`` with central differences.

    Returns the largest absolute difference; raises ``AssertionError`` (naming the worst
    entry) when some entry differs by more than ``atol + rtol * |numerical|``.
    """
    check_number("rtol", rtol, strict=False)
    check_number("atol", atol, strict=False)
    exact = autograd_grad(f, x)
    approx = numerical_grad(f, x, h)
    error = (exact - approx).abs()
    allowed = atol + rtol * approx.abs()
    if (error > allowed).any():
        i = int(torch.argmax(error - allowed))
        hint = "" if x.dtype == torch.float64 else f" (x is {x.dtype}; use x.double())"
        raise AssertionError(
            f"autograd and finite differences disagree{hint}: at flat index {i} autograd "
            f"gives {exact.view(-1)[i].item():.6g}, finite differences "
            f"{approx.view(-1)[i].item():.6g} (|difference| {error.view(-1)[i].item():.2g} > "
            f"allowed {allowed.view(-1)[i].item():.2g})"
        )
    return error.max().item() if error.numel() else 0.0


def derivative(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """f'(x) at every entry of ``x`` for an elementwise ``f`` (such as torch.sin), by autograd.

    For an elementwise f, output i depends only on input i, so the gradient of
    f(x).sum() holds every derivative f'(x_i) at once.
    """
    return autograd_grad(lambda t: f(t).sum(), x)


def plot_function_and_derivative(
    f: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    legend: Sequence[str] = ("f(x)", "f'(x)"),
    xlabel: str = "x",
    **kwargs,
):
    """Plot an elementwise ``f`` and its autograd derivative over the points ``x``.

    Extra keyword arguments (figsize, title, axes, ...) go to ``dlcourse.plot``; returns the
    axes.
    """
    _check_float_tensor("x", x)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D points to plot over, got shape {tuple(x.shape)}")
    with torch.no_grad():
        y = f(x)
    return plot(x, [y, derivative(f, x)], xlabel=xlabel, legend=list(legend), **kwargs)
