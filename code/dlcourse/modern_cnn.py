"""Modern convolutional networks (chapter 8): AlexNet (8.1), VGG (8.2), NiN (8.3) and
GoogLeNet with its Inception block (8.4), for 1-channel images such as Fashion-MNIST.

Every layer is created with its input size (``nn.Conv2d``/``nn.Linear``, never the lazy
versions), so the initialisation in the constructor really takes effect. It is He (Kaiming)
initialisation, made for ReLU networks: with Xavier's (d2l's intent) or PyTorch's default
these networks spend their first hundreds of SGD steps at chance level (measured on the quick
profile's settings), while with He's they start learning at once. Networks whose
first linear layer follows a flatten need the image size to compute its in-features; the
networks that end in global average pooling accept any image at least ``min_size`` wide.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .cnn import (
    _check_image_size,
    check_input,
    flat_features,
    init_cnn_kaiming,
    min_input_size,
)
from .training import Classifier


def _check_common(lr, num_classes) -> None:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")


class _CNNClassifier(Classifier):
    """What the four networks share: ``self.net``, input checks and SGD with ``self.lr``."""

    in_channels = 1
    image_size: tuple[int, int] | None = None  # fixed input size, or None for any size
    min_size = 1

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_input(X, self.in_channels, self.image_size, type(self).__name__, self.min_size)
        return self.net(X)  # (batch_size, num_classes): logits

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def _classifier_head(num_flat: int, num_classes: int, dropout: float = 0.5) -> list[nn.Module]:
    """Two 4096-unit hidden layers with dropout, then the output layer (AlexNet and VGG)."""
    return [
        nn.Flatten(),
        nn.Linear(num_flat, 4096),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(4096, num_classes),
    ]


class AlexNet(_CNNClassifier):
    """AlexNet (section 8.1) for 1-channel images of side ``image_size`` (224 in the book).

    Five convolutional layers (96, 256, 384, 384, 256 channels), three max-pooling layers,
    two 4096-unit layers with dropout 0.5. The smallest image it accepts is 65x65.
    """

    def __init__(
        self, lr: float = 0.01, num_classes: int = 10, image_size: int | tuple[int, int] = 224
    ):
        super().__init__()
        _check_common(lr, num_classes)
        self.lr, self.image_size = lr, _check_image_size(image_size)
        body = nn.Sequential(
            nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        num_flat = flat_features(body, 1, self.image_size, "AlexNet")  # 6400 at 224x224
        self.min_size = min_input_size(body)  # 65
        self.net = nn.Sequential(*body, *_classifier_head(num_flat, num_classes))
        self.net.apply(init_cnn_kaiming)


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` 3x3 convolutions (padding 1) with ReLU, then 2x2 max pooling (stride 2):
    keeps the size through the convolutions and halves it at the end."""
    layers: list[nn.Module] = []
    for i in range(num_convs):
        layers += [
            nn.Conv2d(
                in_channels if i == 0 else out_channels, out_channels, kernel_size=3, padding=1
            ),
            nn.ReLU(),
        ]
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


VGG11_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


class VGG(_CNNClassifier):
    """VGG (section 8.2): one ``vgg_block`` per (num_convs, out_channels) pair of ``arch``
    (VGG-11 by default), then AlexNet's dense head. Five blocks halve the size five times,
    so images must be at least 32x32 (224 in the book)."""

    def __init__(
        self,
        arch: Sequence[tuple[int, int]] = VGG11_ARCH,
        lr: float = 0.1,
        num_classes: int = 10,
        image_size: int | tuple[int, int] = 224,
    ):
        super().__init__()
        _check_common(lr, num_classes)
        arch = tuple(tuple(pair) for pair in arch)
        if not arch or not all(
            len(p) == 2 and all(isinstance(v, int) and v > 0 for v in p) for p in arch
        ):
            raise ValueError(
                f"arch must be (num_convs, out_channels) pairs of positive ints, got {arch!r}"
            )
        self.arch, self.lr, self.image_size = arch, lr, _check_image_size(image_size)
        blocks, in_channels = [], 1
        for num_convs, out_channels in arch:
            blocks.append(vgg_block(num_convs, in_channels, out_channels))
            in_channels = out_channels
        body = nn.Sequential(*blocks)
        num_flat = flat_features(body, 1, self.image_size, "VGG")  # 25088 for VGG-11 at 224
        self.min_size = min_input_size(body)  # 2 ** len(arch)
        self.net = nn.Sequential(*blocks, *_classifier_head(num_flat, num_classes))
        self.net.apply(init_cnn_kaiming)


