"""Bad arguments to every public function and class of dlcourse (``dlcourse.__all__``).

One rule for the whole package (``dlcourse/_checks.py``): a value of the wrong type raises
``TypeError``, a value of the right type outside its range raises ``ValueError``, and the
message names the bad value (its repr; for a tensor, its dtype or shape). The table below
holds at least one bad call per public name that takes arguments, and a test makes sure no
public name is left out of it.
"""

import inspect
import types

import pytest
import torch
from torch import nn

import dlcourse
import dlcourse as d

T = torch.ones
INT = torch.arange(4).reshape(2, 2)  # an integer tensor where floats are needed


def case(name, call, error, shown):
    """``call()`` must raise ``error`` with ``shown`` (the bad value) in its message."""
    return pytest.param(name, call, error, shown, id=f"{name}-{error.__name__}-{shown}")


def bad(error, shown, function, *args, **kwargs):
    """A case calling the public ``function`` with ``args`` and ``kwargs``."""
    return case(function.__name__, lambda: function(*args, **kwargs), error, shown)


class _House:
    """What k_fold_data needs of a KaggleHouse: a training table and a batch size."""

    def __init__(self):
        import pandas as pd

        self.train = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "SalePrice": [1.0] * 4})
        self.batch_size = 2


HOUSE = _House()


