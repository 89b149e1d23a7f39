"""Dropout (section 5.6): ``dropout_layer`` written out, an MLP that applies it by hand
(``DropoutMLPScratch``), ``Dropout`` (the layer version of ``dropout_layer``) and the
concise MLP built from it (``DropoutMLP``)."""

from __future__ import annotations

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
    # torch.rand is uniform on [0, 1), so P(u >= p) = 1 - p exactly; p = 0 keeps all.
    keep = (torch.rand(X.shape, device=X.device) >= p).to(X.dtype)
    return keep * X / (1.0 - p)


class Dropout(nn.Dropout):
    """``nn.Dropout`` whose masks are drawn by ``dropout_layer``.

    The same layer in every other way: built with ``Dropout(p)``, it drops only in training
    mode and returns its input unchanged after ``model.eval()``. The only difference is
    speed on some CPUs: on the AMD processor that builds the book, ``nn.Dropout``'s mask
    (drawn with ``Tensor.bernoulli_``) took 0.77 ms for 256 x 256 activations and
    ``torch.rand`` 0.19 ms, which made dropout a quarter of the dropout MLP's training time.
    ``inplace=True`` is not supported.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        check_probability("p", p)
        if inplace:
            raise ValueError("Dropout(inplace=True) is not supported; use inplace=False")
        super().__init__(p)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return dropout_layer(X, self.p) if self.training else X


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

    The layers are ``Dropout``, an ``nn.Dropout`` with faster masks on a CPU; like any
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
