"""Convolutional neural networks (chapter 7): cross-correlation, channels, pooling and LeNet.

``corr2d`` (7.2), ``corr2d_multi_in``, ``corr2d_multi_in_out`` and
``corr2d_multi_in_out_1x1`` (7.4) and ``pool2d`` (7.5) are the operations written out with
tensor slicing; ``Conv2D`` is a convolutional layer built on ``corr2d``; ``LeNet`` (7.6) is
the first CNN the book trains. ``init_cnn`` (Xavier), ``init_cnn_kaiming`` (He),
``layer_summary`` and ``min_input_size`` serve the CNNs of chapter 8 as well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

from .training import Classifier


# -- The operations, written out -----------------------------------------------------------
def _check_2d(name: str, T) -> None:
    if not isinstance(T, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor, got {type(T).__name__}; "
            "convert it with torch.as_tensor(...)"
        )
    if T.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D tensor (height, width), got shape {tuple(T.shape)}; "
            "select one channel, e.g. X[0, 0], or use corr2d_multi_in for channels"
        )


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2-D cross-correlation of ``X`` (h, w) with kernel ``K`` (kh, kw): (h-kh+1, w-kw+1).

    Instead of a loop over the output's h*w positions, it loops over the kernel's kh*kw
    entries: output = sum over (a, b) of K[a, b] times X shifted by (a, b). The result keeps
    the dtype of ``X`` and ``K`` (which must agree) and supports autograd.
    """
    _check_2d("X", X)
    _check_2d("K", K)
    h, w = K.shape
    if h > X.shape[0] or w > X.shape[1] or h == 0 or w == 0:
        raise ValueError(
            f"kernel {tuple(K.shape)} is larger than input {tuple(X.shape)} (or empty); "
            "pad the input or use a smaller kernel"
        )
    if X.dtype != K.dtype:
        raise TypeError(
            f"X and K must have the same dtype, got {X.dtype} and {K.dtype}; "
            "convert one of them, e.g. K.to(X.dtype)"
        )
    out_h, out_w = X.shape[0] - h + 1, X.shape[1] - w + 1
    Y = torch.zeros((out_h, out_w), dtype=X.dtype, device=X.device)
    for a in range(h):
        for b in range(w):
            Y = Y + K[a, b] * X[a : a + out_h, b : b + out_w]  # one shifted copy of X
    return Y


class Conv2D(nn.Module):
    """A convolutional layer from scratch (section 7.2): ``corr2d(x, weight) + bias``."""

    def __init__(self, kernel_size: tuple[int, int]):
        super().__init__()
        if isinstance(kernel_size, int):
            kernel_size = (kernel_size, kernel_size)
        if len(kernel_size) != 2 or not all(isinstance(k, int) and k > 0 for k in kernel_size):
            raise ValueError(
                f"kernel_size must be two positive ints (height, width), got {kernel_size!r}"
            )
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return corr2d(x, self.weight) + self.bias


def _check_channels(X, K, k_ndim: int) -> None:
    names = {3: "(c_i, kh, kw)", 4: "(c_o, c_i, kh, kw)"}
    if not isinstance(X, torch.Tensor) or X.ndim != 3:
        shape = tuple(X.shape) if isinstance(X, torch.Tensor) else type(X).__name__
        raise ValueError(f"X must be a 3-D tensor (c_i, h, w), got {shape}")
    if not isinstance(K, torch.Tensor) or K.ndim != k_ndim:
        shape = tuple(K.shape) if isinstance(K, torch.Tensor) else type(K).__name__
        raise ValueError(f"K must be a {k_ndim}-D tensor {names[k_ndim]}, got {shape}")
    if K.shape[-3] != X.shape[0]:
        raise ValueError(
            f"K has {K.shape[-3]} input channels but X has {X.shape[0]} "
            f"(K {tuple(K.shape)}, X {tuple(X.shape)}); they must match"
        )


