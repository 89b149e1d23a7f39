"""Batch normalisation (section 8.5): ``batch_norm`` and ``BatchNorm`` written out, and LeNet
with batch normalisation, from scratch (``BNLeNetScratch``) and with PyTorch's layers (``BNLeNet``).

``batch_norm`` matches ``nn.BatchNorm1d``/``nn.BatchNorm2d`` exactly, in both modes: in
training it normalises with the minibatch's mean and (biased) variance and updates the running
estimates as ``running = (1 - momentum) * running + momentum * batch_statistic``, where the
variance that goes into the running estimate is the *unbiased* one, m / (m - 1) times the
biased one (m values per feature or channel). d2l 1.0.3 averages the biased variance instead.
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import (
    check_classifier_args,
    check_images,
    check_int,
    check_number,
    check_probability,
    check_tensor,
)
from .cnn_utils import init_cnn
from .training import Classifier


def _check_bn_input(X, num_dims: int | None = None) -> None:
    check_tensor("X", X)
    if X.ndim not in (2, 4):
        raise ValueError(
            f"batch_norm needs a 2-D (batch_size, features) or 4-D (batch_size, channels, "
            f"height, width) tensor, got shape {tuple(X.shape)}"
        )
    if num_dims is not None and X.ndim != num_dims:
        raise ValueError(
            f"this BatchNorm was built with num_dims={num_dims} but got a {X.ndim}-D input of "
            f"shape {tuple(X.shape)}; use num_dims={X.ndim}"
        )


def _check_hyperparameters(eps, momentum) -> None:
    # PyTorch's momentum=None (a cumulative average) is not supported: a TypeError.
    check_probability("momentum", momentum)
    check_number("eps", eps)


def batch_norm(
    X: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    moving_mean: torch.Tensor,
    moving_var: torch.Tensor,
    eps: float = 1e-5,
    momentum: float = 0.1,
    training: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Normalise ``X``, then scale by ``gamma`` and shift by ``beta``; return ``(Y, mean, var)``.

    X: (n, c) or (n, c, h, w); gamma, beta and the moving statistics: (1, c) or (1, c, 1, 1).
    In training the statistics of the minibatch are used and the returned running estimates
    are updated; in evaluation the running estimates are used and returned unchanged.
    """
    _check_bn_input(X)
    _check_hyperparameters(eps, momentum)
    if not training:
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
        return gamma * X_hat + beta, moving_mean, moving_var
    dims = (0,) if X.ndim == 2 else (0, 2, 3)  # every axis but the features/channels
    m = X.numel() // X.shape[1]  # values per feature or channel
    if m < 2:
        raise ValueError(
            f"batch_norm in training mode needs more than one value per channel, got input "
            f"shape {tuple(X.shape)}; use a larger minibatch or evaluation mode"
        )
    mean = X.mean(dim=dims, keepdim=True)  # (1, c) or (1, c, 1, 1)
    var = ((X - mean) ** 2).mean(dim=dims, keepdim=True)  # biased: divide by m
    X_hat = (X - mean) / torch.sqrt(var + eps)
    with torch.no_grad():  # the running estimates are statistics, not part of the graph
        moving_mean = (1 - momentum) * moving_mean + momentum * mean
        moving_var = (1 - momentum) * moving_var + momentum * var * (m / (m - 1))
    return gamma * X_hat + beta, moving_mean, moving_var


class BatchNorm(nn.Module):
    """A batch normalisation layer from scratch: ``num_dims`` is 2 after a fully connected
    layer (``num_features`` outputs) and 4 after a convolution (``num_features`` channels).

    ``gamma`` (scale) and ``beta`` (shift) are learned; ``moving_mean`` and ``moving_var`` are
    buffers (saved with the model, moved by ``.to``). ``train()``/``eval()`` choose the mode.
    """

    def __init__(self, num_features: int, num_dims: int, eps: float = 1e-5, momentum=0.1):
        super().__init__()
        check_int("num_features", num_features)
        if num_dims not in (2, 4):
            raise ValueError(
                f"num_dims must be 2 (fully connected) or 4 (convolutional), got {num_dims!r}"
            )
        _check_hyperparameters(eps, momentum)
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.num_features, self.num_dims, self.eps, self.momentum = (
            num_features,
            num_dims,
            eps,
            momentum,
        )
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.register_buffer("moving_mean", torch.zeros(shape))
        self.register_buffer("moving_var", torch.ones(shape))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        _check_bn_input(X, self.num_dims)
        if X.shape[1] != self.num_features:
            raise ValueError(
                f"this BatchNorm has {self.num_features} features/channels, but the input "
                f"has {X.shape[1]} (shape {tuple(X.shape)})"
            )
        Y, mean, var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            self.eps, self.momentum, self.training,
        )  # fmt: skip
        if self.training:
            self.moving_mean.copy_(mean)
            self.moving_var.copy_(var)
        return Y

    def extra_repr(self) -> str:
        return f"{self.num_features}, num_dims={self.num_dims}, eps={self.eps}"


class _BNLeNetBase(Classifier):
    """What both LeNets share: 28x28 inputs, Xavier weights, SGD at ``self.lr``."""

    def __init__(self, lr: float, num_classes: int):
        super().__init__()
        check_classifier_args(lr, num_classes)
        self.lr = lr

    def _build(self, norm2d, norm1d, num_classes: int) -> nn.Sequential:
        net = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5),  # (1, 28, 28) -> (6, 24, 24)
            norm2d(6),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),  # -> (6, 12, 12)
            nn.Conv2d(6, 16, kernel_size=5),  # -> (16, 8, 8)
            norm2d(16),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),  # -> (16, 4, 4)
            nn.Flatten(),  # -> 256
            nn.Linear(256, 120),
            norm1d(120),
            nn.Sigmoid(),
            nn.Linear(120, 84),
            norm1d(84),
            nn.Sigmoid(),
            nn.Linear(84, num_classes),
        )
        net.apply(init_cnn)  # Xavier, as d2l's apply_init(..., init_cnn)
        return net

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X, 1, (28, 28), type(self).__name__)
        return self.net(X)  # (batch_size, num_classes): logits


class BNLeNetScratch(_BNLeNetBase):
    """d2l's LeNet with a from-scratch ``BatchNorm`` after every convolution and hidden
    linear layer, before the sigmoid (28x28 inputs, no padding: 256 features after pooling)."""

    def __init__(self, lr: float = 0.1, num_classes: int = 10):
        super().__init__(lr, num_classes)
        self.net = self._build(
            lambda c: BatchNorm(c, num_dims=4), lambda n: BatchNorm(n, num_dims=2), num_classes
        )


class BNLeNet(_BNLeNetBase):
    """The same network with PyTorch's ``nn.BatchNorm2d`` and ``nn.BatchNorm1d``."""

    def __init__(self, lr: float = 0.1, num_classes: int = 10):
        super().__init__(lr, num_classes)
        self.net = self._build(nn.BatchNorm2d, nn.BatchNorm1d, num_classes)
