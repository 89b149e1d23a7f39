"""Tests of code/dlcourse/densenet.py: conv_block, DenseBlock, transition_block, DenseNet.

d2l 1.0.3's package does not export these, so the concatenation is checked by hand, and
shapes and parameter counts against the layer formulas, computed independently here.
"""

import pytest
import torch
from cnn_checks import conv_params, loss_before_and_after
from torch import nn

import dlcourse


def test_conv_block_is_bn_relu_conv():
    block = dlcourse.conv_block(3, 10)
    assert [type(m) for m in block] == [nn.BatchNorm2d, nn.ReLU, nn.Conv2d]
    block.eval()
    X = torch.randn(2, 3, 5, 5)
    expected = nn.functional.conv2d(
        torch.relu(block[0](X)), block[2].weight, block[2].bias, padding=1
    )
    torch.testing.assert_close(block(X), expected)


def test_dense_block_concatenates_input_and_every_output():
    block = dlcourse.DenseBlock(2, 3, 10)
    X = torch.randn(4, 3, 8, 8)
    Y = block(X)
    assert block.out_channels == 23 and Y.shape == (4, 23, 8, 8)
    block.eval()
    Y = block(X)
    torch.testing.assert_close(Y[:, :3], X)  # the input passes through unchanged
    first = block.net[0](X)
    torch.testing.assert_close(Y[:, 3:13], first)
    torch.testing.assert_close(Y[:, 13:], block.net[1](torch.cat((X, first), dim=1)))
    assert [b[2].in_channels for b in block.net] == [3, 13]


def test_transition_block_halves_size_and_sets_channels():
    block = dlcourse.transition_block(23, 10)
    assert block(torch.randn(4, 23, 8, 8)).shape == (4, 10, 4, 4)
    assert block(torch.randn(1, 23, 5, 5)).shape == (1, 10, 2, 2)  # floor(5 / 2)


def test_densenet_shapes_at_96_and_parameter_count():
    model = dlcourse.DenseNet()
    rows = dlcourse.layer_summary(model.net, (1, 1, 96, 96))
    assert [r.output_shape for r in rows] == [
        (1, 64, 24, 24),
        (1, 192, 24, 24),
        (1, 96, 12, 12),
        (1, 224, 12, 12),
        (1, 112, 6, 6),
        (1, 240, 6, 6),
        (1, 120, 3, 3),
        (1, 248, 3, 3),
        (1, 10),
    ]
    assert model.channels == [192, 224, 240, 248]
    expected, c = conv_params(1, 64, 7) + 2 * 64, 64
    for i in range(4):
        for _ in range(4):
            expected += 2 * c + conv_params(c, 32, 3)
            c += 32
        if i < 3:
            expected += 2 * c + conv_params(c, c // 2, 1)
            c //= 2
    expected += 2 * c + c * 10 + 10
    assert dlcourse.num_params(model) == expected == 758_226


def test_densenet_smallest_input_is_29():
    model = dlcourse.DenseNet(arch=(1, 1, 1, 1), growth_rate=4, num_channels=8)
    assert model.min_size == 29
    model.eval()
    assert model(torch.zeros(1, 1, 29, 29)).shape == (1, 10)
    with pytest.raises(ValueError, match="too small for DenseNet: its smallest input is 29x29"):
        model(torch.zeros(1, 1, 28, 28))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: dlcourse.DenseNet(arch=()), r"arch must hold at least one dense block, got \(\)"),
        (lambda: dlcourse.DenseNet(arch=(4, 0)), r"arch\[1\] must be a positive integer, got 0"),
        (lambda: dlcourse.DenseNet(growth_rate=0), "growth_rate must be a positive integer"),
        (lambda: dlcourse.DenseBlock(2, 3, -1), "num_channels must be a positive integer"),
        (lambda: dlcourse.transition_block(0, 4), "in_channels must be a positive integer"),
        (lambda: dlcourse.DenseNet(num_classes=1), "num_classes must be"),
    ],
)
def test_bad_arguments_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_smoke_a_few_steps_lower_the_loss():
    torch.manual_seed(0)
    X, y = torch.rand(16, 1, 32, 32), torch.arange(16) % 10
    model = dlcourse.DenseNet(num_channels=16, growth_rate=8, arch=(2, 2), lr=0.05)
    before, after = loss_before_and_after(model, X, y, steps=15)
    assert after < before
