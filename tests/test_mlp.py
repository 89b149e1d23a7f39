"""Tests of code/dlcourse/mlp.py: relu, MLPScratch and the concise MLP (chapter 5)."""

import copy

import pytest
import torch
from torch import nn

import dlcourse
from dlcourse.mlp import MLP, MLPScratch, relu


def tiny_classification(n=256, num_inputs=20, num_classes=3):
    """Linearly separable-ish synthetic classes: labels from a random linear scoring rule."""
    X = torch.randn(n, num_inputs)
    y = (X @ torch.randn(num_inputs, num_classes)).argmax(dim=1)
    return X, y


def train_steps(model, X, y, steps=30):
    """Full-batch steps with the model's own optimiser; the losses before and after."""
    optim = model.configure_optimizers()
    first = model.training_step((X, y)).item()
    for _ in range(steps):
        loss = model.training_step((X, y))
        optim.zero_grad()
        loss.backward()
        optim.step()
    return first, model.training_step((X, y)).item()


# -- relu ------------------------------------------------------------------------------
def test_relu_matches_torch():
    X = torch.randn(4, 7)
    X[0, :3] = 0.0  # include exact zeros
    torch.testing.assert_close(relu(X), torch.relu(X), rtol=0, atol=0)
    assert relu(X).shape == X.shape


def test_relu_gradient_matches_torch_away_from_zero():
    X = torch.randn(50, dtype=torch.float64)
    X1, X2 = X.clone().requires_grad_(), X.clone().requires_grad_()
    relu(X1).sum().backward()
    torch.relu(X2).sum().backward()
    torch.testing.assert_close(X1.grad, X2.grad)


# -- MLPScratch ------------------------------------------------------------------------
def test_mlp_scratch_parameter_shapes_and_init():
    model = MLPScratch(num_inputs=784, num_outputs=10, num_hiddens=256, lr=0.1, sigma=0.01)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == {"W1": (784, 256), "b1": (256,), "W2": (256, 10), "b2": (10,)}
    assert torch.count_nonzero(model.b1) == 0 and torch.count_nonzero(model.b2) == 0
    assert model.W1.std().item() == pytest.approx(0.01, rel=0.05)


def test_mlp_scratch_forward_equals_hand_written():
    model = MLPScratch(num_inputs=12, num_outputs=3, num_hiddens=5, lr=0.1, sigma=0.5)
    with torch.no_grad():
        model.b1.normal_()
        model.b2.normal_()
    X = torch.randn(4, 1, 3, 4)  # images of 12 pixels
    flat = X.reshape(4, 12)
    expected = torch.relu(flat @ model.W1 + model.b1) @ model.W2 + model.b2
    torch.testing.assert_close(model(X), expected)
    assert model(X).shape == (4, 3)


def test_mlp_scratch_and_mlp_compute_the_same_function_with_the_same_weights():
    scratch = MLPScratch(num_inputs=784, num_outputs=10, num_hiddens=32, lr=0.1, sigma=0.1)
    concise = MLP(num_outputs=10, num_hiddens=32, lr=0.1)
    with torch.no_grad():
        concise.net[1].weight.copy_(scratch.W1.T)  # nn.Linear stores (out, in)
        concise.net[1].bias.copy_(scratch.b1)
        concise.net[3].weight.copy_(scratch.W2.T)
        concise.net[3].bias.copy_(scratch.b2)
    X = torch.rand(8, 1, 28, 28)
    torch.testing.assert_close(scratch(X), concise(X))


