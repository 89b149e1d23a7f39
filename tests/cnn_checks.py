"""Helpers shared by the tests of the CNN modules: parameter counts and output sizes by the
layer formulas of chapter 7 (computed independently of the package), models built on the
"meta" device, and the few-steps training smoke check."""

import torch


def conv_params(c_in, c_out, k, groups=1):
    """Weights and biases of a k x k convolution from c_in to c_out channels in groups."""
    return c_in // groups * c_out * k * k + c_out


def linear_params(n_in, n_out):
    return n_in * n_out + n_out


def out_size(n, k, s=1, p=0):
    """Output side of a convolution or pooling: floor((n + 2p - k) / s) + 1."""
    return (n + 2 * p - k) // s + 1


def on_meta(make):
    """Build a model on PyTorch's "meta" device: shapes are tracked, no numbers stored."""
    with torch.device("meta"):
        return make()


def loss_before_and_after(model, X, y, steps: int) -> tuple[float, float]:
    """The loss on one fixed batch before and after ``steps`` steps of the model's own
    optimizer, both measured in evaluation mode (no dropout, batch norm's running stats)."""
    optimizer = model.configure_optimizers()
    model.eval()
    with torch.no_grad():
        before = model.loss(model(X), y).item()
    model.train()
    for _ in range(steps):
        loss = model.training_step((X, y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        after = model.loss(model(X), y).item()
    return before, after
