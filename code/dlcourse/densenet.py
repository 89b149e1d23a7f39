"""Densely connected networks (chapter 8.7): ``conv_block``, ``DenseBlock``,
``transition_block`` and ``DenseNet``.

As in ``alexnet`` to ``googlenet`` (8.1-8.4), every layer is created with its input size (no
lazy layers), so the functions take ``in_channels`` before d2l's ``num_channels``. DenseNet's
transition layers average-pool without padding, so with the default four dense blocks (three
transitions) the smallest image it accepts is 29x29.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._checks import check_classifier_args, check_ints
from .cnn_utils import CNNClassifier, init_cnn_kaiming, min_input_size


def conv_block(in_channels: int, num_channels: int) -> nn.Sequential:
    """Batch norm, ReLU, then a 3x3 convolution (padding 1) to ``num_channels``: the
    "pre-activation" order that DenseNet uses; the size is kept."""
    check_ints(in_channels=in_channels, num_channels=num_channels)
    return nn.Sequential(
        nn.BatchNorm2d(in_channels),
        nn.ReLU(),
        nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1),
    )


class DenseBlock(nn.Module):
    """``num_convs`` conv blocks; each one reads the concatenation of the block's input and
    every earlier output, and adds ``num_channels`` (the growth rate) channels to it:
    ``out_channels = in_channels + num_convs * num_channels``."""

    def __init__(self, num_convs: int, in_channels: int, num_channels: int):
        super().__init__()
        check_ints(num_convs=num_convs, in_channels=in_channels, num_channels=num_channels)
        self.net = nn.Sequential(
            *(conv_block(in_channels + i * num_channels, num_channels) for i in range(num_convs))
        )
        self.out_channels = in_channels + num_convs * num_channels

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        for block in self.net:
            Y = block(X)  # (B, num_channels, h, w)
            X = torch.cat((X, Y), dim=1)  # the channels grow by num_channels
        return X  # (B, out_channels, h, w)


def transition_block(in_channels: int, num_channels: int) -> nn.Sequential:
    """Batch norm, ReLU, a 1x1 convolution to ``num_channels`` and 2x2 average pooling
    (stride 2): shrinks the channels and halves the size after a dense block."""
    check_ints(in_channels=in_channels, num_channels=num_channels)
    return nn.Sequential(
        nn.BatchNorm2d(in_channels),
        nn.ReLU(),
        nn.Conv2d(in_channels, num_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2),
    )


class DenseNet(CNNClassifier):
    """DenseNet: ResNet's stem, one dense block per entry of ``arch`` (its number of conv
    blocks, each adding ``growth_rate`` channels), a transition block halving the channels
    and the size between dense blocks, then batch norm, ReLU, global average pooling and a
    linear layer. ``num_channels`` is the stem's width."""

    def __init__(
        self,
        num_channels: int = 64,
        growth_rate: int = 32,
        arch: Sequence[int] = (4, 4, 4, 4),
        lr: float = 0.1,
        num_classes: int = 10,
    ):
        super().__init__()
        check_classifier_args(lr, num_classes)
        check_ints(num_channels=num_channels, growth_rate=growth_rate)
        arch = tuple(arch)
        if not arch:
            raise ValueError("arch must hold at least one dense block, got ()")
        check_ints(**{f"arch[{i}]": n for i, n in enumerate(arch)})
        self.arch, self.growth_rate, self.lr = arch, growth_rate, lr
        self.net = nn.Sequential()
        self.net.add_module("b1", self.b1(num_channels))
        self.channels = []  # output channels of each dense block, for the page to print
        for i, num_convs in enumerate(arch):
            block = DenseBlock(num_convs, num_channels, growth_rate)
            self.net.add_module(f"dense_blk{i + 1}", block)
            num_channels = block.out_channels
            self.channels.append(num_channels)
            if i != len(arch) - 1:  # a transition halves the channels between dense blocks
                self.net.add_module(
                    f"tran_blk{i + 1}", transition_block(num_channels, num_channels // 2)
                )
                num_channels //= 2
        self.net.add_module(
            "last",
            nn.Sequential(
                nn.BatchNorm2d(num_channels),
                nn.ReLU(),
                nn.AdaptiveAvgPool2d((1, 1)),
                nn.Flatten(),
                nn.Linear(num_channels, num_classes),
            ),
        )
        self.net.apply(init_cnn_kaiming)
        self.min_size = min_input_size(self.net)

    @staticmethod
    def b1(num_channels: int = 64) -> nn.Sequential:
        """ResNet's stem: 7x7 convolution (stride 2), batch norm, ReLU, max pooling: size / 4."""
        return nn.Sequential(
            nn.Conv2d(1, num_channels, kernel_size=7, stride=2, padding=3),
            nn.BatchNorm2d(num_channels),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
