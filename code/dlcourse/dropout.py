"""Dropout (section 5.6): ``dropout_layer`` written out, an MLP that applies it by hand
(``DropoutMLPScratch``), ``Dropout`` (the same operation as a layer, with cheaper masks
from ``dropout_mask``) and the concise MLP built from it (``DropoutMLP``)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_ints, check_lr, check_probability, check_tensor
from .mlp import relu
from .training import Classifier


def dropout_layer(X: torch.Tensor, p: float) -> torch.Tensor:
    """Zero each element of ``X`` with probability ``p`` and divide the survivors by 1 - p.

    The division keeps the expectation: E[output] = (1 - p) * X / (1 - p) = X. The result
    has the shape of ``X``. Call it in training only; at test time a network uses ``X``.
    """
    check_tensor("X", X, floating=True, fix="convert it first, e.g. X.float()")
    check_probability("p", p)
    if p == 1:
        return torch.zeros_like(X)  # everything dropped (and no division by zero)
    # torch.rand draws multiples of 2**-24 in [0, 1), so P(u >= p) is 1 - p to within 1e-7
    # (exactly for p = 0.5), and p = 0 keeps everything. ge_ compares in place, writing 1.0
    # (keep) or 0.0 (drop): the same mask as (u >= p).float(), without a boolean tensor.
    keep = torch.rand(X.shape, device=X.device).ge_(p).to(X.dtype)
    return keep * X / (1.0 - p)


def dropout_mask(shape, p: float, device=None) -> torch.Tensor:
    """A float32 tensor of ``shape`` whose elements are 1 / (1 - p) with probability 1 - p
    and 0 otherwise, independently: ``X * dropout_mask(X.shape, p)`` is dropout.

    It draws 16 random bits per element where ``torch.rand`` draws 32, which makes it
    about twice as fast on a CPU: each random 64-bit integer is read as four 16-bit ones,
    u, uniform on the 65,536 integers from -32,768 to 32,767, and an element is kept when
    u >= round(p * 65536) - 32768. That happens with probability 1 - round(p * 65536) / 65536:
    exactly 1 - p when p is a multiple of 1/65536 (0, 0.25, 0.5, ...), and within
    1/131072 (less than 1e-5) of it otherwise.
    """
    check_probability("p", p)
    if not isinstance(shape, (tuple, list)) or not all(
        isinstance(size, int) and not isinstance(size, bool) and size >= 0 for size in shape
    ):
        raise TypeError(
            f"shape must be a tuple of non-negative ints such as X.shape, got {shape!r}"
        )
    if p == 1:
        return torch.zeros(shape, device=device)
    n = math.prod(shape)
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=device)
    words.random_(-(2**63), 2**63 - 1)  # uniform on every 64-bit integer but 2**63 - 1
    u = words.view(torch.int16)[:n].reshape(shape).float()  # four 16-bit integers per word
    return u.ge_(round(p * 2**16) - 2**15).mul_(1.0 / (1.0 - p))  # 1 or 0, then scaled


class Dropout(nn.Dropout):
    """``nn.Dropout`` whose masks come from ``dropout_mask``.

    The same layer in every other way: built with ``Dropout(p)``, it drops only in training
    mode and returns its input unchanged after ``model.eval()`` (and, drawing no random
    numbers, for p = 0). The difference is speed on
    a CPU. On the AMD processor that builds the book, dropout on 256 x 256 activations took
    0.80 ms with ``nn.Dropout`` (its mask is drawn with ``Tensor.bernoulli_``), 0.22 ms with
    ``dropout_layer`` (``torch.rand`` alone: 0.19 ms) and 0.12 ms with this layer.
    ``inplace=True`` is not supported.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        check_probability("p", p)
        if inplace:
            raise ValueError("Dropout(inplace=True) is not supported; use inplace=False")
        super().__init__(p)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:  # as nn.Dropout: X itself, and nothing drawn
            return X
        return X * dropout_mask(X.shape, self.p, X.device).to(X.dtype)


def _check_args(num_outputs, num_hiddens_1, num_hiddens_2, dropout_1, dropout_2, lr, num_inputs):
    """The constructor checks shared by both dropout MLPs."""
    check_ints(num_outputs=num_outputs, num_hiddens_1=num_hiddens_1)
    check_ints(num_hiddens_2=num_hiddens_2, num_inputs=num_inputs)
    check_probability("dropout_1", dropout_1)
    check_probability("dropout_2", dropout_2)
    check_lr(lr)


class DropoutMLPScratch(Classifier):
    """Two hidden ReLU layers, each followed by ``dropout_layer`` while training (section 5.6).

    In evaluation mode (``model.eval()``) no unit is dropped: the network is deterministic.
    """

    def __init__(
        self,
        num_outputs: int = 10,
        num_hiddens_1: int = 256,
        num_hiddens_2: int = 256,
        dropout_1: float = 0.5,
        dropout_2: float = 0.5,
        lr: float = 0.1,
        num_inputs: int = 784,
    ):
        super().__init__()
        _check_args(num_outputs, num_hiddens_1, num_hiddens_2, dropout_1, dropout_2, lr, num_inputs)
        self.num_inputs, self.lr = num_inputs, lr
        self.dropout_1, self.dropout_2 = dropout_1, dropout_2
        self.lin1 = nn.Linear(num_inputs, num_hiddens_1)
        self.lin2 = nn.Linear(num_hiddens_1, num_hiddens_2)
        self.lin3 = nn.Linear(num_hiddens_2, num_outputs)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        H1 = relu(self.lin1(X.reshape(-1, self.num_inputs)))  # (batch_size, num_hiddens_1)
        if self.training:  # set by model.train() / model.eval(); the Trainer calls both
            H1 = dropout_layer(H1, self.dropout_1)
        H2 = relu(self.lin2(H1))  # (batch_size, num_hiddens_2)
        if self.training:
            H2 = dropout_layer(H2, self.dropout_2)
        return self.lin3(H2)  # (batch_size, num_outputs)


class DropoutMLP(Classifier):
    """Concise dropout MLP (section 5.6): a dropout layer after each hidden ReLU layer.

    The layers are ``Dropout``, an ``nn.Dropout`` with cheaper masks on a CPU; like any
    ``nn.Dropout`` they drop only in training mode, so ``model.eval()`` switches them off.
    """

    def __init__(
        self,
        num_outputs: int = 10,
        num_hiddens_1: int = 256,
        num_hiddens_2: int = 256,
        dropout_1: float = 0.5,
        dropout_2: float = 0.5,
        lr: float = 0.1,
        num_inputs: int = 784,
    ):
        super().__init__()
        _check_args(num_outputs, num_hiddens_1, num_hiddens_2, dropout_1, dropout_2, lr, num_inputs)
        self.lr = lr
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(num_inputs, num_hiddens_1),
            nn.ReLU(),
            Dropout(dropout_1),  # an nn.Dropout: drops only in training mode
            nn.Linear(num_hiddens_1, num_hiddens_2),
            nn.ReLU(),
            Dropout(dropout_2),
            nn.Linear(num_hiddens_2, num_outputs),
        )

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)  # (batch_size, num_outputs)
