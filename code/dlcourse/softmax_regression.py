"""Softmax regression (chapter 4): a single linear layer whose outputs are class scores.

Section 4.4 writes it out: ``softmax``, ``cross_entropy`` on probabilities and
``SoftmaxRegressionScratch``. Section 4.5 uses PyTorch's layers: ``SoftmaxRegression`` hands
its logits to ``nn.functional.cross_entropy``, which never forms the probabilities and so
cannot overflow; ``log_softmax`` shows how (the LogSumExp trick).
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_ints, check_lr, check_std, check_tensor
from .training import SGD, Classifier


def _check_float(name: str, X) -> None:
    check_tensor(name, X, floating=True)
    if X.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a 0-d tensor")


def softmax(X: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dimension: exp(x_j) / sum_k exp(x_k), each row summing to 1.

    Subtracting each row's maximum first leaves the result unchanged (the factor exp(-max)
    cancels) but keeps every exponent <= 0, so exp cannot overflow to inf.
    """
    _check_float("X", X)
    X_exp = torch.exp(X - X.amax(dim=-1, keepdim=True))  # largest entry of a row: exp(0) = 1
    return X_exp / X_exp.sum(dim=-1, keepdim=True)


def log_softmax(X: torch.Tensor) -> torch.Tensor:
    """Logarithm of ``softmax(X)`` computed as x_j - LogSumExp(x), stable for any finite X."""
    _check_float("X", X)
    c = X.amax(dim=-1, keepdim=True)
    # log sum_k exp(x_k) = c + log sum_k exp(x_k - c); the sum is >= 1, so its log is finite.
    log_sum_exp = c + torch.log(torch.exp(X - c).sum(dim=-1, keepdim=True))
    return X - log_sum_exp


def _check_labels(y, num_examples: int, num_classes: int) -> None:
    check_tensor("y", y)
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(
            f"y must hold integer class indices, got dtype {y.dtype}; convert it with y.long()"
        )
    if y.shape != (num_examples,):
        raise ValueError(
            f"y must have shape ({num_examples},), one label per row of the "
            f"scores, got shape {tuple(y.shape)}"
        )
    if num_examples and (y.min() < 0 or y.max() >= num_classes):
        bad = y[(y < 0) | (y >= num_classes)][0].item()
        raise ValueError(
            f"label {bad} is out of range: with {num_classes} classes the labels "
            f"must lie in 0..{num_classes - 1}"
        )


def _pick(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Entry y[i] of row i for every i: y_hat[[0, 1, ...], y], shape (n,)."""
    return y_hat[torch.arange(len(y_hat), device=y_hat.device), y]


def cross_entropy(y_hat: torch.Tensor, y: torch.Tensor, atol: float = 1e-4) -> torch.Tensor:
    """Mean of -log y_hat[i, y[i]]: the cross-entropy of predicted probabilities ``y_hat``.

    ``y_hat`` (n, q) holds probabilities (rows summing to 1 within ``atol``, e.g. the
    output of ``softmax``), ``y`` (n,) class indices in 0..q-1. To start from scores
    (logits), use ``torch.nn.functional.cross_entropy`` or ``-log_softmax`` instead.
    """
    _check_float("y_hat", y_hat)
    if y_hat.ndim != 2:
        raise ValueError(
            f"y_hat must have shape (num_examples, num_classes), got shape {tuple(y_hat.shape)}"
        )
    _check_labels(y, *y_hat.shape)
    row_sums = y_hat.detach().sum(dim=1)
    if (y_hat.detach() < 0).any() or not torch.allclose(
        row_sums, torch.ones_like(row_sums), rtol=0, atol=atol
    ):
        worst = (row_sums - 1).abs().argmax().item()
        raise ValueError(
            f"y_hat must hold probabilities, but row {worst} sums to "
            f"{row_sums[worst].item():.6g} (min entry {y_hat.detach().min().item():.6g}); "
            "apply softmax first, or pass logits to torch.nn.functional.cross_entropy"
        )
    return -torch.log(_pick(y_hat, y)).mean()


class SoftmaxRegressionScratch(Classifier):
    """Softmax regression written out (section 4.4): softmax(X W + b) and cross-entropy.

    ``W`` (num_inputs, num_outputs) starts from N(0, sigma^2) and ``b`` (num_outputs,) from
    zero. Unlike the concise model, ``forward`` returns probabilities, not logits.
    """

    def __init__(self, num_inputs: int, num_outputs: int, lr: float, sigma: float = 0.01):
        super().__init__()
        check_ints(num_inputs=num_inputs, num_outputs=num_outputs)
        check_lr(lr)
        check_std("sigma", sigma)
        self.num_inputs, self.num_outputs, self.lr = num_inputs, num_outputs, lr
        self.W = nn.Parameter(torch.normal(0, sigma, (num_inputs, num_outputs)))
        self.b = nn.Parameter(torch.zeros(num_outputs))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if X.shape[1:].numel() != self.num_inputs:
            raise ValueError(
                f"each example of X (shape {tuple(X.shape)}) has {X.shape[1:].numel()} values, but "
                f"the model was built with num_inputs={self.num_inputs}"
            )
        X = X.reshape(-1, self.num_inputs)  # flatten each image: (batch_size, num_inputs)
        return softmax(X @ self.W + self.b)  # (batch_size, num_outputs), rows sum to 1

    def loss(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # The rows of y_hat sum to 1 by construction, so only the labels are checked here:
        # the probability check would cost a host synchronisation per batch on a GPU.
        if y.shape != y_hat.shape[:1]:
            raise ValueError(f"y must have shape ({len(y_hat)},), got {tuple(y.shape)}")
        return -torch.log(_pick(y_hat, y)).mean()

    def configure_optimizers(self) -> SGD:
        return SGD([self.W, self.b], self.lr)


class SoftmaxRegression(Classifier):
    """Concise softmax regression (section 4.5): flatten, one ``nn.Linear``, logits out.

    The softmax itself is left to the loss: ``Classifier.loss`` passes the logits to
    ``cross_entropy``, which uses the LogSumExp trick and cannot overflow.
    """

    def __init__(self, num_outputs: int = 10, lr: float = 0.1, num_inputs: int = 784):
        super().__init__()
        check_ints(num_outputs=num_outputs, num_inputs=num_inputs)
        self.lr = check_lr(lr)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_outputs))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)  # (batch_size, num_outputs)
