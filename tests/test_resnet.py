"""Tests of code/dlcourse/resnet.py: Residual, ResNeXtBlock, ResNet and ResNet18.

d2l 1.0.3 exports ``Residual`` and ``ResNeXtBlock`` (with lazy layers): copying their weights
into ours must give the same outputs. ResNet-18's shapes and parameter count are checked
against the layer formulas, computed independently here.
"""

import pytest
import torch
from cnn_checks import conv_params, loss_before_and_after
from torch import nn

import dlcourse


def bn_params(c):
    return 2 * c


def copy_lazy_weights(reference, ours, X):
    """Materialise the lazy reference with one pass on X, then copy its tensors into ours."""
    reference(X)
    with torch.no_grad():
        theirs, mine = reference.state_dict(), ours.state_dict()
        assert theirs.keys() == mine.keys()
        for key, value in theirs.items():
            mine[key].copy_(value)


@pytest.mark.parametrize(
    "make_ref, make_ours, shape",
    [
        (lambda d: d.Residual(3), lambda: dlcourse.Residual(3, 3), (4, 3, 6, 6)),
        (
            lambda d: d.Residual(6, use_1x1conv=True, strides=2),
            lambda: dlcourse.Residual(3, 6, use_1x1conv=True, strides=2),
            (4, 3, 7, 7),
        ),
        (
            lambda d: d.ResNeXtBlock(32, 16, 1),
            lambda: dlcourse.ResNeXtBlock(32, 32, 16, 1),
            (2, 32, 6, 6),
        ),
        (
            lambda d: d.ResNeXtBlock(16, 4, 0.5, use_1x1conv=True, strides=2),
            lambda: dlcourse.ResNeXtBlock(8, 16, 4, 0.5, use_1x1conv=True, strides=2),
            (2, 8, 5, 5),
        ),
    ],
    ids=["residual", "residual-1x1", "resnext", "resnext-1x1"],
)
def test_blocks_match_d2l(d2l, make_ref, make_ours, shape):
    X = torch.randn(shape)
    reference, ours = make_ref(d2l), make_ours()
    copy_lazy_weights(reference, ours, X)
    for mode in ("train", "eval"):
        getattr(reference, mode)()
        getattr(ours, mode)()
        torch.testing.assert_close(ours(X), reference(X))


def test_residual_shapes():
    X = torch.randn(4, 3, 6, 6)
    assert dlcourse.Residual(3, 3)(X).shape == (4, 3, 6, 6)
    assert dlcourse.Residual(3, 6, use_1x1conv=True, strides=2)(X).shape == (4, 6, 3, 3)
    odd = torch.randn(1, 3, 7, 7)  # padded stride 2: ceil(7 / 2) = 4
    assert dlcourse.Residual(3, 8, use_1x1conv=True, strides=2)(odd).shape == (1, 8, 4, 4)


def test_residual_with_zero_branch_is_relu_of_the_input():
    """With the second batch norm's scale at zero the branch adds nothing: output = relu(X)."""
    block = dlcourse.Residual(3, 3)
    nn.init.zeros_(block.bn2.weight)
    X = torch.randn(2, 3, 5, 5)
    torch.testing.assert_close(block(X), torch.relu(X))


def test_residual_refuses_a_shortcut_that_cannot_be_added():
    with pytest.raises(ValueError, match="pass use_1x1conv=True"):
        dlcourse.Residual(3, 6)
    with pytest.raises(ValueError, match="pass use_1x1conv=True"):
        dlcourse.Residual(3, 3, strides=2)
    with pytest.raises(ValueError, match="num_channels must be a positive integer"):
        dlcourse.Residual(3, 0, use_1x1conv=True)


def test_resnext_groups_is_the_group_width():
    block = dlcourse.ResNeXtBlock(32, 32, 16, 1)
    assert block.conv2.groups == 2  # 32 channels in groups of width 16
    assert block.conv2.weight.shape == (32, 16, 3, 3)
    with pytest.raises(ValueError, match="cannot be split into groups of width 5"):
        dlcourse.ResNeXtBlock(32, 32, 5, 1)
    with pytest.raises(ValueError, match="bot_mul must be a positive number"):
        dlcourse.ResNeXtBlock(32, 32, 16, 0)


def residual_params(c_in, c_out, use_1x1conv):
    total = conv_params(c_in, c_out, 3) + conv_params(c_out, c_out, 3) + 2 * bn_params(c_out)
    return total + (conv_params(c_in, c_out, 1) if use_1x1conv else 0)


def test_resnet18_stage_shapes_at_96_and_parameter_count():
    model = dlcourse.ResNet18()
    rows = dlcourse.layer_summary(model.net, (1, 1, 96, 96))
    assert [r.output_shape for r in rows] == [
        (1, 64, 24, 24),
        (1, 64, 24, 24),
        (1, 128, 12, 12),
        (1, 256, 6, 6),
        (1, 512, 3, 3),
        (1, 10),
    ]
    expected = conv_params(1, 64, 7) + bn_params(64)
    c_in = 64
    for i, c_out in enumerate((64, 128, 256, 512)):
        expected += residual_params(c_in, c_out, i > 0) + residual_params(c_out, c_out, False)
        c_in = c_out
    expected += 512 * 10 + 10
    assert dlcourse.num_params(model) == expected == 11_178_378
    weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert sum(m.kernel_size != (1, 1) for m in weighted if isinstance(m, nn.Conv2d)) + 1 == 18


def test_resnet_accepts_any_size_and_checks_its_input():
    model = dlcourse.ResNet(((1, 8), (1, 16)))
    assert model.min_size == 1
    model.eval()
    for n in (1, 5, 32):
        assert model(torch.zeros(2, 1, n, n)).shape == (2, 10)
    with pytest.raises(ValueError, match=r"expects a batch of shape \(batch_size, 1"):
        model(torch.zeros(2, 3, 32, 32))


def test_resnet_first_stage_may_change_the_width():
    model = dlcourse.ResNet(((1, 32), (1, 48)))
    assert model.net.b2[0].conv3 is not None  # 64 -> 32 channels need the 1x1 shortcut
    assert model.net.b2[0].conv1.stride == (1, 1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"arch": ((2, 0),)}, r"arch\[0\]\[1\] must be a positive integer, got 0"),
        ({"arch": ()}, "arch must be"),
        ({"arch": ((2, 8),), "lr": 0}, "lr must be a positive number"),
    ],
)
def test_resnet_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dlcourse.ResNet(**kwargs)


def test_smoke_a_few_steps_lower_the_loss():
    torch.manual_seed(0)
    X, y = torch.rand(16, 1, 16, 16), torch.arange(16) % 10
    model = dlcourse.ResNet(((1, 8), (1, 16)), lr=0.05)
    before, after = loss_before_and_after(model, X, y, steps=15)
    assert after < before
