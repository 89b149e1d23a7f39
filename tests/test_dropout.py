"""Tests of code/dlcourse/dropout.py: dropout_layer and the two dropout MLPs (section 5.6)."""

import math

import pytest
import torch
from torch import nn

import dlcourse
from dlcourse.dropout import Dropout, DropoutMLP, DropoutMLPScratch, dropout_layer

N = 1_000_000  # elements in the large tensors of the statistical tests


# -- dropout_layer ---------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_fraction_dropped_is_within_a_binomial_bound(p):
    out = dropout_layer(torch.ones(1000, 1000), p)
    dropped = (out == 0).float().mean().item()
    # The count of dropped elements is Binomial(N, p): allow five standard deviations.
    assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / N)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_mean_is_preserved(p):
    value = 3.0
    out = dropout_layer(torch.full((1000, 1000), value), p)
    # Each element has mean `value` and variance p / (1 - p) * value^2.
    standard_error = value * math.sqrt(p / (1 - p) / N)
    assert abs(out.mean().item() - value) < 5 * standard_error


def test_survivors_are_scaled_by_one_over_keep_probability():
    X = torch.randn(200, 300)
    out = dropout_layer(X, 0.25)
    kept = out != 0
    torch.testing.assert_close(out[kept], X[kept] / 0.75)


def test_survivors_agree_with_torch_dropout():
    # The masks differ (different random calls), but where both keep an element they
    # must give it the same value.
    X = torch.randn(500, 400)
    ours, theirs = dropout_layer(X, 0.4), nn.functional.dropout(X, 0.4, training=True)
    both = (ours != 0) & (theirs != 0)
    assert both.sum() > 0
    torch.testing.assert_close(ours[both], theirs[both])


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_p_zero_is_the_identity_and_p_one_drops_everything(dtype):
    X = torch.randn(7, 9).to(dtype)
    assert torch.equal(dropout_layer(X, 0.0), X)
    assert torch.equal(dropout_layer(X, 0), X)
    out = dropout_layer(X, 1.0)
    assert torch.equal(out, torch.zeros_like(X)) and out.dtype == dtype


def test_shape_and_dtype_are_kept():
    X = torch.randn(2, 3, 4, dtype=torch.float64)
    out = dropout_layer(X, 0.5)
    assert out.shape == X.shape and out.dtype == X.dtype


def test_same_seed_same_mask():
    X = torch.ones(2, 8)
    dlcourse.set_seed(5)
    a = dropout_layer(X, 0.5)
    dlcourse.set_seed(5)
    assert torch.equal(a, dropout_layer(X, 0.5))


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_rejects_p_outside_the_unit_interval(p):
    with pytest.raises(ValueError, match=rf"\[0, 1\], got {p}"):
        dropout_layer(torch.ones(3), p)


def test_rejects_integer_tensors_naming_the_dtype():
    with pytest.raises(TypeError, match=r"torch\.int64.*X\.float\(\)"):
        dropout_layer(torch.arange(16).reshape(2, 8), 0.5)


def test_rejects_non_tensors():
    with pytest.raises(
        TypeError, match=r"X must be a floating-point torch.Tensor, got list \[1.0, 2.0\]"
    ):
        dropout_layer([1.0, 2.0], 0.5)


# -- the Dropout layer -------------------------------------------------------------------
def test_dropout_layer_class_is_an_nn_dropout_that_draws_like_dropout_layer():
    layer = Dropout(0.3)
    assert isinstance(layer, nn.Dropout) and repr(layer) == repr(nn.Dropout(0.3))
    X = torch.randn(64, 32)
    torch.manual_seed(5)
    expected = dropout_layer(X, 0.3)
    torch.manual_seed(5)
    torch.testing.assert_close(layer.train()(X), expected, rtol=0, atol=0)
    assert layer.eval()(X) is X  # evaluation mode: the input itself, unchanged


def test_dropout_layer_class_passes_gradients_through_the_survivors_only():
    X = torch.randn(300, 40, requires_grad=True)
    out = Dropout(0.25).train()(X)
    out.sum().backward()
    kept = out.detach() != 0
    torch.testing.assert_close(X.grad, kept.float() / 0.75)


def test_dropout_layer_class_drops_the_right_fraction():
    out = Dropout(0.2).train()(torch.ones(1000, 1000))
    assert abs((out == 0).float().mean().item() - 0.2) < 5 * math.sqrt(0.2 * 0.8 / N)


@pytest.mark.parametrize(("args", "message"), [((1.5,), "1.5"), ((0.5, True), "inplace")])
def test_dropout_layer_class_refuses_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        Dropout(*args)


