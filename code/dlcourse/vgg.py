"""VGG (section 8.2): networks built from blocks, ``vgg_block`` and ``VGG`` (VGG-11 by default).

Like every network of chapter 8, it is built with each layer's input size (``nn.Conv2d`` and
``nn.Linear``, never the lazy versions), so the He (Kaiming) initialisation in the constructor
really takes effect; the shared base class and checks are in ``cnn_utils``.
VGG ends in AlexNet's dense head (``alexnet.classifier_head``), so it needs the image size.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ._checks import check_arch, check_classifier_args, check_ints, check_size_pair
from .alexnet import classifier_head
from .cnn_utils import CNNClassifier, flat_features, init_cnn_kaiming, min_input_size


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` 3x3 convolutions (padding 1) with ReLU, then 2x2 max pooling (stride 2):
    keeps the size through the convolutions and halves it at the end."""
    check_ints(num_convs=num_convs, in_channels=in_channels, out_channels=out_channels)
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


class VGG(CNNClassifier):
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
        check_classifier_args(lr, num_classes)
        arch = check_arch(arch, "(num_convs, out_channels)")
        self.arch, self.lr, self.image_size = arch, lr, check_size_pair("image_size", image_size)
        blocks, in_channels = [], 1
        for num_convs, out_channels in arch:
            blocks.append(vgg_block(num_convs, in_channels, out_channels))
            in_channels = out_channels
        body = nn.Sequential(*blocks)
        num_flat = flat_features(body, 1, self.image_size, "VGG")  # 25088 for VGG-11 at 224
        self.min_size = min_input_size(body)  # 2 ** len(arch)
        self.net = nn.Sequential(*blocks, *classifier_head(num_flat, num_classes))
        self.net.apply(init_cnn_kaiming)
