"""LeNet (section 7.6): the first convolutional network the book trains, on Fashion-MNIST.

The textbook's LeNet-5 (sigmoid, average pooling) and, through the constructor's options, its
modernised variant (ReLU, max pooling, batch normalisation) of the same size. The helpers it
uses (``init_cnn``, ``flat_features``, ``check_input``) live in ``cnn_utils``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ._checks import check_bool, check_classifier_args, check_images, check_size_pair
from .cnn_utils import flat_features, init_cnn
from .training import Classifier


class LeNet(Classifier):
    """LeNet-5 for 28x28 grayscale images (section 7.6).

    The defaults are the textbook's: sigmoid activations, average pooling, Xavier-uniform
    weights, SGD with lr 0.1. ``activation``, ``pool`` and ``batch_norm`` build the
    modernised variant of the same size, e.g. ``LeNet(activation=nn.ReLU,
    pool=nn.MaxPool2d, batch_norm=True)``: batch normalisation goes after every
    convolutional and hidden linear layer, before the activation.
    """

    def __init__(
        self,
        lr: float = 0.1,
        num_classes: int = 10,
        activation: Callable[[], nn.Module] = nn.Sigmoid,
        pool: Callable[..., nn.Module] = nn.AvgPool2d,
        batch_norm: bool = False,
        image_size: int | tuple[int, int] = 28,
    ):
        super().__init__()
        check_classifier_args(lr, num_classes)
        check_bool("batch_norm", batch_norm)
        self.lr, self.image_size = lr, check_size_pair("image_size", image_size)
        # Channels-last speeds up its convolutions on a CPU, but batch normalisation over
        # 6 and 16 channels is slower in that layout than the convolutions gain.
        self.channels_last_on_cpu = not batch_norm

        def norm(kind, n):  # batch norm (chapter 8.5) or nothing
            return [kind(n)] if batch_norm else []

        body = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2),
            *norm(nn.BatchNorm2d, 6),
            activation(),
            pool(kernel_size=2, stride=2),  # (6, 28, 28) -> (6, 14, 14)
            nn.Conv2d(6, 16, kernel_size=5),
            *norm(nn.BatchNorm2d, 16),
            activation(),
            pool(kernel_size=2, stride=2),  # (16, 10, 10) -> (16, 5, 5)
        )
        num_flat = flat_features(body, 1, self.image_size, "LeNet")  # 16 * 5 * 5 = 400
        self.net = nn.Sequential(
            *body,
            nn.Flatten(),
            nn.Linear(num_flat, 120),
            *norm(nn.BatchNorm1d, 120),
            activation(),
            nn.Linear(120, 84),
            *norm(nn.BatchNorm1d, 84),
            activation(),
            nn.Linear(84, num_classes),
        )
        self.net.apply(init_cnn)  # every layer exists already, so this takes effect

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X, 1, self.image_size, "LeNet")
        return self.net(X)  # (batch_size, num_classes): logits
