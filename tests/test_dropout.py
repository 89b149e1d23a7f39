"""Tests of code/dlcourse/dropout.py: dropout_layer, dropout_mask, the Dropout layer and the
two dropout MLPs (section 5.6)."""

import math

import pytest
import torch
from torch import nn

import dlcourse
from dlcourse.dropout import Dropout, DropoutMLP, DropoutMLPScratch, dropout_layer, dropout_mask

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


def test_dropout_layer_draws_the_mask_of_a_comparison_with_rand():
    """The in-place comparison gives the mask (torch.rand(shape) >= p).float() would give."""
    X = torch.randn(200, 300)
    for p in (0.2, 0.5, 0.7):
        torch.manual_seed(3)
        mask = (torch.rand(X.shape) >= p).float()
        torch.manual_seed(3)
        torch.testing.assert_close(dropout_layer(X, p), mask * X / (1 - p), rtol=0, atol=0)


def test_rand_draws_multiples_of_2_to_the_minus_24_so_keeping_has_probability_near_1_minus_p():
    u = torch.rand(N)
    assert torch.equal(u * 2**24, (u * 2**24).floor())
    for p in (0.1, 0.2, 0.5, 0.9):
        p32 = torch.tensor(p).item()  # the comparison is done in float32
        keep = 1 - math.ceil(p32 * 2**24) / 2**24  # the multiples of 2**-24 that are >= p
        assert abs(keep - (1 - p)) < 1e-7
        assert (keep == 1 - p) == (p == 0.5)


# -- dropout_mask ------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9, 1.0])
def test_dropout_mask_holds_zeros_and_the_scale_in_the_right_proportion(p):
    mask = dropout_mask((1000, 1000), p)
    assert mask.shape == (1000, 1000) and mask.dtype == torch.float32
    kept = mask != 0
    if p < 1:
        assert torch.equal(mask[kept], torch.full_like(mask[kept], 1 / (1 - p)))
    fraction = kept.float().mean().item()
    assert abs(fraction - (1 - p)) <= 5 * math.sqrt(p * (1 - p) / N)
    if p in (0.0, 1.0):
        assert fraction == 1 - p


@pytest.mark.parametrize("p", [0.25, 0.5, 0.75])
def test_dropout_mask_each_16_bit_quarter_of_a_random_word_is_uniform(p):
    """Elements 4k, 4k + 1, 4k + 2 and 4k + 3 come from the four quarters of one 64-bit
    draw; a quarter with a missing bit (e.g. a sign bit that is always 0) would keep a
    wrong fraction of its elements."""
    kept = (dropout_mask((N,), p) != 0).float().view(-1, 4)
    for quarter in range(4):
        fraction = kept[:, quarter].mean().item()
        assert abs(fraction - (1 - p)) <= 5 * math.sqrt(p * (1 - p) / (N / 4)), quarter


def test_dropout_mask_keeps_with_probability_1_minus_p_to_within_2_to_the_minus_17():
    """The rule in the docstring: u uniform on the 65,536 16-bit integers, kept when
    u >= round(p * 65536) - 32768; counted over all 65,536 values of u."""
    u = torch.arange(-(2**15), 2**15)
    for p in [i / 1000 for i in range(1001)] + [1 / 3, 0.123456789]:
        kept = (u >= round(p * 2**16) - 2**15).float().mean().item()
        assert abs(kept - (1 - p)) <= 2**-17
        if (p * 2**16).is_integer():
            assert kept == 1 - p


def test_dropout_mask_is_reproducible_from_a_seed_and_odd_sizes_work():
    torch.manual_seed(4)
    a = dropout_mask((3, 7), 0.5)
    torch.manual_seed(4)
    b = dropout_mask([3, 7], 0.5)
    assert torch.equal(a, b) and a.shape == (3, 7)
    assert dropout_mask((0, 5), 0.5).shape == (0, 5)


@pytest.mark.parametrize("shape", [5, (2, -1), (2, 2.0), "ab", (True, 2)])
def test_dropout_mask_refuses_a_bad_shape(shape):
    with pytest.raises(TypeError, match="shape must be a tuple of non-negative ints"):
        dropout_mask(shape, 0.5)


# -- the Dropout layer -------------------------------------------------------------------
def test_dropout_layer_class_is_an_nn_dropout_that_multiplies_by_a_dropout_mask():
    layer = Dropout(0.3)
    assert isinstance(layer, nn.Dropout) and repr(layer) == repr(nn.Dropout(0.3))
    X = torch.randn(64, 32)
    torch.manual_seed(5)
    expected = X * dropout_mask(X.shape, 0.3)
    torch.manual_seed(5)
    torch.testing.assert_close(layer.train()(X), expected, rtol=0, atol=0)
    assert layer.eval()(X) is X  # evaluation mode: the input itself, unchanged


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout_layer_class_draws_no_random_numbers_for_p_0_or_1_as_nn_dropout(p):
    X = torch.randn(8, 8)
    for layer in (Dropout(p).train(), nn.Dropout(p).train()):
        state = torch.get_rng_state()
        out = layer(X)
        assert torch.equal(torch.get_rng_state(), state)
        assert torch.equal(out, X if p == 0 else torch.zeros_like(X))


def test_dropout_layer_class_keeps_the_input_dtype():
    X = torch.randn(16, 8, dtype=torch.bfloat16)
    out = Dropout(0.5).train()(X)
    assert out.dtype == torch.bfloat16
    assert torch.equal(out[out != 0], 2 * X[out != 0])


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


def test_concise_model_draws_one_dropout_mask_per_hidden_layer_in_order():
    _, concise = make_pair(0.3, 0.6)
    X = torch.rand(6, 1, 28, 28)
    torch.manual_seed(11)
    out = concise.train()(X)
    torch.manual_seed(11)
    lin1, lin2, lin3 = (layer for layer in concise.net if isinstance(layer, nn.Linear))
    H1 = torch.relu(lin1(X.reshape(6, -1))) * dropout_mask((6, 32), 0.3)
    H2 = torch.relu(lin2(H1)) * dropout_mask((6, 16), 0.6)
    torch.testing.assert_close(out, lin3(H2))


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
