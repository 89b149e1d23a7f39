"""Tests of code/dlcourse/weight_decay.py: l2_penalty, the data and both models (section 3.7)."""

import pytest
import torch

import dlcourse
from dlcourse import (
    LinearRegression,
    LinearRegressionScratch,
    WeightDecay,
    WeightDecayData,
    WeightDecayScratch,
    l2_penalty,
)


def batch(n=6, num_inputs=4):
    X = torch.randn(n, num_inputs)
    y = X.sum(dim=1, keepdim=True) * 0.5 + 0.1
    return X, y


def sgd_step(model, X, y):
    """One step of the model's own optimiser; returns the weight and bias afterwards."""
    optim = model.configure_optimizers()
    optim.zero_grad()
    model.training_step((X, y)).backward()
    optim.step()
    w, b = model.get_w_b()
    return w.clone(), b.clone()


# -- l2_penalty -----------------------------------------------------------------------------
def test_l2_penalty_is_half_the_squared_norm_and_its_gradient_is_w():
    w = torch.randn(5, 1, requires_grad=True)
    value = l2_penalty(w)
    torch.testing.assert_close(value, torch.linalg.vector_norm(w) ** 2 / 2)
    value.backward()
    torch.testing.assert_close(w.grad, w.detach())


def test_l2_penalty_refuses_integer_tensors():
    with pytest.raises(TypeError, match="floating-point"):
        l2_penalty(torch.arange(3))


# -- the data -------------------------------------------------------------------------------
def test_data_has_the_textbook_shapes_and_parameters():
    data = WeightDecayData()
    assert data.X.shape == (120, 200) and data.y.shape == (120, 1)
    assert torch.equal(data.w, torch.full((200,), 0.01)) and data.b == 0.05
    assert data.noise == 0.01 and data.batch_size == 5
    X, y = next(iter(data.train_dataloader()))
    assert X.shape == (5, 200) and y.shape == (5, 1)
    assert len(data.train_dataloader()) == 4 and len(data.val_dataloader()) == 20


def test_data_labels_follow_the_true_weights_up_to_the_noise():
    data = WeightDecayData(num_train=500, num_val=500, num_inputs=10)
    residual = data.y - (data.X @ data.w.reshape(-1, 1) + data.b)
    assert residual.abs().max() < 0.06  # six standard deviations of the noise


def test_data_refuses_bad_sizes():
    with pytest.raises(ValueError, match="num_inputs must be a positive integer, got 0"):
        WeightDecayData(num_inputs=0)
    with pytest.raises(ValueError, match="num_train"):
        WeightDecayData(num_train=-1)


# -- the scratch model ---------------------------------------------------------------------
def test_scratch_loss_adds_lambda_times_the_penalty_to_the_squared_loss():
    X, y = batch()
    torch.manual_seed(1)
    plain = LinearRegressionScratch(num_inputs=4, lr=0.1)
    torch.manual_seed(1)
    decayed = WeightDecayScratch(num_inputs=4, lambd=3.0, lr=0.1)
    expected = plain.loss(plain(X), y) + 3.0 * (plain.w**2).sum() / 2
    torch.testing.assert_close(decayed.loss(decayed(X), y), expected)
    # validation reports the squared loss alone
    torch.testing.assert_close(decayed.validation_step((X, y))["loss"], plain.loss(plain(X), y))


def test_scratch_with_lambda_zero_is_plain_linear_regression():
    X, y = batch()
    torch.manual_seed(2)
    plain = sgd_step(LinearRegressionScratch(num_inputs=4, lr=0.1), X, y)
    torch.manual_seed(2)
    decayed = sgd_step(WeightDecayScratch(num_inputs=4, lambd=0, lr=0.1), X, y)
    for a, b in zip(plain, decayed):
        torch.testing.assert_close(a, b)