def corr2d_multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlate each of the c_i channels of X with its own kernel and sum the results.

    X: (c_i, h, w), K: (c_i, kh, kw) -> (h-kh+1, w-kw+1).
    """
    _check_channels(X, K, 3)
    return sum(corr2d(x, k) for x, k in zip(X, K, strict=True))


def corr2d_multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """One multi-input cross-correlation per output channel, stacked.

    X: (c_i, h, w), K: (c_o, c_i, kh, kw) -> (c_o, h-kh+1, w-kw+1).
    """
    _check_channels(X, K, 4)
    return torch.stack([corr2d_multi_in(X, k) for k in K])


def corr2d_multi_in_out_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """A 1x1 convolution as one matrix product: every pixel's c_i values times a (c_o, c_i)
    matrix. X: (c_i, h, w), K: (c_o, c_i, 1, 1) -> (c_o, h, w)."""
    _check_channels(X, K, 4)
    if K.shape[-2:] != (1, 1):
        raise ValueError(f"K must hold 1x1 kernels, got shape {tuple(K.shape)}")
    c_i, h, w = X.shape
    Y = K.reshape(K.shape[0], c_i) @ X.reshape(c_i, h * w)  # (c_o, c_i) @ (c_i, h*w)
    return Y.reshape(K.shape[0], h, w)


def pool2d(X: torch.Tensor, pool_size: tuple[int, int], mode: str = "max") -> torch.Tensor:
    """Max or average pooling of ``X`` (h, w) with a window of ``pool_size`` and stride 1.

    Like ``corr2d`` it loops over the window's offsets, not over the output positions:
    the ph*pw shifted copies of X are stacked and reduced along the new first axis.
    """
    _check_2d("X", X)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    if isinstance(pool_size, int):
        pool_size = (pool_size, pool_size)
    p_h, p_w = pool_size
    if not 0 < p_h <= X.shape[0] or not 0 < p_w <= X.shape[1]:
        raise ValueError(
            f"pool_size {tuple(pool_size)} does not fit in input {tuple(X.shape)}; "
            "use a smaller window"
        )
    out_h, out_w = X.shape[0] - p_h + 1, X.shape[1] - p_w + 1
    windows = torch.stack(
        [X[a : a + out_h, b : b + out_w] for a in range(p_h) for b in range(p_w)]
    )  # (p_h * p_w, out_h, out_w)
    if mode == "max":
        return windows.amax(dim=0)
    if not windows.is_floating_point():
        windows = windows.float()  # the mean of integers is not an integer
    return windows.mean(dim=0)


# -- Helpers for CNN classifiers -----------------------------------------------------------
def init_cnn(module: nn.Module) -> None:
    """Xavier-uniform weights for every convolutional and linear layer; use ``net.apply``.

    A lazy layer (``nn.LazyConv2d``, ``nn.LazyLinear``) has no weight until its first
    forward pass; rather than skip it silently, this raises, so an initialisation can
    never fail to happen unnoticed.
    """
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
    """
    if isinstance(module, nn.modules.lazy.LazyModuleMixin) and module.has_uninitialized_params():
        init_cnn(module)  # raises the same error
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


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


def _check_image_size(image_size) -> tuple[int, int]:
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    image_size = tuple(image_size)
    if len(image_size) != 2 or not all(isinstance(s, int) and s > 0 for s in image_size):
        raise ValueError(
            f"image_size must be a positive int or (height, width), got {image_size!r}"
        )
    return image_size


def check_input(
    X: torch.Tensor,
    in_channels: int,
    image_size: tuple[int, int] | None,
    name: str,
    min_size: int = 1,
) -> None:
    """Raise a ValueError that says what to change when a batch does not fit a CNN."""
    if X.ndim != 4 or X.shape[1] != in_channels:
        raise ValueError(
            f"{name} expects a batch of shape (batch_size, {in_channels}, height, width), "
            f"got {tuple(X.shape)}"
        )
    if image_size is not None and tuple(X.shape[-2:]) != image_size:
        raise ValueError(
            f"this {name} was built for {image_size[0]}x{image_size[1]} images, got "
            f"{X.shape[-2]}x{X.shape[-1]}; build it with image_size={tuple(X.shape[-2:])} "
            "or resize the data"
        )
    if min(X.shape[-2:]) < min_size:
        raise ValueError(
            f"{X.shape[-2]}x{X.shape[-1]} images are too small for {name}: its smallest "
            f"input is {min_size}x{min_size}; resize the data"
        )


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
    and record each layer's output shape and number of parameters."""
    if not isinstance(net, nn.Sequential):
        raise TypeError(f"layer_summary needs an nn.Sequential, got {type(net).__name__}")
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
            num_params = sum(p.numel() for p in layer.parameters())
            rows.append(LayerShape(type(layer).__name__, tuple(X.shape), num_params))
    finally:
        net.train(was_training)
    return rows


def num_params(net: nn.Module) -> int:
    """Number of trainable parameters (scalars) of ``net``."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


# -- LeNet (section 7.6) -------------------------------------------------------------------
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
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        self.lr, self.image_size = lr, _check_image_size(image_size)

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
        check_input(X, 1, self.image_size, "LeNet")
        return self.net(X)  # (batch_size, num_classes): logits

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)
