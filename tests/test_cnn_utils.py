"""Tests of code/dlcourse/cnn_utils.py: init_cnn and init_cnn_kaiming (and the d2l defect
they avoid), min_input_size, layer_summary and num_params."""

import math

import pytest
import torch
from torch import nn

import dlcourse
from dlcourse import cnn_utils


# -- init_cnn: the d2l defect --------------------------------------------------------------
def test_d2l_init_cnn_silently_skips_lazy_layers(d2l):
    """The defect: applied before the first forward pass, d2l's init_cnn does nothing."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.LazyConv2d(6, kernel_size=5), nn.Flatten(), nn.LazyLinear(10))
    net.apply(d2l.init_cnn)  # no error ...
    net(torch.zeros(1, 1, 28, 28))
    fan_in, fan_out = 25, 6 * 25
    xavier_bound = math.sqrt(6 / (fan_in + fan_out))
    default_bound = 1 / math.sqrt(fan_in)
    # ... and the weights are PyTorch's defaults, wider than Xavier's
    assert net[0].weight.abs().max() > xavier_bound
    assert net[0].weight.abs().max() <= default_bound


def test_init_cnn_refuses_lazy_layers_instead_of_skipping_them():
    net = nn.Sequential(nn.LazyConv2d(6, kernel_size=5), nn.ReLU())
    with pytest.raises(ValueError, match="LazyConv2d has no weights yet"):
        net.apply(dlcourse.init_cnn)


def test_init_cnn_kaiming_refuses_lazy_layers():
    with pytest.raises(ValueError, match="LazyLinear has no weights yet"):
        nn.Sequential(nn.LazyLinear(4)).apply(dlcourse.init_cnn_kaiming)


# -- min_input_size and layer_summary's error ----------------------------------------------
def test_min_input_size_is_the_smallest_size_that_runs():
    net = nn.Sequential(
        nn.Conv2d(1, 2, 5), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3), nn.Flatten(), nn.LazyLinear(3)
    )
    n = dlcourse.min_input_size(net)
    assert n == 10  # 5x5 conv: 10 -> 6, pooling: 6 -> 3, 3x3 conv: 3 -> 1
    assert cnn_utils._runs(net[:3], 1, n) and not cnn_utils._runs(net[:3], 1, n - 1)


def test_layer_summary_names_the_layer_and_the_smallest_input():
    net = dlcourse.LeNet().net
    with pytest.raises(
        ValueError,
        match=r"layer 3 \(Conv2d\).*smallest input this network "
        r"accepts is 12x12",
    ):
        dlcourse.layer_summary(net, (1, 1, 8, 8))


# -- layer_summary and num_params: one parameter count -------------------------------------
def test_layer_summary_prints_a_table():
    text = str(dlcourse.layer_summary(dlcourse.LeNet().net, (1, 1, 28, 28)))
    assert "Conv2d" in text and "(1, 16, 10, 10)" in text and "61,706" in text


def frozen_net():
    """A small network whose first convolution is frozen (requires_grad=False)."""
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
    net[0].requires_grad_(False)
    return net


def test_num_params_counts_frozen_parameters_unless_trainable_only():
    net = frozen_net()
    conv, linear = 1 * 4 * 3 * 3 + 4, 4 * 6 * 6 * 10 + 10
    assert dlcourse.num_params(net) == conv + linear
    assert dlcourse.num_params(net, trainable_only=True) == linear
    assert dlcourse.num_params(net[0], trainable_only=True) == 0


def test_layer_summary_and_num_params_agree_on_a_frozen_layer():
    net = frozen_net()
    rows = dlcourse.layer_summary(net, (1, 1, 8, 8))
    assert [r.num_params for r in rows] == [dlcourse.num_params(layer) for layer in net]
    assert sum(r.num_params for r in rows) == dlcourse.num_params(net)
    assert str(rows).splitlines()[-1].endswith(f"{dlcourse.num_params(net):,}")


def test_layer_summary_table_format():
    """The exact layout that the pages print (and compare)."""
    rows = dlcourse.layer_summary(frozen_net(), (1, 1, 8, 8))
    assert str(rows).splitlines() == [
        "layer             output shape            parameters",
        "Conv2d            (1, 4, 6, 6)                    40",
        "ReLU              (1, 4, 6, 6)                     0",
        "Flatten           (1, 144)                         0",
        "Linear            (1, 10)                      1,450",
        "total                                          1,490",
    ]