# -- the concise model: oracle against the scratch penalty ----------------------------------
@pytest.mark.parametrize("num_inputs", [4, None])
def test_concise_weight_decay_step_equals_the_l2_penalty_gradient_step(num_inputs):
    """SGD with weight_decay=wd on the weight == SGD on loss + wd * l2_penalty(weight)."""
    X, y = batch()
    wd, lr = 0.7, 0.05
    torch.manual_seed(3)
    model = WeightDecay(wd=wd, lr=lr, num_inputs=num_inputs)
    model(X)  # materialise a lazy layer before copying its parameters
    with torch.no_grad():
        model.net.bias.fill_(0.3)  # nonzero, so that decaying it would change the step
    torch.manual_seed(3)
    reference = LinearRegression(lr=lr, num_inputs=4)
    reference.load_state_dict(model.state_dict())

    w_new, b_new = sgd_step(model, X, y)
    loss = reference.training_step((X, y)) + wd * l2_penalty(reference.net.weight)
    loss.backward()
    with torch.no_grad():
        w_ref = reference.net.weight - lr * reference.net.weight.grad
        b_ref = reference.net.bias - lr * reference.net.bias.grad
    torch.testing.assert_close(w_new, w_ref.reshape(-1))
    torch.testing.assert_close(b_new, b_ref)


def test_decay_shrinks_the_weight_like_the_scratch_penalty_and_spares_the_bias():
    """The part of the step due to decay is -lr * wd * w in both models, and zero for b."""
    X, y = batch()
    lr, strength = 0.05, 2.0
    torch.manual_seed(4)
    scratch = WeightDecayScratch(num_inputs=4, lambd=strength, lr=lr)
    w0 = scratch.w.detach().reshape(-1).clone()
    concise = WeightDecay(wd=strength, lr=lr, num_inputs=4)
    with torch.no_grad():
        concise.net.weight.copy_(scratch.w.T)
        scratch.b.fill_(0.3)  # nonzero, so that decaying it would change the step
        concise.net.bias.copy_(scratch.b)
    steps = {}
    for name, model in (("scratch", scratch), ("concise", concise)):
        state = {k: v.clone() for k, v in model.state_dict().items()}
        with_decay = sgd_step(model, X, y)
        model.load_state_dict(state)
        if name == "scratch":
            model.lambd = 0.0
        else:
            model.wd = 0.0
        without = sgd_step(model, X, y)
        steps[name] = [a - b for a, b in zip(with_decay, without)]
    for name in steps:
        torch.testing.assert_close(steps[name][0], -lr * strength * w0, rtol=1e-4, atol=1e-7)
        torch.testing.assert_close(steps[name][1], torch.zeros(1))


def test_optimizer_has_one_decayed_group_for_the_weight():
    model = WeightDecay(wd=3, lr=0.01, num_inputs=4)
    groups = model.configure_optimizers().param_groups
    assert [g["weight_decay"] for g in groups] == [3, 0]
    assert groups[0]["params"][0] is model.net.weight and groups[1]["params"][0] is model.net.bias


# -- training smoke tests -------------------------------------------------------------------
def test_decay_shrinks_the_weights_and_lowers_the_validation_loss():
    results = {}
    for lambd in (0, 3):
        torch.manual_seed(0)
        data = WeightDecayData()
        model = WeightDecayScratch(num_inputs=200, lambd=lambd, lr=0.01)
        history = dlcourse.Trainer(max_epochs=10, verbose=False, board=False).fit(model, data)
        results[lambd] = (float(l2_penalty(model.w.detach())), history.last)
    assert results[3][0] < results[0][0] / 2
    assert results[3][1]["val_loss"] < results[0][1]["val_loss"]
    assert results[0][1]["train_loss"] < results[0][1]["val_loss"]  # overfitting


def test_concise_training_lowers_the_loss():
    torch.manual_seed(0)
    data = WeightDecayData()
    model = WeightDecay(wd=3, lr=0.01)
    history = dlcourse.Trainer(max_epochs=5, verbose=False, board=False).fit(model, data)
    assert history["train_loss"][-1] < history["train_loss"][0]


# -- bad input -----------------------------------------------------------------------------
def test_negative_decay_is_refused_with_its_value():
    with pytest.raises(
        ValueError, match=r"lambd must be a non-negative number, got -1; use lambd=0"
    ):
        WeightDecayScratch(num_inputs=3, lambd=-1, lr=0.1)
    with pytest.raises(ValueError, match=r"wd must be a non-negative number, got -0.5"):
        WeightDecay(wd=-0.5, lr=0.1)
    with pytest.raises(ValueError, match="got nan"):
        WeightDecay(wd=float("nan"), lr=0.1)
    with pytest.raises(TypeError, match="wd must be a non-negative number, got str '3'"):
        WeightDecay(wd="3", lr=0.1)