CASES = [
    bad(ValueError, "0", d.AlexNet, lr=0),
    bad(TypeError, "'224'", d.AlexNet, image_size="224"),
    bad(ValueError, "0", d.AnyNet, [(1, 8, 4, 1)], stem_channels=0),
    bad(ValueError, "-1.0", d.AnyNet, [(1, 8, 4, -1.0)], 8),
    bad(TypeError, "1.5", d.AnyNet, [(1.5, 8, 4, 1)], 8),
    bad(TypeError, "[1.0]", d.batch_norm, [1.0], *[T(1)] * 4),
    bad(ValueError, "0", d.batch_norm, T(2, 3), *[T(1, 3)] * 4, eps=0),
    bad(ValueError, "0", d.BatchNorm, 0, num_dims=2),
    bad(TypeError, "None", d.BatchNorm, 3, num_dims=2, momentum=None),
    bad(ValueError, "1.5", d.BatchNorm, 3, num_dims=2, momentum=1.5),
    bad(ValueError, "-1", d.BNLeNet, lr=-1),
    bad(ValueError, "1", d.BNLeNetScratch, num_classes=1),
    bad(TypeError, "'yes'", d.check_environment, "yes"),
    bad(TypeError, "torch.int64", d.check_grad, torch.sum, INT),
    bad(ValueError, "-1", d.check_grad, torch.sum, T(2), rtol=-1),
    bad(ValueError, "(0, 2)", d.Conv2D, (0, 2)),
    bad(TypeError, "2.5", d.Conv2D, 2.5),
    bad(ValueError, "0", d.conv_block, 0, 8),
    bad(TypeError, "[[1.0]]", d.corr2d, [[1.0]], T(1, 1)),
    bad(ValueError, "(3,)", d.corr2d, T(3), T(1, 1)),
    bad(TypeError, "[[1.0]]", d.corr2d_multi_in, [[1.0]], T(1, 1, 1)),
    bad(ValueError, "(3, 3)", d.corr2d_multi_in, T(3, 3), T(1, 1, 1)),
    bad(TypeError, "'K'", d.corr2d_multi_in_out, T(1, 3, 3), "K"),
    bad(ValueError, "(1, 1, 1)", d.corr2d_multi_in_out, T(1, 3, 3), T(1, 1, 1)),
    bad(TypeError, "None", d.corr2d_multi_in_out_1x1, None, T(1, 1, 1, 1)),
    bad(ValueError, "(1, 1, 2, 2)", d.corr2d_multi_in_out_1x1, T(1, 3, 3), T(1, 1, 2, 2)),
    bad(TypeError, "torch.float32", d.cross_entropy, INT.float().softmax(1), T(2)),
    bad(ValueError, "5", d.cross_entropy, T(2, 2) / 2, torch.tensor([0, 5])),
    bad(ValueError, "0", d.DataModule, batch_size=0),
    bad(TypeError, "'32'", d.DataModule, batch_size="32"),
    bad(ValueError, "-4", d.DenseBlock, 2, 3, -4),
    bad(ValueError, "0", d.DenseNet, arch=(2, 0)),
    bad(TypeError, "2.0", d.DenseNet, growth_rate=2.0),
    bad(TypeError, "[0.5]", d.derivative, torch.sin, [0.5]),
    bad(TypeError, "[1, 2]", d.describe, [1, 2]),
    bad(TypeError, "torch.int64", d.dropout_layer, INT, 0.5),
    bad(ValueError, "1.5", d.dropout_layer, T(2), 1.5),
    bad(TypeError, "'0.5'", d.dropout_layer, T(2), "0.5"),
    bad(ValueError, "1.5", d.Dropout, 1.5),
    bad(ValueError, "1.5", d.dropout_mask, (2, 2), 1.5),
    bad(TypeError, "(2, -1)", d.dropout_mask, (2, -1), 0.5),
    bad(ValueError, "-0.1", d.DropoutMLP, dropout_1=-0.1),
    bad(ValueError, "0", d.DropoutMLPScratch, num_hiddens_2=0),
    bad(TypeError, "3", d.expected_cost, 3),
    bad(ValueError, "'alexnet'", d.expected_cost, "alexnet"),
    bad(ValueError, "(0, 28)", d.FashionMNIST, resize=(0, 28)),
    bad(TypeError, "2.5", d.FashionMNIST, num_train=2.5),
    bad(TypeError, "'1.0'", d.float32_fields, "1.0"),
    bad(ValueError, "(2,)", d.float32_fields, T(2)),
    bad(TypeError, "'yes'", d.last_executed, "ch07_cnn/lenet", cost="yes"),
    bad(ValueError, "'bad name'", d.glue, "bad name", 1),
    bad(TypeError, "'0.1'", d.GoogLeNet, lr="0.1"),
    bad(ValueError, "0", d.Inception, 8, 4, (4, 0), (2, 2), 2),
    bad(TypeError, "'net'", d.init_cnn, "net"),
    bad(ValueError, "LazyLinear", d.init_cnn, nn.LazyLinear(2)),
    bad(TypeError, "3", d.init_cnn_kaiming, 3),
    bad(ValueError, "1", d.k_fold_data, HOUSE, 1),
    bad(TypeError, "2.0", d.k_fold_data, HOUSE, 2.0),
    bad(ValueError, "-1", d.KaggleHouse, batch_size=-1, train=HOUSE.train),
    bad(TypeError, "torch.int64", d.l2_penalty, INT),
    bad(TypeError, "Linear", d.layer_summary, nn.Linear(2, 2), (1, 2)),
    bad(ValueError, "(28, -1)", d.LeNet, image_size=(28, -1)),
    bad(TypeError, "'yes'", d.LeNet, batch_norm="yes"),
    bad(ValueError, "0", d.LinearRegression, lr=0),
    bad(TypeError, "2.0", d.LinearRegression, lr=0.1, num_inputs=2.0),
    bad(ValueError, "-1", d.LinearRegressionScratch, 2, 0.1, sigma=-1),
    bad(ValueError, "1", d.log_rmse, [1.0, 2.0], [1.0]),
    bad(TypeError, "torch.int64", d.log_softmax, INT),
    bad(ValueError, "0", d.min_input_size, nn.Sequential(), in_channels=0),
    bad(ValueError, "0", d.MLP, num_hiddens=(256, 0)),
    bad(TypeError, "256.0", d.MLP, num_hiddens=256.0),
    bad(ValueError, "nan", d.MLPScratch, lr=float("nan")),
    bad(TypeError, "2.0", d.NiN, num_classes=2.0),
    bad(ValueError, "-1", d.nin_block, 1, 8, 3, 1, -1),
    bad(TypeError, "list", d.num_params, [nn.Parameter(T(2))]),
    bad(ValueError, "0", d.numerical_grad, torch.sum, T(2), h=0),
    bad(ValueError, "2", d.plot, [1, 2], [[1, 2]], legend=["a", "b"]),
    bad(ValueError, "(2, 2)", d.plot_function_and_derivative, torch.sin, T(2, 2)),
    bad(ValueError, "'mean'", d.pool2d, T(3, 3), (2, 2), mode="mean"),
    bad(ValueError, "(4, 4)", d.pool2d, T(3, 3), (4, 4)),
    bad(TypeError, "'2'", d.pool2d, T(3, 3), "2"),
    case("ProgressBoard", lambda: d.ProgressBoard().draw(0, 1, "y", every_n=0), ValueError, "0"),
    bad(ValueError, "0", d.RegNetX32, lr=0),
    bad(TypeError, "[1.0, -1.0]", d.relu, [1.0, -1.0]),
    bad(ValueError, "0", d.Residual, 3, 3, strides=0),
    bad(ValueError, "arch[0][1] must be a positive integer, got 0", d.ResNet, arch=((2, 0),)),
    bad(TypeError, "5", d.ResNet, arch=5),
    bad(ValueError, "0", d.ResNet18, num_classes=0),
    bad(ValueError, "0", d.ResNeXtBlock, 8, 8, 4, bot_mul=0),
    bad(ValueError, "-1", d.set_seed, -1),
    bad(TypeError, "'0'", d.set_seed, "0"),
    bad(ValueError, "-0.1", d.SGD, [], lr=-0.1),
    bad(TypeError, "None", d.SGD, [], lr=None),
    bad(TypeError, "list", d.shares_storage, [1], T(1)),
    bad(ValueError, "0", d.show_images, [T(2, 2)], 0, 1),
    bad(ValueError, "0-d", d.softmax, torch.tensor(1.0)),
    bad(ValueError, "0", d.SoftmaxRegression, num_inputs=0),
    bad(TypeError, "True", d.SoftmaxRegressionScratch, 4, 3, lr=True),
    bad(ValueError, "-1", d.SyntheticRegressionData, [1.0], 0, noise=-1),
    bad(ValueError, "0", d.TensorLoader, [T(3)], batch_size=0),
    bad(TypeError, "1", d.Timer, sync=1),
    bad(ValueError, "0", d.Trainer, max_epochs=0),
    bad(TypeError, "2.0", d.Trainer, max_epochs=2.0),
    bad(ValueError, "-1.0", d.Trainer, 1, gradient_clip_val=-1.0),
    bad(ValueError, "'half'", d.Trainer, 1, amp="half"),
    bad(TypeError, "'4'", d.transition_block, 8, "4"),
    bad(ValueError, "-1", d.try_gpu, -1),
    bad(TypeError, "'0'", d.try_gpu, "0"),
    bad(TypeError, "64.5", d.VGG, arch=((1, 64.5),)),
    bad(ValueError, "((1, 2, 3),)", d.VGG, arch=((1, 2, 3),)),
    bad(ValueError, "0", d.vgg_block, 0, 1, 8),
    bad(ValueError, "-0.5", d.WeightDecay, wd=-0.5, lr=0.1),
    bad(TypeError, "'3'", d.WeightDecay, wd="3", lr=0.1),
    bad(ValueError, "0", d.WeightDecayData, num_inputs=0),
    bad(ValueError, "inf", d.WeightDecayScratch, 3, lambd=float("inf"), lr=0.1),
]

