"""Tests of code/dlcourse/regnet.py: AnyNet and RegNetX32.

d2l 1.0.3 exports ``ResNeXtBlock`` but not AnyNet; RegNetX-32's shapes are those the
textbook prints, and its parameter count is summed from the block formulas here.
"""

import pytest
import torch
from cnn_checks import conv_params, loss_before_and_after
from torch import nn

import dlcourse


def resnext_params(c_in, c, group_width, bot_mul, use_1x1conv):
    b = int(round(c * bot_mul))
    total = conv_params(c_in, b, 1) + conv_params(b, b, 3, b // group_width)
    total += conv_params(b, c, 1) + 2 * (b + b + c)
    if use_1x1conv:
        total += conv_params(c_in, c, 1) + 2 * c
    return total


def test_regnetx32_shapes_at_96_as_printed_by_the_textbook():
    rows = dlcourse.layer_summary(dlcourse.RegNetX32().net, (1, 1, 96, 96))
    assert [r.output_shape for r in rows] == [
        (1, 32, 48, 48),
        (1, 32, 24, 24),
        (1, 80, 12, 12),
        (1, 10),
    ]


def test_regnetx32_parameter_count():
    model = dlcourse.RegNetX32()
    expected = conv_params(1, 32, 3) + 2 * 32
    c_in = 32
    for depth, c in ((4, 32), (6, 80)):
        expected += resnext_params(c_in, c, 16, 1, True)
        expected += (depth - 1) * resnext_params(c, c, 16, 1, False)
        c_in = c
    expected += 80 * 10 + 10
    assert dlcourse.num_params(model) == expected == 179_290
    assert [b.conv2.groups for b in model.net.stage2] == [5] * 6  # 80 channels / width 16


def test_anynet_stage_and_block_structure():
    model = dlcourse.AnyNet(((1, 8, 4, 0.5), (2, 16, 8, 1)), stem_channels=4)
    assert [name for name, _ in model.net.named_children()] == ["stem", "stage1", "stage2", "head"]
    first, second = model.net.stage2
    assert first.conv4 is not None and first.conv2.stride == (2, 2)
    assert second.conv4 is None and second.conv2.stride == (1, 1)
    assert model.net.stage1[0].bot_channels == 4
    model.eval()
    for n in (1, 7, 32):
        assert model(torch.zeros(2, 1, n, n)).shape == (2, 10)
    assert model.min_size == 1


def test_anynet_is_initialised_with_he():
    torch.manual_seed(0)
    model = dlcourse.RegNetX32()
    conv = model.net.stage2[1].conv1  # 80 -> 80, 1x1
    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(conv.weight)
    assert conv.weight.std().item() == pytest.approx((2 / fan_in) ** 0.5, rel=0.1)


@pytest.mark.parametrize(
    "arch, match",
    [
        ((), "arch must be"),
        (((2, 16, 8),), "arch must be"),
        (((2, 16, 0, 1),), r"arch\[0\] groups must be a positive integer, got 0"),
        (((2, 16, 5, 1),), "cannot be split into groups of width 5"),
    ],
)
def test_anynet_rejects_bad_arch(arch, match):
    with pytest.raises(ValueError, match=match):
        dlcourse.AnyNet(arch, stem_channels=8)


def test_smoke_a_few_steps_lower_the_loss():
    torch.manual_seed(0)
    X, y = torch.rand(16, 1, 16, 16), torch.arange(16) % 10
    model = dlcourse.AnyNet(((1, 16, 8, 1), (1, 32, 8, 1)), stem_channels=8, lr=0.05)
    before, after = loss_before_and_after(model, X, y, steps=15)
    assert after < before
