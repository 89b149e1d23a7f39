"""Reference implementations for the self-checks whose answer is a function (private).

Each reference is registered with the test inputs it is called on; ``run`` calls the
student's function on the same inputs and compares. These references are readable source
code: a student who opens this file sees how the function can be written, which is accepted
(see ``dlcourse.selfcheck``). Test inputs are built from fixed seeds, so every run is the same.
"""

from __future__ import annotations

import math

import torch

REFS: dict[str, tuple] = {}  # label -> (reference, function returning a list of argument tuples)


def _ref(label: str, cases):
    def register(function):
        REFS[label] = (function, cases)
        return function

    return register


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _show(value) -> str:
    if isinstance(value, torch.Tensor):
        if value.numel() <= 12:
            return repr(value).replace("\n", "").replace("  ", " ")
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _same(got, expected) -> bool:
    if type(got).__module__ == "numpy" and hasattr(got, "shape"):
        got = torch.as_tensor(got)
    if type(expected).__module__ == "numpy" and hasattr(expected, "shape"):
        expected = torch.as_tensor(expected)
    if isinstance(expected, torch.Tensor) and expected.ndim == 0:
        expected = expected.item()
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            return False
        return bool(torch.allclose(got.double(), expected.double(), rtol=1e-4, atol=1e-5))
    if isinstance(expected, (tuple, list)):
        return (
            isinstance(got, (tuple, list))
            and len(got) == len(expected)
            and all(_same(g, e) for g, e in zip(got, expected))
        )
    if isinstance(expected, float):
        if isinstance(got, torch.Tensor) and got.numel() != 1:
            return False
        try:
            return math.isclose(float(got), expected, rel_tol=1e-4, abs_tol=1e-6)
        except (TypeError, ValueError):
            return False
    return got == expected


def _copy(args):
    return tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)


def run(label: str, function, reveal: bool) -> tuple[bool, str]:
    """Call ``function`` on every test input of ``label``: (passed, what went wrong)."""
    reference, cases = REFS[label]
    for args in cases():
        expected = reference(*_copy(args))
        shown = _show(args if len(args) > 1 else args[0])
        try:
            got = function(*_copy(args))
        except Exception as error:  # the student's code: report it, never a traceback
            return False, f"on input {shown} your function raised {type(error).__name__}: {error}"
        if not _same(got, expected):
            why = f"on input {shown} your function returned {_show(got)}"
            return False, why + (f", expected {_show(expected)}" if reveal else "")
    return True, ""


# -- the references, in the book's order -----------------------------------------------------
def _numpy_points():
    import numpy as np

    rng = np.random.default_rng(0)
    return [(rng.random((4, 2)),), (rng.random((7, 2)),)]


@_ref("ex-numpy-pairwise", _numpy_points)
def _pairwise(P):
    return ((P[:, None, :] - P[None, :, :]) ** 2).sum(axis=-1) ** 0.5


def _vectors(n=2, count=3, seed=0, dtype=torch.float64):
    def cases():
        g = _gen(seed)
        return [(torch.randn(n, generator=g, dtype=dtype),) for _ in range(count)]

    return cases


@_ref("ex-autograd-second-derivative", _vectors(n=5))
def _second_derivative_of_sin(t):
    return -torch.sin(t)


@_ref("ex-calculus-gradient", _vectors(n=2))
def _grad_f(x):
    return torch.stack([6 * x[0], 5 * torch.exp(x[1])])


@_ref("ex-calculus-norm", lambda: [(torch.tensor([3.0, 4.0]),)] + _vectors(n=4)())
def _grad_norm(x):
    return x / torch.linalg.norm(x)


def _positive_matrices():
    g = _gen(1)
    return [(torch.rand(2, 3, generator=g) + 0.1,), (torch.rand(3, 3, generator=g) + 0.1,)]


@_ref("ex-linear-algebra-divide-by-sum", _positive_matrices)
def _normalise_rows(A):
    return A / A.sum(axis=1, keepdims=True)


@_ref("ex-probability-bounds", lambda: [(0.5, 1 / 3), (0.7, 0.6), (0.1, 0.2)])
def _bounds(pa, pb):
    return (max(pa, pb), min(1.0, pa + pb), max(0.0, pa + pb - 1), min(pa, pb))


@_ref(
    "ex-linear-regression-constant",
    lambda: [(torch.tensor([1.0, 2.0, 2.5, 3.0, 100.0]),), (torch.tensor([4.0, -1.0, 0.5]),)],
)
def _best_constants(x):
    return (float(x.mean()), float(x.median()))


@_ref(
    "ex-weight-decay-l1",
    lambda: [(torch.tensor([0.5, -2.0, 0.01]), 0.1), (torch.tensor([-1.0, 3.0]), 2.0)],
)
def _l1_grad(w, lambd):
    return lambd * torch.sign(w)


@_ref(
    "ex-weight-decay-frobenius",
    lambda: [(torch.randn(3, 4, generator=_gen(2)),), (torch.ones(2, 2),)],
)
def _frobenius(W):
    return torch.linalg.matrix_norm(W)
