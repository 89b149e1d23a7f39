"""Designing CNN architectures (chapter 8.8): the AnyNet design space and RegNetX-32.

An AnyNet is a stem (3x3 convolution with stride 2, batch norm, ReLU), a body of stages of
ResNeXt blocks and a head (global average pooling, linear layer). Stage i is described by
four numbers: depth d_i (blocks), width c_i (channels), group width g_i and bottleneck
ratio k_i. Each stage's first block halves the size, so the network divides the size by
2 ** (1 + number of stages); every stride-2 layer pads, so any image size is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ._checks import check_classifier_args, check_ints, check_number
from .cnn_utils import CNNClassifier, init_cnn_kaiming, min_input_size
from .resnet import ResNeXtBlock


def _check_arch(arch) -> tuple[tuple, ...]:
    arch = tuple(tuple(stage) for stage in arch)
    if not arch or any(len(stage) != 4 for stage in arch):
        raise ValueError(
            "arch must be (depth, num_channels, groups, bot_mul) tuples, one per stage, "
            f"got {arch!r}"
        )
    for i, (depth, num_channels, groups, bot_mul) in enumerate(arch):
        check_ints(**{f"arch[{i}] depth": depth, f"arch[{i}] num_channels": num_channels})
        check_ints(**{f"arch[{i}] groups": groups})
        check_number(f"arch[{i}] bot_mul", bot_mul)
    return arch


class AnyNet(CNNClassifier):
    """A network of the AnyNet design space: ``arch`` holds one (depth, num_channels,
    groups, bot_mul) tuple per stage, where ``groups`` is the group width (as in d2l)."""

    def __init__(
        self,
        arch: Sequence[tuple[int, int, int, float]],
        stem_channels: int,
        lr: float = 0.1,
        num_classes: int = 10,
    ):
        super().__init__()
        check_classifier_args(lr, num_classes)
        check_ints(stem_channels=stem_channels)
        self.arch, self.stem_channels, self.lr = _check_arch(arch), stem_channels, lr
        self.net = nn.Sequential()
        self.net.add_module("stem", self.stem(stem_channels))
        in_channels = stem_channels
        for i, (depth, num_channels, groups, bot_mul) in enumerate(self.arch):
            stage = self.stage(in_channels, depth, num_channels, groups, bot_mul)
            self.net.add_module(f"stage{i + 1}", stage)
            in_channels = num_channels
        self.net.add_module(
            "head",
            nn.Sequential(
                nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(in_channels, num_classes)
            ),
        )
        self.net.apply(init_cnn_kaiming)
        self.min_size = min_input_size(self.net)

    @staticmethod
    def stem(num_channels: int) -> nn.Sequential:
        """3x3 convolution with stride 2, batch norm, ReLU: size / 2."""
        return nn.Sequential(
            nn.Conv2d(1, num_channels, kernel_size=3, stride=2, padding=1),
            nn.BatchNorm2d(num_channels),
            nn.ReLU(),
        )

    @staticmethod
    def stage(
        in_channels: int, depth: int, num_channels: int, groups: int, bot_mul: float
    ) -> nn.Sequential:
        """``depth`` ResNeXt blocks; the first halves the size and has a 1x1 shortcut."""
        blocks = [ResNeXtBlock(in_channels, num_channels, groups, bot_mul, True, strides=2)]
        for _ in range(depth - 1):
            blocks.append(ResNeXtBlock(num_channels, num_channels, groups, bot_mul))
        return nn.Sequential(*blocks)


class RegNetX32(AnyNet):
    """RegNetX-32 as in d2l: stem 32 channels, two stages of depths (4, 6) and widths
    (32, 80), group width 16, bottleneck ratio 1."""

    def __init__(self, lr: float = 0.1, num_classes: int = 10):
        stem_channels, groups, bot_mul = 32, 16, 1
        depths, channels = (4, 6), (32, 80)
        arch = tuple((d, c, groups, bot_mul) for d, c in zip(depths, channels))
        super().__init__(arch, stem_channels, lr, num_classes)
