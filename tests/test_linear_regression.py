"""Tests of code/dlcourse/linear_regression.py (sections 3.4 and 3.5)."""

import pytest
import torch
from torch import nn

import dlcourse
from dlcourse import SGD, LinearRegression, LinearRegressionScratch


def small_batch(n=8, num_inputs=2):
    X = torch.randn(n, num_inputs)
    y = X @ torch.tensor([[2.0], [-3.4]])[:num_inputs] + 4.2
    return X, y


# -- oracles: d2l 1.0.3 and PyTorch ---------------------------------------------------------
@pytest.mark.reference
def test_scratch_matches_d2l_init_forward_and_loss(d2l):
    torch.manual_seed(3)
    ours = LinearRegressionScratch(num_inputs=2, lr=0.03)
    torch.manual_seed(3)
    ref = d2l.LinearRegressionScratch(num_inputs=2, lr=0.03)
    torch.testing.assert_close(ours.w.detach(), ref.w.detach())
    torch.testing.assert_close(ours.b.detach(), ref.b.detach())
    X, y = small_batch()
    torch.testing.assert_close(ours(X), ref(X))
    torch.testing.assert_close(ours.loss(ours(X), y), ref.loss(ref(X), y))


@pytest.mark.reference
def test_scratch_sgd_matches_d2l_and_torch_sgd(d2l):
    X, y = small_batch()
    params = {}
    for name in ("ours", "d2l", "torch"):
        torch.manual_seed(0)
        model = LinearRegressionScratch(num_inputs=2, lr=0.1)
        model.loss(model(X), y).backward()
        params[name] = [model.w, model.b]
    SGD(params["ours"], lr=0.1).step()
    with torch.no_grad():  # d2l's step updates leaf tensors in place and expects no_grad
        d2l.SGD(params["d2l"], lr=0.1).step()
    torch.optim.SGD(params["torch"], lr=0.1).step()
    for ours, ref_d2l, ref_torch in zip(
        params["ours"], params["d2l"], params["torch"], strict=True
    ):
        torch.testing.assert_close(ours, ref_d2l)
        torch.testing.assert_close(ours, ref_torch)


def test_scratch_loss_is_half_mse():
    X, y = small_batch()
    model = LinearRegressionScratch(num_inputs=2, lr=0.03)
    y_hat = model(X)
    torch.testing.assert_close(model.loss(y_hat, y), nn.functional.mse_loss(y_hat, y) / 2)


@pytest.mark.reference
def test_concise_matches_d2l_loss(d2l):
    X, y = small_batch()
    ours = LinearRegression(lr=0.03)
    ref = d2l.LinearRegression(lr=0.03)
    ref(X)  # materialise d2l's LazyLinear
    ours(X)
    with torch.no_grad():
        ref.net.weight.copy_(ours.net.weight)
        ref.net.bias.copy_(ours.net.bias)
    torch.testing.assert_close(ours(X), ref(X))
    torch.testing.assert_close(ours.loss(ours(X), y), ref.loss(ref(X), y))


@pytest.mark.parametrize("num_inputs", [None, 2])
def test_concise_init_is_small_normal_and_zero_bias(num_inputs):
    model = LinearRegression(lr=0.03, num_inputs=num_inputs)
    model(torch.randn(4, 2))  # a lazy layer creates its parameters here
    w, b = model.get_w_b()
    assert w.shape == (2,) and b.shape == (1,)
    assert w.abs().max() < 0.05, f"weights {w} are not from N(0, 0.01^2)"
    assert torch.equal(b, torch.zeros(1))


def test_lazy_init_runs_once():
    model = LinearRegression(lr=0.03)
    X = torch.randn(4, 2)
    model(X)
    with torch.no_grad():
        model.net.weight.fill_(1.0)
    model(X)  # a second forward must not re-initialise
    assert torch.equal(model.net.weight, torch.ones(1, 2))


def test_concise_sgd_is_torch_sgd():
    model = LinearRegression(lr=0.05, num_inputs=2)
    optim = model.configure_optimizers()
    assert isinstance(optim, torch.optim.SGD)
    assert optim.param_groups[0]["lr"] == 0.05


# -- the reshape in the loss ------------------------------------------------------------
@pytest.mark.parametrize("cls", [LinearRegressionScratch, LinearRegression])
def test_loss_accepts_flat_labels(cls):
    model = cls(num_inputs=2, lr=0.03)
    X, y = small_batch()
    y_hat = model(X)
    torch.testing.assert_close(model.loss(y_hat, y.reshape(-1)), model.loss(y_hat, y))


@pytest.mark.parametrize("cls", [LinearRegressionScratch, LinearRegression])
def test_loss_rejects_wrong_number_of_labels(cls):
    model = cls(num_inputs=2, lr=0.03)
    X, y = small_batch()
    with pytest.raises(ValueError, match=r"\(8, 1\) and labels of shape \(7, 1\)"):
        model.loss(model(X), y[:7])


# -- bad input ----------------------------------------------------------------------------
def test_scratch_rejects_wrong_feature_count():
    model = LinearRegressionScratch(num_inputs=2, lr=0.03)
    with pytest.raises(ValueError, match="X has 3 features"):
        model(torch.randn(4, 3))


@pytest.mark.parametrize("lr", [0, -0.1, "0.1", True])
def test_bad_lr(lr):
    error = ValueError if isinstance(lr, float | int) and not isinstance(lr, bool) else TypeError
    with pytest.raises(error, match=f"lr must be a positive number, got .*{lr!r}"):
        LinearRegressionScratch(num_inputs=2, lr=lr)
    with pytest.raises(error, match=f"lr must be a positive number, got .*{lr!r}"):
        LinearRegression(lr=lr)


@pytest.mark.parametrize("num_inputs", [0, -2, 2.0])
def test_bad_num_inputs(num_inputs):
    error = TypeError if isinstance(num_inputs, float) else ValueError
    with pytest.raises(error, match=f"num_inputs must be a positive integer, got .*{num_inputs}"):
        LinearRegressionScratch(num_inputs=num_inputs, lr=0.03)
    error = TypeError if isinstance(num_inputs, float) else ValueError
    with pytest.raises(error, match=f"num_inputs must be a positive integer, got .*{num_inputs}"):
        LinearRegression(lr=0.03, num_inputs=num_inputs)


def test_bad_sigma():
    with pytest.raises(ValueError, match="sigma .* got -1"):
        LinearRegressionScratch(num_inputs=2, lr=0.03, sigma=-1)


def test_get_w_b_before_lazy_init():
    with pytest.raises(RuntimeError, match="no weights yet"):
        LinearRegression(lr=0.03).get_w_b()


# -- smoke: training recovers the true parameters ----------------------------------------
@pytest.mark.parametrize(
    ("cls", "tol"),
    # After 96 steps at lr 0.03 each error is about (1 - lr)^96 = 5% of its start for the
    # halved squared loss and (1 - 2 lr)^96 = 0.3% for MSELoss (see section 3.4).
    [(LinearRegressionScratch, 0.3), (LinearRegression, 0.03)],
)
def test_training_recovers_parameters(cls, tol):
    data = dlcourse.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
    model = cls(num_inputs=2, lr=0.03)
    trainer = dlcourse.Trainer(max_epochs=3, verbose=False, board=False, device="cpu")
    history = trainer.fit(model, data)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    w, b = model.get_w_b()
    assert (data.w - w).abs().max() < tol, f"w = {w}"
    assert abs(data.b - b.item()) < tol, f"b = {b}"
