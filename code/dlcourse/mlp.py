"""Multilayer perceptrons (chapter 5): ``relu`` and ``MLPScratch`` written out (section 5.2)
and the concise ``MLP`` built from ``torch.nn`` layers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ._checks import check_int, check_ints, check_lr, check_std, check_tensor
from .training import SGD, Classifier


def relu(X: torch.Tensor) -> torch.Tensor:
    """ReLU written out: the elementwise maximum of ``X`` and 0 (same shape as ``X``)."""
    check_tensor("X", X)
    return torch.maximum(X, torch.zeros_like(X))


class MLPScratch(Classifier):
    """One-hidden-layer MLP from scratch (section 5.2): explicit parameters, ReLU, scratch SGD.

    Weights are drawn from N(0, sigma^2) and biases start at zero. The weights must not all
    be equal (e.g. zero): every hidden unit would then compute the same value and receive
    the same gradient, so the hidden layer would behave like a single unit forever.
    """

    def __init__(
        self,
        num_inputs: int = 784,
        num_outputs: int = 10,
        num_hiddens: int = 256,
        lr: float = 0.1,
        sigma: float = 0.01,
    ):
        super().__init__()
        check_ints(num_inputs=num_inputs, num_outputs=num_outputs, num_hiddens=num_hiddens)
        check_lr(lr)
        check_std("sigma", sigma)
        self.num_inputs, self.lr, self.sigma = num_inputs, lr, sigma
        self.W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
        self.b1 = nn.Parameter(torch.zeros(num_hiddens))
        self.W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs) * sigma)
        self.b2 = nn.Parameter(torch.zeros(num_outputs))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        X = X.reshape(-1, self.num_inputs)  # (batch_size, 1, 28, 28) -> (batch_size, 784)
        H = relu(X @ self.W1 + self.b1)  # (batch_size, num_hiddens)
        return H @ self.W2 + self.b2  # (batch_size, num_outputs): logits

    def configure_optimizers(self) -> SGD:
        return SGD(self.parameters(), lr=self.lr)


class MLP(Classifier):
    """Concise MLP (section 5.2): flatten, hidden layers each followed by an activation, and
    a linear output layer.

    ``num_hiddens`` is the width of the one hidden layer (the textbook's model), or a
    sequence of widths for a deeper network, e.g. ``(256, 128)``. ``activation`` makes the
    module placed after every hidden layer (``nn.ReLU`` by default; ``nn.Sigmoid``,
    ``nn.Tanh``, ``nn.PReLU`` ...). Layers use PyTorch's default initialisation.
    """

    def __init__(
        self,
        num_outputs: int = 10,
        num_hiddens: int | Sequence[int] = 256,
        lr: float = 0.1,
        num_inputs: int = 784,
        activation: Callable[[], nn.Module] = nn.ReLU,
    ):
        super().__init__()
        widths = list(num_hiddens) if isinstance(num_hiddens, (list, tuple)) else [num_hiddens]
        if not widths:
            raise ValueError(f"num_hiddens needs at least one width, got {num_hiddens!r}")
        for i, value in enumerate(widths):
            name = "num_hiddens" if len(widths) == 1 else f"num_hiddens[{i}]"
            check_int(name, value, fix="use e.g. 256 or (256, 128)")
        check_ints(num_outputs=num_outputs, num_inputs=num_inputs)
        check_lr(lr)
        self.lr = lr
        layers: list[nn.Module] = [nn.Flatten()]
        for fan_in, fan_out in zip([num_inputs, *widths[:-1]], widths, strict=True):
            layers += [nn.Linear(fan_in, fan_out), activation()]
        layers.append(nn.Linear(widths[-1], num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)  # (batch_size, num_outputs)
