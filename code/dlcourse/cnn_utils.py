"""Helpers shared by the CNNs of chapters 7 and 8: initialisation, sizes, checks, summaries.

``init_cnn`` (Xavier, section 5.4 and 7.6) and ``init_cnn_kaiming`` (He, chapter 8) initialise
weights; ``min_input_size`` and ``flat_features`` work out image sizes; ``layer_summary`` and
``num_params`` (one definition of a parameter count for both) describe a network (7.6).
``CNNClassifier`` is the base class of the networks of chapter 8; their argument checks are
in ``_checks``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ._checks import check_images, check_int, check_module
from .training import Classifier


# -- Initialisation ------------------------------------------------------------------------
def init_cnn(module: nn.Module) -> None:
    """Xavier-uniform weights for every convolutional and linear layer; use ``net.apply``.
    Biases keep PyTorch's default (uniform in +-1/sqrt(fan_in)), as in d2l.

    A lazy layer (``nn.LazyConv2d``, ``nn.LazyLinear``) has no weight until its first
    forward pass; rather than skip it silently, this raises, so an initialisation can
    never fail to happen unnoticed.
    """
    check_module("module", module)
    if isinstance(module, nn.modules.lazy.LazyModuleMixin) and module.has_uninitialized_params():
        raise ValueError(
            f"{type(module).__name__} has no weights yet, so it cannot be initialised; "
            "run a forward pass on a dummy batch first, or give the layer its input size "
            "(nn.Conv2d / nn.Linear)"
        )
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.xavier_uniform_(module.weight)


def init_cnn_kaiming(module: nn.Module) -> None:
    """He (Kaiming) normal weights and zero biases for every convolutional and linear layer.

    Xavier's rule keeps the signal's variance for layers without a nonlinearity; a ReLU
    zeroes half of its inputs and so halves the variance at every layer, and deep ReLU
    networks initialised with Xavier start with nearly constant outputs. He et al. (2015)
    double the variance, std = sqrt(2 / fan_in), which keeps the signal's size through any
    number of ReLU layers. Lazy layers without weights are refused, as in ``init_cnn``.

    Biases are set to zero, not left at PyTorch's default (uniform in +-1/sqrt(fan_in)).
    The variance argument above assumes that every layer's outputs have mean zero; a random
    bias shifts each unit by a constant of its own, which ReLU then treats unevenly, so the
    signal would no longer keep its size as the derivation promises. Zero biases break no
    symmetry that matters: the random weights already make every unit different, and the
    biases learn their values in the first steps.
    """
    check_module("module", module)
    if isinstance(module, nn.modules.lazy.LazyModuleMixin) and module.has_uninitialized_params():
        init_cnn(module)  # raises the same error
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


# -- Image sizes ---------------------------------------------------------------------------
def _spatial_part(net: nn.Module) -> nn.Module:
    """The layers of a Sequential before its first Flatten (all of ``net`` otherwise)."""
    if isinstance(net, nn.Sequential):
        for i, layer in enumerate(net):
            if isinstance(layer, nn.Flatten):
                return net[:i]
    return net


def _runs(net: nn.Module, in_channels: int, size: int) -> bool:
    param = next(net.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    try:
        net(torch.zeros(1, in_channels, size, size, device=device))
    except RuntimeError:
        return False
    return True


@torch.no_grad()
def min_input_size(net: nn.Module, in_channels: int = 1, limit: int = 4096) -> int:
    """The smallest side n for which ``net`` accepts a (1, in_channels, n, n) input.

    Only the layers before the first ``nn.Flatten`` are tried (the linear layers after it
    have a fixed input size of their own). The search doubles n until a forward pass works,
    then bisects, so it costs a few passes at small sizes.
    """
    check_int("in_channels", in_channels)
    check_int("limit", limit)
    spatial = _spatial_part(net)
    was_training = spatial.training
    spatial.eval()  # batch norm in training mode refuses a batch with a single value
    try:
        high = 1
        while not _runs(spatial, in_channels, high):
            if high >= limit:
                raise ValueError(f"no input up to {limit}x{limit} runs through this network")
            high = min(2 * high, limit)
        low = high // 2  # fails (or is 0)
        while high - low > 1:
            mid = (low + high) // 2
            if _runs(spatial, in_channels, mid):
                high = mid
            else:
                low = mid
        return high
    finally:
        spatial.train(was_training)


def flat_features(body: nn.Module, in_channels: int, image_size: tuple[int, int], name: str) -> int:
    """Number of values that ``body`` outputs for one image: the in-features of the first
    linear layer after it. Raises a ValueError naming the smallest usable size when
    ``image_size`` is too small for ``body``."""
    with torch.no_grad():
        try:
            out = body(torch.zeros(1, in_channels, *image_size))
        except RuntimeError:
            smallest = min_input_size(body, in_channels)
            raise ValueError(
                f"image_size {image_size} is too small for {name}: its smallest input is "
                f"{smallest}x{smallest}; resize the images to at least that "
                f"(e.g. FashionMNIST(resize={smallest}))"
            ) from None
    return out[0].numel()


# -- Describing a network ------------------------------------------------------------------
class LayerShape(NamedTuple):
    name: str
    output_shape: tuple[int, ...]
    num_params: int


class LayerSummary(list):
    """Rows of ``layer_summary``; printing it gives a table."""

    def __str__(self) -> str:
        lines = [f"{'layer':<18}{'output shape':<22}{'parameters':>12}"]
        for row in self:
            lines.append(f"{row.name:<18}{str(row.output_shape):<22}{row.num_params:>12,}")
        lines.append(f"{'total':<40}{sum(r.num_params for r in self):>12,}")
        return "\n".join(lines)


@torch.no_grad()
def layer_summary(net: nn.Sequential, X_shape: tuple[int, ...]) -> LayerSummary:
    """Pass a zero batch of shape ``X_shape`` through the layers of ``net`` one at a time
    and record each layer's output shape and number of parameters (``num_params``: all of
    them, frozen ones included)."""
    if not isinstance(net, nn.Sequential):
        raise TypeError(
            f"net must be an nn.Sequential, got {type(net).__name__}; pass the model's "
            "Sequential (e.g. model.net)"
        )
    param = next(net.parameters(), None)
    X = torch.zeros(X_shape, device=param.device if param is not None else "cpu")
    rows = LayerSummary()
    was_training = net.training
    net.eval()
    try:
        for i, layer in enumerate(net):
            try:
                X = layer(X)
            except RuntimeError as exc:
                smallest = min_input_size(net, X_shape[1])
                raise ValueError(
                    f"layer {i} ({type(layer).__name__}) cannot take an input of shape "
                    f"{tuple(X.shape)}: {str(exc).splitlines()[0]}. The smallest input this "
                    f"network accepts is {smallest}x{smallest}"
                ) from None
            rows.append(LayerShape(type(layer).__name__, tuple(X.shape), num_params(layer)))
    finally:
        net.train(was_training)
    return rows


def num_params(net: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (scalars) of ``net``: all of them, frozen ones
    (``requires_grad=False``) included, as the model's size on disk counts them; with
    ``trainable_only=True``, only those the optimiser updates."""
    check_module("net", net)
    return sum(p.numel() for p in net.parameters() if p.requires_grad or not trainable_only)


# -- What the network modules share --------------------------------------------------------
class CNNClassifier(Classifier):
    """What the networks of chapter 8 share: ``self.net`` and a check of every input batch
    (training uses ``Module``'s default, SGD at ``self.lr``)."""

    in_channels = 1
    channels_last_on_cpu = True  # measured faster for all of them (see Module)
    image_size: tuple[int, int] | None = None  # fixed input size, or None for any size
    min_size = 1

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_images(X, self.in_channels, self.image_size, type(self).__name__, self.min_size)
        return self.net(X)  # (batch_size, num_classes): logits