def nin_block(
    in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int
) -> nn.Sequential:
    """A NiN block: one ordinary convolution, then two 1x1 convolutions (a small MLP applied
    at every pixel), each followed by ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
    )


class NiN(_CNNClassifier):
    """Network in Network (section 8.3): AlexNet-like NiN blocks and no dense layers; the last
    block has one channel per class and global average pooling turns each into a score."""

    def __init__(self, lr: float = 0.1, num_classes: int = 10):
        super().__init__()
        _check_common(lr, num_classes)
        self.lr = lr
        self.net = nn.Sequential(
            nin_block(1, 96, kernel_size=11, stride=4, padding=0),
            nn.MaxPool2d(3, stride=2),
            nin_block(96, 256, kernel_size=5, stride=1, padding=2),
            nn.MaxPool2d(3, stride=2),
            nin_block(256, 384, kernel_size=3, stride=1, padding=1),
            nn.MaxPool2d(3, stride=2),
            nn.Dropout(0.5),
            nin_block(384, num_classes, kernel_size=3, stride=1, padding=1),
            nn.AdaptiveAvgPool2d((1, 1)),  # (num_classes, h, w) -> (num_classes, 1, 1)
            nn.Flatten(),
        )
        self.net.apply(init_cnn_kaiming)
        self.min_size = min_input_size(self.net)


class Inception(nn.Module):
    """The Inception block (section 8.4): four parallel paths whose outputs, all the size of
    the input, are concatenated along the channels: c1 + c2[1] + c3[1] + c4 channels.

    1. a 1x1 convolution with ``c1`` channels;
    2. a 1x1 convolution to ``c2[0]`` channels, then a 3x3 one (padding 1) to ``c2[1]``;
    3. a 1x1 convolution to ``c3[0]`` channels, then a 5x5 one (padding 2) to ``c3[1]``;
    4. 3x3 max pooling (stride 1, padding 1), then a 1x1 convolution to ``c4``.
    The 1x1 convolutions before the 3x3 and 5x5 ones shrink the channels and so the cost.
    """

    def __init__(
        self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int
    ):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(in_channels, c1, kernel_size=1), nn.ReLU())
        self.b2 = nn.Sequential(
            nn.Conv2d(in_channels, c2[0], kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1),
            nn.ReLU(),
        )
        self.b3 = nn.Sequential(
            nn.Conv2d(in_channels, c3[0], kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2),
            nn.ReLU(),
        )
        self.b4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
            nn.Conv2d(in_channels, c4, kernel_size=1),
            nn.ReLU(),
        )
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        paths = [self.b1(x), self.b2(x), self.b3(x), self.b4(x)]  # each (B, c_k, h, w)
        return torch.cat(paths, dim=1)  # (B, out_channels, h, w)


class GoogLeNet(_CNNClassifier):
    """GoogLeNet (section 8.4): stages b1-b5, nine Inception blocks, global average pooling
    and one linear layer. The book trains it on 96x96 Fashion-MNIST images."""

    def __init__(self, lr: float = 0.1, num_classes: int = 10):
        super().__init__()
        _check_common(lr, num_classes)
        self.lr = lr
        self.net = nn.Sequential(
            self.b1(),
            self.b2(),
            self.b3(),
            self.b4(),
            self.b5(),
            nn.Linear(1024, num_classes),
        )
        self.net.apply(init_cnn_kaiming)
        self.min_size = min_input_size(self.net)

    @staticmethod
    def b1() -> nn.Sequential:
        """7x7 convolution with stride 2 and 3x3 max pooling with stride 2: size / 4."""
        return nn.Sequential(
            nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )

    @staticmethod
    def b2() -> nn.Sequential:
        """1x1 then 3x3 convolution (64 -> 192 channels), max pooling: size / 2."""
        return nn.Sequential(
            nn.Conv2d(64, 64, kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(64, 192, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )

    @staticmethod
    def b3() -> nn.Sequential:
        """Two Inception blocks (192 -> 256 -> 480 channels), max pooling: size / 2."""
        return nn.Sequential(
            Inception(192, 64, (96, 128), (16, 32), 32),
            Inception(256, 128, (128, 192), (32, 96), 64),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )

    @staticmethod
    def b4() -> nn.Sequential:
        """Five Inception blocks (480 -> 512 -> 512 -> 512 -> 528 -> 832), max pooling."""
        return nn.Sequential(
            Inception(480, 192, (96, 208), (16, 48), 64),
            Inception(512, 160, (112, 224), (24, 64), 64),
            Inception(512, 128, (128, 256), (24, 64), 64),
            Inception(512, 112, (144, 288), (32, 64), 64),
            Inception(528, 256, (160, 320), (32, 128), 128),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )

    @staticmethod
    def b5() -> nn.Sequential:
        """Two Inception blocks (832 -> 832 -> 1024), global average pooling, flatten."""
        return nn.Sequential(
            Inception(832, 256, (160, 320), (32, 128), 128),
            Inception(832, 384, (192, 384), (48, 128), 128),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
        )
