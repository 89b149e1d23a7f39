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
            return " ".join(repr(value).split())
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
        if expected.is_complex():
            return bool(torch.allclose(got.to(torch.complex128), expected.to(torch.complex128),
                                       rtol=1e-4, atol=1e-5))  # fmt: skip
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
    if isinstance(expected, int) and not isinstance(expected, bool):
        try:
            return float(got) == expected
        except (TypeError, ValueError, RuntimeError):
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


@_ref(
    "ex-classification-minibatch-loss",
    lambda: [
        (torch.tensor([2.0, 1.0, 4.0]), torch.tensor([256.0, 256.0, 16.0])),
        (torch.tensor([0.5, 0.7]), torch.tensor([10.0, 10.0])),
    ],
)
def _loss_over_all(losses, sizes):
    return (losses * sizes).sum() / sizes.sum()


@_ref(
    "ex-classification-loss-matrix",
    lambda: [
        (
            torch.tensor([0.6, 0.3, 0.1]),
            torch.tensor([[0.0, 1.0, 5.0], [2.0, 0.0, 5.0], [100.0, 100.0, 0.0]]),
        ),
        (torch.tensor([0.2, 0.8]), torch.tensor([[0.0, 1.0], [1.0, 0.0]])),
    ],
)
def _decide(p, cost):
    return int((p @ cost).argmin())


@_ref(
    "ex-shift-support",
    lambda: [(torch.tensor([1.0, 1.0, 1.0, 1.0]),), (torch.tensor([0.1, 5.0, 0.2, 0.01, 3.0]),)],
)
def _ess(weights):
    return weights.sum() ** 2 / (weights**2).sum()


@_ref("ex-softmax-regression-second-derivative", _vectors(n=4, seed=3))
def _softmax_second(o):
    p = torch.softmax(o, dim=0)
    return p * (1 - p)


@_ref(
    "ex-mlp-prelu-derivative",
    lambda: [(torch.tensor([-2.0, -0.5, 0.5, 3.0]), 0.25), (torch.tensor([1.5, -1.0]), 0.1)],
)
def _prelu_grads(x, alpha):
    return (torch.where(x > 0, 1.0, alpha), torch.clamp(x, max=0))


@_ref("ex-mlp-swish", lambda: [(torch.linspace(-3, 3, 7), 1.5), (torch.tensor([0.5, -2.0]), 1.0)])
def _swish_grad(x, beta):
    s = torch.sigmoid(beta * x)
    return s + x * beta * s * (1 - s)


def _reduction_cases():
    g = _gen(4)
    return [
        (torch.randn(4, 4, 2, generator=g), torch.randn(4, generator=g)),
        (torch.randn(3, 3, 5, generator=g), torch.randn(3, generator=g)),
    ]


@_ref("ex-custom-layer-tensor-reduction", _reduction_cases)
def _reduce(W, x):
    return torch.einsum("ijk,i,j->k", W, x, x)


@_ref(
    "ex-custom-layer-fourier",
    lambda: [
        (torch.cos(2 * torch.pi * 2 * torch.arange(8) / 8).unsqueeze(0),),
        (torch.randn(2, 7, generator=_gen(5)),),
    ],
)
def _half_fourier(X):
    return torch.fft.fft(X, dim=-1)[..., : (X.shape[-1] + 1) // 2]


def _linear(n_in, n_out, seed):
    layer = torch.nn.Linear(n_in, n_out)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(n_out, n_in, generator=_gen(seed)))
        layer.bias.copy_(torch.randn(n_out, generator=_gen(seed + 1)))
    return layer


@_ref(
    "ex-modules-parallel",
    lambda: [
        (_linear(20, 3, 6), _linear(20, 5, 8), torch.randn(2, 20, generator=_gen(10))),
    ],
)
def _parallel(net1, net2, X):
    return torch.cat((net1(X), net2(X)), dim=1)


def _corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1, dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


@_ref(
    "ex-conv-layer-matmul",
    lambda: [
        (torch.randn(2, 2, generator=_gen(11)), 4, 4),
        (torch.randn(2, 3, generator=_gen(12)), 4, 5),
    ],
)
def _corr2d_matrix(K, n_h, n_w):
    k_h, k_w = K.shape
    out_h, out_w = n_h - k_h + 1, n_w - k_w + 1
    W = torch.zeros(out_h * out_w, n_h * n_w)
    for i in range(out_h):
        for j in range(out_w):
            for a in range(k_h):
                for b in range(k_w):
                    W[i * out_w + j, (i + a) * n_w + (j + b)] = K[a, b]
    return W


@_ref(
    "ex-pooling-avg-as-conv",
    lambda: [
        (torch.randn(1, 1, 6, 6, generator=_gen(13)),),
        (torch.randn(1, 1, 4, 8, generator=_gen(14)),),
    ],
)
def _avg_pool(X):
    return torch.nn.functional.avg_pool2d(X, 2)


@_ref(
    "ex-pooling-max-from-relu",
    lambda: [(torch.randn(5, generator=_gen(15)), torch.randn(5, generator=_gen(16)))],
)
def _maximum(a, b):
    return torch.maximum(a, b)


@_ref(
    "ex-pooling-softmax",
    lambda: [(torch.tensor([0.5, 2.0, -1.0, 1.0]), T) for T in (100.0, 1.0, 0.1)],
)
def _softmax_pool(x, T):
    return (torch.softmax(x / T, dim=0) * x).sum()


@_ref(
    "ex-channels-two-convs",
    lambda: [(torch.randn(2, 2, generator=_gen(17)), torch.randn(3, 3, generator=_gen(18)))],
)
def _combine(K1, K2):
    a, b = K1.shape
    c, d = K2.shape
    K = torch.zeros(a + c - 1, b + d - 1)
    for i in range(c):
        for j in range(d):
            K[i : i + a, j : j + b] += K2[i, j] * K1
    return K


def _fold_cases():
    g = _gen(19)
    return [
        (
            torch.randn(6, 1, 5, 5, generator=g),
            torch.randn(6, generator=g),
            torch.rand(6, generator=g) + 0.5,
            torch.randn(6, generator=g),
            torch.randn(6, generator=g),
            torch.rand(6, generator=g) + 0.1,
            1e-5,
        )
    ]


@_ref("ex-batch-norm-fold", _fold_cases)
def _fold(W, b, gamma, beta, mean, var, eps):
    scale = gamma / torch.sqrt(var + eps)
    return W * scale.reshape(-1, 1, 1, 1), (b - mean) * scale + beta


@_ref("ex-nin-gap", lambda: [(10, 5, 5), (3, 2, 4)])
def _gap_matrix(c, h, w):
    W = torch.zeros(c, c * h * w)
    for k in range(c):
        W[k, k * h * w : (k + 1) * h * w] = 1 / (h * w)
    return W
