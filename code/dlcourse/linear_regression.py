"""Linear regression (chapter 3): from scratch (section 3.4) and with PyTorch's layers (3.5).

Both models predict ``y_hat = X w + b`` with one output and train with minibatch SGD on the
squared loss. The scratch version owns its two parameters and its optimiser; the concise
version delegates them to ``nn.Linear``, ``nn.MSELoss`` and ``torch.optim.SGD``.
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_int, check_lr, check_std
from .training import SGD, Module


def _matching_labels(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``y`` reshaped to ``y_hat``'s shape, so that the difference cannot broadcast.

    Labels of shape (n,) against predictions of shape (n, 1) would otherwise broadcast to
    an (n, n) matrix of differences and silently give a wrong loss.
    """
    if y.numel() != y_hat.numel():
        raise ValueError(
            f"predictions of shape {tuple(y_hat.shape)} and labels of shape "
            f"{tuple(y.shape)} do not hold the same number of values; pass one label per "
            "prediction"
        )
    return y.reshape(y_hat.shape)


class LinearRegressionScratch(Module):
    """Linear regression written out (section 3.4): ``X @ w + b``, squared loss, scratch SGD.

    ``w`` (num_inputs, 1) starts from N(0, sigma^2) and ``b`` (1,) from zero. Both are
    ``nn.Parameter``s, so ``model.parameters()`` and ``model.to(device)`` see them.
    """

    def __init__(self, num_inputs: int, lr: float, sigma: float = 0.01):
        super().__init__()
        check_int("num_inputs", num_inputs)
        check_lr(lr)
        check_std("sigma", sigma)
        self.num_inputs, self.lr, self.sigma = num_inputs, lr, sigma
        self.w = nn.Parameter(torch.normal(0, sigma, (num_inputs, 1)))
        self.b = nn.Parameter(torch.zeros(1))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if X.shape[-1] != self.num_inputs:
            raise ValueError(
                f"X has {X.shape[-1]} features per example (shape {tuple(X.shape)}), but the "
                f"model was built with num_inputs={self.num_inputs}"
            )
        return X @ self.w + self.b  # (batch_size, 1)

    def loss(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean of the squared loss (y_hat - y)^2 / 2 over the minibatch."""
        y = _matching_labels(y_hat, y)
        return ((y_hat - y) ** 2 / 2).mean()

    def configure_optimizers(self) -> SGD:
        return SGD([self.w, self.b], self.lr)

    def get_w_b(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The learned weights (num_inputs,) and bias (1,), detached from the graph."""
        return self.w.detach().reshape(-1), self.b.detach()


class LinearRegression(Module):
    """Concise linear regression (section 3.5): ``nn.Linear``, ``nn.MSELoss``, ``torch.optim.SGD``.

    With ``num_inputs=None`` the layer is an ``nn.LazyLinear`` that learns its input size
    from the first minibatch. Its parameters do not exist before then, and creating them
    re-initialises them, so the N(0, 0.01^2) / zero initialisation is applied just after
    that first materialisation (initialising the lazy parameters earlier has no effect).
    """

    def __init__(self, lr: float, num_inputs: int | None = None):
        super().__init__()
        self.lr = check_lr(lr)
        if num_inputs is None:
            self.net = nn.LazyLinear(1)
            # Registered after LazyLinear's own hook, so it runs once the shapes are known.
            self._init_handle = self.net.register_forward_pre_hook(self._init_after_lazy)
        else:
            check_int("num_inputs", num_inputs)
            self.net = nn.Linear(num_inputs, 1)
            self.init_parameters()
        self.loss_fn = nn.MSELoss()  # mean of (y_hat - y)^2, without the 1/2

    @torch.no_grad()
    def init_parameters(self) -> None:
        """Weights from N(0, 0.01^2), bias zero (the textbook's initialisation)."""
        self.net.weight.normal_(0, 0.01)
        self.net.bias.fill_(0)

    def _init_after_lazy(self, module, inputs) -> None:
        self.init_parameters()
        self._init_handle.remove()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)  # (batch_size, 1)

    def loss(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.loss_fn(y_hat, _matching_labels(y_hat, y))

    def get_w_b(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The learned weights (num_inputs,) and bias (1,), detached from the graph."""
        if isinstance(self.net.weight, nn.parameter.UninitializedParameter):
            raise RuntimeError(
                "the LazyLinear layer has no weights yet; call the model on a minibatch "
                "(or train it) first, or pass num_inputs to create them at once"
            )
        return self.net.weight.detach().reshape(-1), self.net.bias.detach()
