"""Tests of code/dlcourse/nin.py: nin_block and NiN (shapes, parameters, smallest input).

d2l 1.0.3's package does not export this network, so shapes and parameter counts are
checked against the layer formulas of chapter 7, computed independently here. The large
networks are built on PyTorch's "meta" device, which tracks shapes but stores no numbers.
"""

import math

import pytest
import torch
from cnn_checks import conv_params, loss_before_and_after, on_meta
from torch import nn

import dlcourse


def test_nin_parameter_count_and_shapes():
    model = on_meta(dlcourse.NiN)

    def nin(c_in, c_out, k):
        return conv_params(c_in, c_out, k) + 2 * conv_params(c_out, c_out, 1)

    expected = nin(1, 96, 11) + nin(96, 256, 5) + nin(256, 384, 3) + nin(384, 10, 3)
    assert dlcourse.num_params(model) == expected == 1_992_166
    rows = dlcourse.layer_summary(model.net, (1, 1, 224, 224))
    assert [r.output_shape for r in rows] == [
        (1, 96, 54, 54),
        (1, 96, 26, 26),
        (1, 256, 26, 26),
        (1, 256, 12, 12),
        (1, 384, 12, 12),
        (1, 384, 5, 5),
        (1, 384, 5, 5),
        (1, 10, 5, 5),
        (1, 10, 1, 1),
        (1, 10),
    ]


def test_nin_too_small_input_names_the_smallest_size():
    model = dlcourse.NiN()
    assert model.min_size == 67
    assert model(torch.zeros(2, 1, 67, 67)).shape == (2, 10)
    with pytest.raises(
        ValueError,
        match=r"66x66 images are too small for NiN: its smallest "
        r"input is 67x67",
    ):
        model(torch.zeros(2, 1, 66, 66))


def test_nin_is_initialised_by_its_constructor():
    torch.manual_seed(0)
    model = dlcourse.NiN()
    for layer in model.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)) and layer.weight.numel() > 1000:
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
            assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.15)


def test_smoke_a_few_steps_lower_the_loss():
    """Fitting one fixed batch: the loss after some steps is below the first one."""
    X, y = torch.rand(16, 1, 67, 67), torch.arange(16) % 10
    model = dlcourse.NiN(lr=0.05)
    before, after = loss_before_and_after(model, X, y, steps=12)
    assert after < before