# Public names that take arguments but are not in the table, each with the reason.
NOT_CHECKED = {
    "Classifier": "nn.Module's constructor: no arguments of its own",
    "Module": "nn.Module's constructor: no arguments of its own",
    "EpochResult": "a plain record that Trainer.fit_epoch fills in",
    "History": "a list of the rows that Trainer.fit appends",
    "write_house_tiny_csv": "any path is valid; the file system reports what is not",
    "check": "prints a message for bad input instead of raising (tests/test_selfcheck.py)",
    "hint": "prints a message for an unknown label instead of raising (tests/test_selfcheck.py)",
}


@pytest.mark.parametrize(("name", "call", "error", "shown"), CASES)
def test_bad_arguments_raise_one_type_per_mistake_and_name_the_value(name, call, error, shown):
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    assert type(info.value) is error, f"{name}: {type(info.value).__name__}: {info.value}"
    assert shown in str(info.value), f"{name}: the message does not show {shown}: {info.value}"


def test_every_public_name_with_arguments_has_a_bad_call_in_the_table():
    covered = {param.values[0] for param in CASES}
    takes_arguments = set()
    for name in dlcourse.__all__:
        value = getattr(dlcourse, name)
        if isinstance(value, types.ModuleType) or not callable(value):
            continue
        if inspect.signature(value).parameters:
            takes_arguments.add(name)
    assert sorted(takes_arguments - covered - set(NOT_CHECKED)) == [], "add them to CASES"
    assert sorted((covered | set(NOT_CHECKED)) - takes_arguments) == [], "stale entries"


def test_similar_mistakes_raise_the_same_type_across_functions():
    """A list where a tensor belongs is a TypeError, a wrong shape a ValueError, whichever
    of the from-scratch operations receives it."""
    operations = (dlcourse.corr2d, dlcourse.corr2d_multi_in, dlcourse.corr2d_multi_in_out)
    for op in operations:
        with pytest.raises(TypeError, match="got list"):
            op([[1.0]], T(1, 1))
    for op, X in zip(operations, (T(3), T(3, 3), T(3, 3))):
        with pytest.raises(ValueError, match="got shape"):
            op(X, T(1, 1, 1, 1))