def test_concise_and_scratch_models_drop_the_same_units_from_the_same_seed():
    """The concise model's Dropout layers draw exactly as the scratch model's calls do."""
    scratch, concise = make_pair(0.3, 0.6)
    X = torch.rand(6, 1, 28, 28)
    torch.manual_seed(11)
    expected = scratch.train()(X)
    torch.manual_seed(11)
    torch.testing.assert_close(concise.train()(X), expected)


# -- the two models --------------------------------------------------------------------
HPARAMS = {"num_outputs": 10, "num_hiddens_1": 32, "num_hiddens_2": 16, "lr": 0.1}


def make_pair(dropout_1=0.5, dropout_2=0.5):
    """Scratch and concise models with the same initial weights (same seed, same order)."""
    dlcourse.set_seed(0)
    scratch = DropoutMLPScratch(dropout_1=dropout_1, dropout_2=dropout_2, **HPARAMS)
    dlcourse.set_seed(0)
    concise = DropoutMLP(dropout_1=dropout_1, dropout_2=dropout_2, **HPARAMS)
    return scratch, concise


def hand_forward(model, X):
    """The network without dropout, written with the scratch model's layers."""
    H1 = torch.relu(X.reshape(len(X), -1) @ model.lin1.weight.T + model.lin1.bias)
    H2 = torch.relu(H1 @ model.lin2.weight.T + model.lin2.bias)
    return H2 @ model.lin3.weight.T + model.lin3.bias


def test_eval_mode_is_deterministic_and_has_no_dropout():
    scratch, concise = make_pair()
    X = torch.rand(6, 1, 28, 28)
    for model in (scratch.eval(), concise.eval()):
        torch.testing.assert_close(model(X), model(X), rtol=0, atol=0)
        torch.testing.assert_close(model(X), hand_forward(scratch, X))


def test_train_mode_drops_units():
    scratch, concise = make_pair()
    X = torch.rand(6, 1, 28, 28)
    for model in (scratch.train(), concise.train()):
        assert not torch.equal(model(X), model(X))


def test_dropout_probability_zero_equals_eval_mode_in_training():
    scratch, concise = make_pair(0.0, 0.0)
    X = torch.rand(6, 1, 28, 28)
    expected = hand_forward(scratch, X)
    torch.testing.assert_close(scratch.train()(X), expected)
    torch.testing.assert_close(concise.train()(X), expected)


def test_dropout_probability_one_leaves_only_the_output_bias():
    scratch, concise = make_pair(1.0, 1.0)
    X = torch.rand(6, 1, 28, 28)
    for model in (scratch.train(), concise.train()):
        expected = scratch.lin3.bias.expand(6, 10)
        torch.testing.assert_close(model(X), expected)


def test_scratch_drops_hidden_units_at_the_given_rate():
    # Capture the first hidden layer after dropout through the second layer's input.
    dlcourse.set_seed(0)
    model = DropoutMLPScratch(10, 512, 64, dropout_1=0.3, dropout_2=0.0, lr=0.1).train()
    seen = []
    model.lin2.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    with torch.no_grad():
        model.lin1.bias.fill_(1.0)  # every unit active before dropout
        model.lin1.weight.zero_()
        model(torch.rand(400, 1, 28, 28))
    dropped = (seen[0] == 0).float().mean().item()
    n = seen[0].numel()
    assert abs(dropped - 0.3) < 5 * math.sqrt(0.3 * 0.7 / n)


@pytest.mark.parametrize("cls", [DropoutMLPScratch, DropoutMLP])
def test_dropout_models_lower_the_loss(cls):
    X = torch.randn(256, 1, 28, 28)
    y = (X.reshape(256, -1) @ torch.randn(784, 10)).argmax(dim=1)
    model = cls(dropout_1=0.2, dropout_2=0.2, **{**HPARAMS, "lr": 0.2}).train()
    optim = model.configure_optimizers()
    model.eval()
    with torch.no_grad():
        first = model.training_step((X, y)).item()
    model.train()
    for _ in range(30):
        loss = model.training_step((X, y))
        optim.zero_grad()
        loss.backward()
        optim.step()
    model.eval()
    with torch.no_grad():
        last = model.training_step((X, y)).item()
    assert last < 0.8 * first


@pytest.mark.parametrize("cls", [DropoutMLPScratch, DropoutMLP])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dropout_1": 1.2}, r"dropout_1.*got 1\.2"),
        ({"dropout_2": -0.5}, r"dropout_2.*got -0\.5"),
        ({"num_hiddens_1": 0}, "num_hiddens_1.*got 0"),
        ({"num_hiddens_2": -4}, "num_hiddens_2.*got -4"),
        ({"lr": 0.0}, r"lr.*got 0\.0"),
    ],
)
def test_models_reject_bad_arguments(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)
