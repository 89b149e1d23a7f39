"""Tests of code/dlcourse/softmax_regression.py (sections 4.1, 4.4 and 4.5)."""

import pytest
import torch
from torch.nn import functional as F

import dlcourse
from dlcourse import (
    SGD,
    SoftmaxRegression,
    SoftmaxRegressionScratch,
    cross_entropy,
    log_softmax,
    softmax,
)


def logits_and_labels(n=6, q=4):
    return torch.randn(n, q), torch.randint(0, q, (n,))


# -- softmax and log_softmax vs PyTorch ---------------------------------------------------
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 5)])
def test_softmax_matches_torch(shape):
    X = torch.randn(shape) * 3
    torch.testing.assert_close(softmax(X), torch.softmax(X, dim=-1))
    torch.testing.assert_close(softmax(X).sum(-1), torch.ones(shape[:-1]))


def test_softmax_is_stable_for_large_scores():
    X = torch.tensor([[1000.0, 999.0, -1000.0], [50.0, 100.0, 0.0]])
    P = softmax(X)
    assert torch.isfinite(P).all()
    torch.testing.assert_close(P, torch.softmax(X, dim=-1))


def test_softmax_is_shift_invariant():
    X = torch.randn(3, 5)
    torch.testing.assert_close(softmax(X + 123.0), softmax(X))


def test_definition_on_the_page_agrees_until_it_overflows():
    def softmax_by_definition(X):  # the naive version of section 4.4
        X_exp = torch.exp(X)
        return X_exp / X_exp.sum(dim=1, keepdim=True)

    X = torch.randn(4, 6) * 5
    torch.testing.assert_close(softmax(X), softmax_by_definition(X))
    X = torch.tensor([[100.0, 50.0, 0.0]])  # exp(100) overflows float32
    assert torch.isnan(softmax_by_definition(X)).any()
    torch.testing.assert_close(softmax(X), torch.softmax(X, dim=-1))


def test_log_softmax_matches_torch_even_where_softmax_underflows():
    X = torch.tensor([[0.0, 200.0, -200.0], [1.0, 2.0, 3.0]])
    torch.testing.assert_close(log_softmax(X), F.log_softmax(X, dim=-1))
    assert torch.isfinite(log_softmax(X)).all()  # log(softmax(X)) would give -inf here


def test_softmax_rejects_integer_scores():
    with pytest.raises(TypeError, match=r"dtype torch.int64; convert it with X.float\(\)"):
        softmax(torch.arange(3))


# -- cross-entropy vs PyTorch ------------------------------------------------------------
def test_cross_entropy_matches_torch():
    logits, y = logits_and_labels()
    y_hat = torch.softmax(logits, dim=1)
    torch.testing.assert_close(cross_entropy(y_hat, y), F.nll_loss(torch.log(y_hat), y))
    torch.testing.assert_close(cross_entropy(y_hat, y), F.cross_entropy(logits, y))


def test_cross_entropy_picks_the_true_class_probability():
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    y = torch.tensor([0, 2])
    expected = -(torch.log(torch.tensor(0.1)) + torch.log(torch.tensor(0.5))) / 2
    torch.testing.assert_close(cross_entropy(y_hat, y), expected)


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    logits, y = logits_and_labels()
    logits.requires_grad_(True)
    cross_entropy(softmax(logits), y).backward()
    expected = (torch.softmax(logits.detach(), dim=1) - F.one_hot(y, 4)) / len(y)
    torch.testing.assert_close(logits.grad, expected)


def test_cross_entropy_rejects_mismatched_shapes():
    y_hat = torch.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"y must have shape \(4,\).*got shape \(5,\)"):
        cross_entropy(y_hat, torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"y_hat must have shape .*got shape \(12,\)"):
        cross_entropy(y_hat.reshape(-1), torch.zeros(12, dtype=torch.long))


@pytest.mark.parametrize("bad", [3, -1, 7])
def test_cross_entropy_rejects_labels_out_of_range(bad):
    y_hat = torch.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=f"label {bad} is out of range.*0..2"):
        cross_entropy(y_hat, torch.tensor([0, bad]))


def test_cross_entropy_rejects_float_labels():
    with pytest.raises(TypeError, match=r"integer class indices, got dtype torch.float32"):
        cross_entropy(torch.full((2, 3), 1 / 3), torch.tensor([0.0, 1.0]))


def test_cross_entropy_rejects_logits():
    logits, y = logits_and_labels()
    with pytest.raises(ValueError, match="must hold probabilities, but row .* sums to"):
        cross_entropy(logits, y)


