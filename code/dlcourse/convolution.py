"""Convolution and pooling written out (chapter 7): the operations behind ``nn.Conv2d`` and
``nn.MaxPool2d``/``nn.AvgPool2d``, from scratch with tensor slicing.

``corr2d`` and the layer ``Conv2D`` built on it (section 7.2), ``corr2d_multi_in``,
``corr2d_multi_in_out`` and ``corr2d_multi_in_out_1x1`` (section 7.4) and ``pool2d``
(section 7.5). The networks of chapters 7 and 8 use PyTorch's layers instead.
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_choice, check_size_pair, check_tensor


def _check_2d(name: str, T) -> None:
    hint = "select one channel, e.g. X[0, 0], or use corr2d_multi_in for channels"
    check_tensor(name, T, ndim=2, shape_hint="(height, width)", fix=hint)


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2-D cross-correlation of ``X`` (h, w) with kernel ``K`` (kh, kw): (h-kh+1, w-kw+1).

    Instead of a loop over the output's h*w positions, it loops over the kernel's kh*kw
    entries: output = sum over (a, b) of K[a, b] times X shifted by (a, b). The result keeps
    the dtype of ``X`` and ``K`` (which must agree) and supports autograd.
    """
    _check_2d("X", X)
    _check_2d("K", K)
    h, w = K.shape
    if h > X.shape[0] or w > X.shape[1] or h == 0 or w == 0:
        raise ValueError(
            f"kernel {tuple(K.shape)} is larger than input {tuple(X.shape)} (or empty); "
            "pad the input or use a smaller kernel"
        )
    if X.dtype != K.dtype:
        raise TypeError(
            f"X and K must have the same dtype, got {X.dtype} and {K.dtype}; "
            "convert one of them, e.g. K.to(X.dtype)"
        )
    out_h, out_w = X.shape[0] - h + 1, X.shape[1] - w + 1
    Y = torch.zeros((out_h, out_w), dtype=X.dtype, device=X.device)
    for a in range(h):
        for b in range(w):
            Y = Y + K[a, b] * X[a : a + out_h, b : b + out_w]  # one shifted copy of X
    return Y


class Conv2D(nn.Module):
    """A convolutional layer from scratch (section 7.2): ``corr2d(x, weight) + bias``."""

    def __init__(self, kernel_size: tuple[int, int]):
        super().__init__()
        kernel_size = check_size_pair("kernel_size", kernel_size)
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return corr2d(x, self.weight) + self.bias


def _check_channels(X, K, k_ndim: int) -> None:
    check_tensor("X", X, ndim=3, shape_hint="(c_i, h, w)")
    check_tensor(
        "K", K, ndim=k_ndim, shape_hint={3: "(c_i, kh, kw)", 4: "(c_o, c_i, kh, kw)"}[k_ndim]
    )
    if K.shape[-3] != X.shape[0]:
        raise ValueError(
            f"K has {K.shape[-3]} input channels but X has {X.shape[0]} "
            f"(K {tuple(K.shape)}, X {tuple(X.shape)}); they must match"
        )


def corr2d_multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlate each of the c_i channels of X with its own kernel and sum the results.

    X: (c_i, h, w), K: (c_i, kh, kw) -> (h-kh+1, w-kw+1).
    """
    _check_channels(X, K, 3)
    return sum(corr2d(x, k) for x, k in zip(X, K, strict=True))


def corr2d_multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """One multi-input cross-correlation per output channel, stacked.

    X: (c_i, h, w), K: (c_o, c_i, kh, kw) -> (c_o, h-kh+1, w-kw+1).
    """
    _check_channels(X, K, 4)
    return torch.stack([corr2d_multi_in(X, k) for k in K])


def corr2d_multi_in_out_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """A 1x1 convolution as one matrix product: every pixel's c_i values times a (c_o, c_i)
    matrix. X: (c_i, h, w), K: (c_o, c_i, 1, 1) -> (c_o, h, w)."""
    _check_channels(X, K, 4)
    if K.shape[-2:] != (1, 1):
        raise ValueError(f"K must hold 1x1 kernels, got shape {tuple(K.shape)}")
    c_i, h, w = X.shape
    Y = K.reshape(K.shape[0], c_i) @ X.reshape(c_i, h * w)  # (c_o, c_i) @ (c_i, h*w)
    return Y.reshape(K.shape[0], h, w)


def pool2d(X: torch.Tensor, pool_size: tuple[int, int], mode: str = "max") -> torch.Tensor:
    """Max or average pooling of ``X`` (h, w) with a window of ``pool_size`` and stride 1.

    Like ``corr2d`` it loops over the window's offsets, not over the output positions:
    the ph*pw shifted copies of X are stacked and reduced along the new first axis.
    """
    _check_2d("X", X)
    check_choice("mode", mode, ("max", "avg"))
    p_h, p_w = pool_size = check_size_pair("pool_size", pool_size)
    if p_h > X.shape[0] or p_w > X.shape[1]:
        raise ValueError(
            f"pool_size {tuple(pool_size)} does not fit in input {tuple(X.shape)}; "
            "use a smaller window"
        )
    out_h, out_w = X.shape[0] - p_h + 1, X.shape[1] - p_w + 1
    windows = torch.stack(
        [X[a : a + out_h, b : b + out_w] for a in range(p_h) for b in range(p_w)]
    )  # (p_h * p_w, out_h, out_w)
    if mode == "max":
        return windows.amax(dim=0)
    if not windows.is_floating_point():
        windows = windows.float()  # the mean of integers is not an integer
    return windows.mean(dim=0)
