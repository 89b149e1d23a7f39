"""Tests of code/dlcourse/batch_norm.py: batch_norm, BatchNorm and the two BN LeNets (8.5).

The oracle is PyTorch's own nn.BatchNorm1d / nn.BatchNorm2d: outputs, gradients and running
statistics must agree in training and evaluation mode, after several training steps.
"""

import pytest
import torch
from torch import nn

import dlcourse
from dlcourse.batch_norm import BatchNorm, BNLeNet, BNLeNetScratch, batch_norm


def make_pair(num_features, num_dims, momentum=0.1):
    ours = BatchNorm(num_features, num_dims, momentum=momentum)
    torch_bn = (nn.BatchNorm1d if num_dims == 2 else nn.BatchNorm2d)(
        num_features, momentum=momentum
    )
    with torch.no_grad():  # the same non-trivial scale and shift in both
        gamma, beta = torch.rand(num_features) + 0.5, torch.randn(num_features)
        ours.gamma.copy_(gamma.reshape(ours.gamma.shape))
        ours.beta.copy_(beta.reshape(ours.beta.shape))
        torch_bn.weight.copy_(gamma)
        torch_bn.bias.copy_(beta)
    return ours, torch_bn


@pytest.mark.parametrize("num_dims, shape", [(2, (8, 5)), (4, (4, 3, 5, 6))], ids=["dense", "conv"])
@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_agrees_with_torch_in_both_modes_after_several_steps(num_dims, shape, momentum):
    ours, theirs = make_pair(shape[1], num_dims, momentum)
    for step in range(5):
        X = torch.randn(shape) * (step + 1) + step  # statistics that change from step to step
        X1, X2 = X.clone().requires_grad_(), X.clone().requires_grad_()
        Y1, Y2 = ours(X1), theirs(X2)
        torch.testing.assert_close(Y1, Y2)
        G = torch.randn(shape)
        (Y1 * G).sum().backward()
        (Y2 * G).sum().backward()
        torch.testing.assert_close(X1.grad, X2.grad)
        torch.testing.assert_close(ours.gamma.grad.flatten(), theirs.weight.grad)
        torch.testing.assert_close(ours.beta.grad.flatten(), theirs.bias.grad)
        torch.testing.assert_close(ours.moving_mean.flatten(), theirs.running_mean)
        torch.testing.assert_close(ours.moving_var.flatten(), theirs.running_var)
    ours.eval()
    theirs.eval()
    X = torch.randn(shape) * 3 + 1
    torch.testing.assert_close(ours(X), theirs(X))
    before = ours.moving_mean.clone()
    ours(X)
    assert torch.equal(ours.moving_mean, before)  # evaluation leaves the statistics alone


def test_running_variance_is_the_unbiased_one():
    X = torch.tensor([[1.0], [2.0], [3.0], [6.0]])  # mean 3, biased var 3.5, unbiased 14/3
    ones, zeros = torch.ones(1, 1), torch.zeros(1, 1)
    _, mean, var = batch_norm(X, ones, zeros, zeros, ones, momentum=1.0)
    assert mean.item() == pytest.approx(3.0)
    assert var.item() == pytest.approx(14 / 3)


def test_training_output_has_zero_mean_unit_variance_per_channel():
    X = torch.randn(16, 4, 5, 5) * 7 - 3
    bn = BatchNorm(4, num_dims=4)
    Y = bn(X)
    torch.testing.assert_close(Y.mean(dim=(0, 2, 3)), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        Y.var(dim=(0, 2, 3), unbiased=False), torch.ones(4), atol=1e-3, rtol=0
    )


def test_statistics_are_buffers_that_move_and_are_saved():
    bn = BatchNorm(3, num_dims=4)
    assert {name for name, _ in bn.named_buffers()} == {"moving_mean", "moving_var"}
    assert {name for name, _ in bn.named_parameters()} == {"gamma", "beta"}
    assert "moving_var" in bn.state_dict()


def test_the_two_lenets_agree_step_by_step():
    torch.manual_seed(0)
    scratch = BNLeNetScratch(lr=0.1)
    torch.manual_seed(0)
    concise = BNLeNet(lr=0.1)
    X, y = torch.rand(32, 1, 28, 28), torch.arange(32) % 10
    opts = [scratch.configure_optimizers(), concise.configure_optimizers()]
    for _ in range(3):
        for model, opt in zip((scratch, concise), opts, strict=True):
            loss = model.training_step((X, y))
            opt.zero_grad()
            loss.backward()
            opt.step()
    for model in (scratch, concise):
        model.eval()
    with torch.no_grad():
        torch.testing.assert_close(scratch(X), concise(X), rtol=1e-4, atol=1e-5)


def test_lenet_shapes_and_parameter_count():
    model = BNLeNetScratch()
    rows = dlcourse.layer_summary(model.net, (2, 1, 28, 28))
    assert rows[3].output_shape == (2, 6, 12, 12)
    assert rows[7].output_shape == (2, 16, 4, 4)
    assert rows[-1].output_shape == (2, 10)
    convs = (25 * 6 + 6) + (6 * 25 * 16 + 16)
    dense = (256 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    bn = 2 * (6 + 16 + 120 + 84)
    assert dlcourse.num_params(model) == convs + dense + bn == dlcourse.num_params(BNLeNet())


def test_smoke_a_few_steps_lower_the_loss():
    X, y = torch.rand(64, 1, 28, 28), torch.arange(64) % 10
    model = BNLeNetScratch(lr=0.5)
    optimizer = model.configure_optimizers()
    first = model.training_step((X, y)).item()
    for _ in range(20):
        loss = model.training_step((X, y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="num_dims must be 2"):
        BatchNorm(3, num_dims=3)
    with pytest.raises(ValueError, match="num_features must be a positive integer"):
        BatchNorm(0, num_dims=2)
    with pytest.raises(ValueError, match="built with num_dims=2 but got a 4-D input"):
        BatchNorm(3, num_dims=2)(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="has 3 features/channels, but the input has 4"):
        BatchNorm(3, num_dims=2)(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="more than one value per channel"):
        BatchNorm(3, num_dims=2)(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="2-D .* or 4-D"):
        batch_norm(torch.zeros(2, 3, 4), *[torch.ones(1, 3, 1)] * 4)
    with pytest.raises(ValueError, match=r"momentum must be a probability in \[0, 1\], got 1.5"):
        BatchNorm(3, num_dims=2, momentum=1.5)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        BNLeNet(lr=0)
    with pytest.raises(ValueError, match="expects a batch of shape"):
        BNLeNetScratch()(torch.zeros(2, 3, 28, 28))
