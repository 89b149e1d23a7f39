"""Tests of code/dlcourse/googlenet.py: the Inception block and GoogLeNet.

d2l 1.0.3's package does not export this network, so shapes and parameter counts are
checked against the layer formulas of chapter 7, computed independently here. The large
networks are built on PyTorch's "meta" device, which tracks shapes but stores no numbers.
"""

import math

import pytest
import torch
from cnn_checks import conv_params, linear_params, loss_before_and_after
from torch import nn

import dlcourse


def test_inception_concatenates_four_paths_of_the_input_size():
    block = dlcourse.Inception(192, 64, (96, 128), (16, 32), 32)
    X = torch.randn(2, 192, 7, 5)
    Y = block(X)
    assert block.out_channels == 256 and Y.shape == (2, 256, 7, 5)
    torch.testing.assert_close(Y[:, :64], block.b1(X))  # path 1 first, path 4 last
    torch.testing.assert_close(Y[:, -32:], block.b4(X))
    expected = (
        conv_params(192, 64, 1)
        + conv_params(192, 96, 1)
        + conv_params(96, 128, 3)
        + conv_params(192, 16, 1)
        + conv_params(16, 32, 5)
        + conv_params(192, 32, 1)
    )
    assert dlcourse.num_params(block) == expected


def test_googlenet_stage_shapes_at_96_and_parameter_count():
    model = dlcourse.GoogLeNet()
    rows = dlcourse.layer_summary(model.net, (1, 1, 96, 96))
    assert [r.output_shape for r in rows] == [
        (1, 64, 24, 24),
        (1, 192, 12, 12),
        (1, 480, 6, 6),
        (1, 832, 3, 3),
        (1, 1024),
        (1, 10),
    ]
    channels = [
        (192, 256),
        (256, 480),
        (480, 512),
        (512, 512),
        (512, 512),
        (512, 528),
        (528, 832),
        (832, 832),
        (832, 1024),
    ]
    inceptions = [m for m in model.modules() if isinstance(m, dlcourse.Inception)]
    assert [(b.b1[0].in_channels, b.out_channels) for b in inceptions] == channels
    stem = conv_params(1, 64, 7) + conv_params(64, 64, 1) + conv_params(64, 192, 3)
    blocks = sum(dlcourse.num_params(b) for b in inceptions)
    assert dlcourse.num_params(model) == stem + blocks + linear_params(1024, 10) == 5_977_530


def test_googlenet_accepts_any_size_down_to_one_pixel():
    """Every stride-2 layer pads, so even a 1x1 image passes (min_size is 1)."""
    model = dlcourse.GoogLeNet()
    assert model.min_size == 1
    model.eval()
    for n in (1, 2, 17, 32):
        assert model(torch.zeros(1, 1, n, n)).shape == (1, 10)
    with pytest.raises(ValueError, match=r"expects a batch of shape \(batch_size, 1"):
        model(torch.zeros(1, 3, 32, 32))


def test_googlenet_is_initialised_by_its_constructor():
    torch.manual_seed(0)
    model = dlcourse.GoogLeNet()
    for layer in model.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)) and layer.weight.numel() > 1000:
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
            assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.15)


def test_smoke_a_few_steps_lower_the_loss():
    """Fitting one fixed batch: the loss after some steps is below the first one."""
    X, y = torch.rand(16, 1, 16, 16), torch.arange(16) % 10
    model = dlcourse.GoogLeNet(lr=0.05)
    before, after = loss_before_and_after(model, X, y, steps=12)
    assert after < before


def test_bad_hyperparameters_are_rejected():
    with pytest.raises(ValueError, match="lr must be a positive number|num_classes must be"):
        dlcourse.GoogLeNet(num_classes=1)