def test_mlp_scratch_is_reproducible_from_a_seed():
    dlcourse.set_seed(3)
    a = MLPScratch()
    dlcourse.set_seed(3)
    b = MLPScratch()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_mlp_scratch_uses_scratch_sgd_that_matches_torch_sgd():
    X, y = tiny_classification(num_inputs=12)
    model = MLPScratch(num_inputs=12, num_outputs=3, num_hiddens=8, lr=0.3, sigma=0.1)
    twin = copy.deepcopy(model)
    optim = model.configure_optimizers()
    assert isinstance(optim, dlcourse.SGD)
    torch_optim = torch.optim.SGD(twin.parameters(), lr=0.3)
    for net, opt in [(model, optim), (twin, torch_optim)]:
        loss = net.training_step((X, y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(p, q)


@pytest.mark.reference
def test_mlp_scratch_loss_and_accuracy_match_d2l_classifier(d2l):
    # d2l 1.0.3 does not ship MLPScratch (the textbook defines it in the notebook only), so
    # we compare the parts it does ship: Classifier.loss / accuracy and its scratch SGD.
    X, y = tiny_classification(num_inputs=12)
    model = MLPScratch(num_inputs=12, num_outputs=3, num_hiddens=8, lr=0.3, sigma=0.1)
    Y_hat = model(X)
    torch.testing.assert_close(model.loss(Y_hat, y), d2l.Classifier.loss(None, Y_hat, y))
    torch.testing.assert_close(model.accuracy(Y_hat, y), d2l.Classifier.accuracy(None, Y_hat, y))


@pytest.mark.reference
def test_mlp_scratch_sgd_step_matches_d2l_sgd(d2l):
    X, y = tiny_classification(num_inputs=12)
    model = MLPScratch(num_inputs=12, num_outputs=3, num_hiddens=8, lr=0.3, sigma=0.1)
    twin = copy.deepcopy(model)
    ours, theirs = model.configure_optimizers(), d2l.SGD(list(twin.parameters()), lr=0.3)
    for net, opt in [(model, ours), (twin, theirs)]:
        loss = net.training_step((X, y))
        opt.zero_grad()
        loss.backward()
        with torch.no_grad():  # d2l's Trainer steps under no_grad
            opt.step()
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(p, q)


def test_mlp_scratch_training_lowers_the_loss():
    X, y = tiny_classification(num_inputs=12)
    model = MLPScratch(num_inputs=12, num_outputs=3, num_hiddens=16, lr=0.5, sigma=0.1)
    first, last = train_steps(model, X, y)
    assert last < 0.8 * first


def test_mlp_scratch_with_zero_init_cannot_learn_features():
    # sigma = 0: the hidden layer outputs zeros and W1, W2 get zero gradients forever.
    X, y = tiny_classification(num_inputs=12)
    model = MLPScratch(num_inputs=12, num_outputs=3, num_hiddens=8, lr=0.5, sigma=0.0)
    train_steps(model, X, y, steps=5)
    assert torch.count_nonzero(model.W1) == 0 and torch.count_nonzero(model.W2) == 0


# -- MLP -------------------------------------------------------------------------------
def test_mlp_forward_equals_hand_written():
    model = MLP(num_outputs=10, num_hiddens=256, lr=0.1)
    lin1, lin2 = model.net[1], model.net[3]
    X = torch.rand(5, 1, 28, 28)
    expected = torch.relu(X.reshape(5, -1) @ lin1.weight.T + lin1.bias) @ lin2.weight.T
    expected = expected + lin2.bias
    torch.testing.assert_close(model(X), expected)


def test_mlp_with_several_layers_and_another_activation():
    model = MLP(num_outputs=4, num_hiddens=(16, 8), lr=0.1, num_inputs=6, activation=nn.Tanh)
    linears = [m for m in model.net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(6, 16), (16, 8), (8, 4)]
    X = torch.randn(3, 6)
    H1 = torch.tanh(X @ linears[0].weight.T + linears[0].bias)
    H2 = torch.tanh(H1 @ linears[1].weight.T + linears[1].bias)
    torch.testing.assert_close(model(X), H2 @ linears[2].weight.T + linears[2].bias)


def test_mlp_default_is_the_textbook_model():
    model = MLP()
    assert [type(m) for m in model.net] == [nn.Flatten, nn.Linear, nn.ReLU, nn.Linear]
    assert sum(p.numel() for p in model.parameters()) == 784 * 256 + 256 + 256 * 10 + 10
    assert isinstance(model.configure_optimizers(), torch.optim.SGD)


def test_mlp_training_lowers_the_loss():
    X, y = tiny_classification(num_inputs=12)
    model = MLP(num_outputs=3, num_hiddens=16, lr=0.5, num_inputs=12)
    first, last = train_steps(model, X, y)
    assert last < 0.8 * first


def test_mlp_trains_with_the_trainer():
    X, y = tiny_classification(n=300, num_inputs=12)

    class Tiny(dlcourse.DataModule):
        def get_dataloader(self, train):
            i = slice(0, 200) if train else slice(200, None)
            return self.get_tensorloader((X, y), train, i)

    model = MLP(num_outputs=3, num_hiddens=16, lr=0.5, num_inputs=12)
    history = dlcourse.Trainer(max_epochs=5, verbose=False, board=False).fit(model, Tiny(32))
    assert history.last["train_loss"] < history[0]["train_loss"]
    assert history.last["val_acc"] > 0.6


# -- bad input -------------------------------------------------------------------------
@pytest.mark.parametrize("num_hiddens", [0, -3])
def test_mlp_rejects_non_positive_width(num_hiddens):
    with pytest.raises(ValueError, match=rf"num_hiddens.*got {num_hiddens}"):
        MLP(num_hiddens=num_hiddens)


def test_mlp_rejects_a_zero_width_among_several():
    with pytest.raises(ValueError, match=r"num_hiddens\[1\] must be a positive integer, got 0"):
        MLP(num_hiddens=(256, 0))
    with pytest.raises(ValueError, match=r"num_hiddens.*\(\)"):
        MLP(num_hiddens=())


def test_mlp_rejects_bad_outputs_and_lr():
    with pytest.raises(ValueError, match="num_outputs.*got 0"):
        MLP(num_outputs=0)
    with pytest.raises(ValueError, match="lr.*got -0.1"):
        MLP(lr=-0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_hiddens": 0}, "num_hiddens.*got 0"),
        ({"num_inputs": -1}, "num_inputs.*got -1"),
        ({"lr": 0}, "lr.*got 0"),
        ({"sigma": -0.5}, "sigma.*got -0.5"),
    ],
)
def test_mlp_scratch_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLPScratch(**kwargs)
