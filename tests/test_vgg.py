"""Tests of code/dlcourse/vgg.py: vgg_block and VGG (VGG-11 and the textbook's narrow one).

d2l 1.0.3's package does not export this network, so shapes and parameter counts are
checked against the layer formulas of chapter 7, computed independently here. The large
networks are built on PyTorch's "meta" device, which tracks shapes but stores no numbers.
"""

import math

import pytest
import torch
from cnn_checks import conv_params, linear_params, loss_before_and_after, on_meta
from torch import nn

import dlcourse


def test_vgg_block_keeps_size_through_convs_and_halves_it_at_the_end():
    block = dlcourse.vgg_block(2, 3, 8)
    assert block(torch.zeros(1, 3, 10, 12)).shape == (1, 8, 5, 6)
    assert sum(isinstance(m, nn.Conv2d) for m in block) == 2


def test_vgg11_parameter_count_and_shapes():
    model = on_meta(dlcourse.VGG)
    convs, c_in = 0, 1
    for num_convs, c_out in dlcourse.vgg.VGG11_ARCH:
        for _ in range(num_convs):
            convs += conv_params(c_in, c_out, 3)
            c_in = c_out
    dense = linear_params(512 * 7 * 7, 4096) + linear_params(4096, 4096) + linear_params(4096, 10)
    assert dlcourse.num_params(model) == convs + dense == 128_806_154
    rows = dlcourse.layer_summary(model.net, (1, 1, 224, 224))
    assert [r.output_shape for r in rows[:5]] == [
        (1, 64, 112, 112),
        (1, 128, 56, 56),
        (1, 256, 28, 28),
        (1, 512, 14, 14),
        (1, 512, 7, 7),
    ]
    assert model.min_size == 32


def test_narrow_vgg11_of_the_textbook_parameter_count_and_shapes():
    """d2l trains VGG-11 with every block's channels divided by 4 (section 8.2)."""
    arch = ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))
    model = on_meta(lambda: dlcourse.VGG(arch=arch, lr=0.01, image_size=224))
    convs, c_in = 0, 1
    for num_convs, c_out in arch:
        for _ in range(num_convs):
            convs += conv_params(c_in, c_out, 3)
            c_in = c_out
    dense = linear_params(128 * 7 * 7, 4096) + linear_params(4096, 4096) + linear_params(4096, 10)
    assert dlcourse.num_params(model) == convs + dense
    rows = dlcourse.layer_summary(model.net, (1, 1, 224, 224))
    assert [r.output_shape for r in rows[:6]] == [
        (1, 16, 112, 112),
        (1, 32, 56, 56),
        (1, 64, 28, 28),
        (1, 128, 14, 14),
        (1, 128, 7, 7),
        (1, 6272),
    ]
    small = dlcourse.VGG(arch=arch, lr=0.01, image_size=32)  # the quick profile's size
    assert small.net[6].in_features == 128 and small(torch.zeros(2, 1, 32, 32)).shape == (2, 10)


def test_vgg_rejects_a_bad_arch():
    with pytest.raises(ValueError, match=r"arch\[0\]\[1\] must be a positive integer, got 0"):
        dlcourse.VGG(arch=((1, 0),), image_size=32)
    with pytest.raises(ValueError, match=r"arch must be .* pairs, got \(\(1, 2, 3\),\)"):
        dlcourse.VGG(arch=((1, 2, 3),), image_size=32)


def test_vgg_is_initialised_by_its_constructor():
    torch.manual_seed(0)
    model = dlcourse.VGG(arch=((1, 8), (1, 16)), image_size=16)
    for layer in model.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)) and layer.weight.numel() > 1000:
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
            assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.15)


def test_smoke_a_few_steps_lower_the_loss():
    """Fitting one fixed batch: the loss after some steps is below the first one."""
    X, y = torch.rand(16, 1, 16, 16), torch.arange(16) % 10
    model = dlcourse.VGG(arch=((1, 8), (1, 16)), lr=0.05, image_size=16)
    before, after = loss_before_and_after(model, X, y, steps=12)
    assert after < before