def test_cross_entropy_rejects_negative_entries_summing_to_one():
    y_hat = torch.tensor([[1.5, -0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"min entry -0.5"):
        cross_entropy(y_hat, torch.tensor([0, 1]))


# -- the scratch model -------------------------------------------------------------------
def test_scratch_outputs_probabilities():
    model = SoftmaxRegressionScratch(num_inputs=784, num_outputs=10, lr=0.1)
    P = model(torch.rand(5, 1, 28, 28))
    assert P.shape == (5, 10)
    torch.testing.assert_close(P.sum(1), torch.ones(5))
    assert model.W.shape == (784, 10) and model.b.shape == (10,)


def test_scratch_agrees_with_concise_model():
    X, y = torch.rand(6, 1, 4, 4), torch.randint(0, 3, (6,))
    scratch = SoftmaxRegressionScratch(num_inputs=16, num_outputs=3, lr=0.1, sigma=1.0)
    concise = SoftmaxRegression(num_outputs=3, lr=0.1, num_inputs=16)
    with torch.no_grad():
        concise.net[1].weight.copy_(scratch.W.T)
        concise.net[1].bias.copy_(scratch.b)
    torch.testing.assert_close(scratch(X), torch.softmax(concise(X), dim=1))
    torch.testing.assert_close(scratch.loss(scratch(X), y), concise.loss(concise(X), y))
    torch.testing.assert_close(scratch.accuracy(scratch(X), y), concise.accuracy(concise(X), y))


def test_scratch_loss_equals_public_cross_entropy():
    model = SoftmaxRegressionScratch(num_inputs=16, num_outputs=3, lr=0.1, sigma=1.0)
    X, y = torch.rand(6, 16), torch.randint(0, 3, (6,))
    torch.testing.assert_close(model.loss(model(X), y), cross_entropy(model(X), y))


def test_scratch_sgd_step_matches_torch_sgd():
    X, y = torch.rand(6, 16), torch.randint(0, 3, (6,))
    models = []
    for _ in range(2):
        torch.manual_seed(1)
        model = SoftmaxRegressionScratch(num_inputs=16, num_outputs=3, lr=0.1)
        model.loss(model(X), y).backward()
        models.append(model)
    optim = models[0].configure_optimizers()
    assert isinstance(optim, SGD)
    optim.step()
    torch.optim.SGD(models[1].parameters(), lr=0.1).step()
    torch.testing.assert_close(models[0].W, models[1].W)
    torch.testing.assert_close(models[0].b, models[1].b)


def test_scratch_rejects_wrong_input_size():
    model = SoftmaxRegressionScratch(num_inputs=784, num_outputs=10, lr=0.1)
    with pytest.raises(ValueError, match=r"has 1024 values.*num_inputs=784"):
        model(torch.rand(2, 1, 32, 32))


def test_scratch_loss_rejects_mismatched_labels():
    model = SoftmaxRegressionScratch(num_inputs=4, num_outputs=3, lr=0.1)
    with pytest.raises(ValueError, match=r"y must have shape \(2,\), got \(3,\)"):
        model.loss(model(torch.rand(2, 4)), torch.tensor([0, 1, 2]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_inputs": 0}, "num_inputs must be a positive integer, got 0"),
        ({"num_outputs": 2.5}, "num_outputs must be a positive integer, got float 2.5"),
        ({"lr": -1}, "lr must be a positive number, got -1"),
        ({"sigma": -0.1}, "sigma .* got -0.1"),
    ],
)
def test_scratch_rejects_bad_arguments(kwargs, message):
    args = {"num_inputs": 4, "num_outputs": 3, "lr": 0.1, **kwargs}
    error = TypeError if kwargs == {"num_outputs": 2.5} else ValueError
    with pytest.raises(error, match=message):
        SoftmaxRegressionScratch(**args)


def test_concise_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_outputs must be a positive integer, got 0"):
        SoftmaxRegression(num_outputs=0)
    with pytest.raises(ValueError, match="lr must be a positive number, got 0"):
        SoftmaxRegression(lr=0)


# -- the concise model vs d2l 1.0.3 ------------------------------------------------------
@pytest.mark.reference
def test_concise_matches_d2l(d2l):
    X, y = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    ours = SoftmaxRegression(num_outputs=10, lr=0.1)
    ref = d2l.SoftmaxRegression(num_outputs=10, lr=0.1)
    ref(X)  # materialise d2l's LazyLinear
    with torch.no_grad():
        ref.net[1].weight.copy_(ours.net[1].weight)
        ref.net[1].bias.copy_(ours.net[1].bias)
    torch.testing.assert_close(ours(X), ref(X))
    torch.testing.assert_close(ours.loss(ours(X), y), ref.loss(ref(X), y))
    torch.testing.assert_close(ours.accuracy(ours(X), y), ref.accuracy(ref(X), y))


# -- smoke: a few steps lower the loss ---------------------------------------------------
def separable_data(n=200, num_inputs=8, num_classes=3):
    centers = torch.randn(num_classes, num_inputs) * 3
    y = torch.randint(0, num_classes, (n,))
    return centers[y] + torch.randn(n, num_inputs), y


@pytest.mark.parametrize("cls", ["scratch", "concise"])
def test_few_steps_lower_the_loss(cls):
    X, y = separable_data()
    if cls == "scratch":
        model = SoftmaxRegressionScratch(num_inputs=8, num_outputs=3, lr=0.1)
    else:
        model = SoftmaxRegression(num_outputs=3, lr=0.1, num_inputs=8)
    optim = model.configure_optimizers()
    before = model.training_step((X, y)).item()
    for _ in range(20):
        loss = model.training_step((X, y))
        optim.zero_grad()
        loss.backward()
        optim.step()
    after = model.training_step((X, y)).item()
    assert after < 0.5 * before, f"loss {before:.3f} -> {after:.3f}"
    assert model.accuracy(model(X), y) > 0.9


def test_trainer_fits_scratch_model_on_tiny_data():
    X, y = separable_data(n=400)

    class Tiny(dlcourse.DataModule):
        def get_dataloader(self, train):
            i = slice(0, 300) if train else slice(300, None)
            return self.get_tensorloader((X, y), train, i)

    model = SoftmaxRegressionScratch(num_inputs=8, num_outputs=3, lr=0.1)
    trainer = dlcourse.Trainer(max_epochs=3, verbose=False, board=False, device="cpu")
    history = trainer.fit(model, Tiny(batch_size=32))
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history.last["val_acc"] > 0.9
