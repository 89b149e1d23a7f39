"""Tests of code/dlcourse/alexnet.py: AlexNet's shapes, parameters, checks and He weights.

d2l 1.0.3's package does not export this network, so shapes and parameter counts are
checked against the layer formulas of chapter 7, computed independently here. The large
networks are built on PyTorch's "meta" device, which tracks shapes but stores no numbers.
"""

import math

import pytest
import torch
from cnn_checks import conv_params, linear_params, loss_before_and_after, on_meta, out_size
from torch import nn

import dlcourse


def test_alexnet_shapes_at_224():
    rows = dlcourse.layer_summary(on_meta(dlcourse.AlexNet).net, (1, 1, 224, 224))
    n = out_size(224, 11, 4, 1)  # 54
    expected = {0: (1, 96, n, n), 2: (1, 96, out_size(n, 3, 2), out_size(n, 3, 2))}
    n = out_size(out_size(n, 3, 2), 3, 2)  # 12 after the second pooling
    expected[5] = (1, 256, n, n)
    expected[12] = (1, 256, out_size(n, 3, 2), out_size(n, 3, 2))  # (1, 256, 5, 5)
    expected[13] = (1, 6400)
    expected[20] = (1, 10)
    for i, shape in expected.items():
        assert rows[i].output_shape == shape, (i, rows[i])


def test_alexnet_parameter_count():
    model = on_meta(dlcourse.AlexNet)
    convs = (
        conv_params(1, 96, 11)
        + conv_params(96, 256, 5)
        + conv_params(256, 384, 3)
        + conv_params(384, 384, 3)
        + conv_params(384, 256, 3)
    )
    dense = linear_params(6400, 4096) + linear_params(4096, 4096) + linear_params(4096, 10)
    assert dlcourse.num_params(model) == convs + dense == 46_764_746


def test_alexnet_smallest_image_is_65_and_the_error_says_so():
    assert on_meta(lambda: dlcourse.AlexNet(image_size=65)).min_size == 65
    with pytest.raises(
        ValueError,
        match=r"image_size \(64, 64\) is too small for AlexNet: "
        r"its smallest input is 65x65",
    ):
        on_meta(lambda: dlcourse.AlexNet(image_size=64))


def test_alexnet_rejects_another_image_size_at_forward():
    model = dlcourse.AlexNet(image_size=65)
    with pytest.raises(ValueError, match=r"built for 65x65 images, got 96x96.*image_size="):
        model(torch.zeros(1, 1, 96, 96))


def test_alexnet_weights_are_initialised_in_the_constructor():
    """d2l 1.0.3 applies init_cnn to lazy layers, which silently keeps PyTorch's default
    initialisation; here every layer exists, so the weights are He-normal and biases zero."""
    model = dlcourse.AlexNet(image_size=65)
    layers = [m for m in model.net if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == 8
    for layer in layers:
        fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
        assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.1)
        assert torch.count_nonzero(layer.bias) == 0
    # PyTorch's default (uniform on +-1/sqrt(fan_in)) has a std of 1/sqrt(3 fan_in),
    # 2.4 times smaller: the check above tells the two apart
    first = layers[0]
    assert first.weight.std().item() > 2 / math.sqrt(3 * 121)


def test_smoke_a_few_steps_lower_the_loss():
    """Fitting one fixed batch: the loss after some steps is below the first one."""
    X, y = torch.rand(16, 1, 65, 65), torch.arange(16) % 10
    model = dlcourse.AlexNet(lr=0.02, image_size=65)
    before, after = loss_before_and_after(model, X, y, steps=12)
    assert after < before


def test_bad_hyperparameters_are_rejected():
    with pytest.raises(ValueError, match="lr must be a positive number|num_classes must be"):
        dlcourse.AlexNet(lr=-1, image_size=65)
