"""Tests of code/dlcourse/autograd.py: finite differences, gradient checks, derivative plots."""

import math

import matplotlib
import pytest
import torch

import dlcourse
from dlcourse.autograd import autograd_grad


def _x(*shape):
    return torch.randn(*shape, dtype=torch.float64)


# -- numerical_grad ------------------------------------------------------------------------
def test_numerical_grad_of_quadratic_is_exact():
    # central differences are exact for polynomials of degree 2, up to rounding
    x = _x(3, 4)
    grad = dlcourse.numerical_grad(lambda t: 2 * (t * t).sum(), x, h=1e-3)
    torch.testing.assert_close(grad, 4 * x)
    assert grad.shape == x.shape


def test_numerical_grad_error_shrinks_like_h_squared():
    x = torch.tensor([0.7], dtype=torch.float64)
    errors = [
        abs(dlcourse.numerical_grad(lambda t: t.exp().sum(), x, h).item() - math.exp(0.7))
        for h in (1e-1, 1e-2)
    ]
    assert errors[1] < errors[0] / 50  # ten times smaller h: about 100 times smaller error


def test_numerical_grad_leaves_x_alone():
    x = _x(5)
    before = x.clone()
    dlcourse.numerical_grad(lambda t: t.sin().sum(), x)
    torch.testing.assert_close(x, before, rtol=0, atol=0)


# -- autograd_grad and check_grad ----------------------------------------------------------
FUNCTIONS = {
    "cubic": lambda t: (t**3).sum(),
    "softplus": lambda t: torch.nn.functional.softplus(t).mean(),
    "matrix": lambda t: (t @ t.T).trace() + t.norm(),
    "control_flow": lambda t: (t * 2 if t.sum() > 0 else t * 100).sum(),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_autograd_grad_matches_torch(name):
    f, x = FUNCTIONS[name], _x(3, 3)
    leaf = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(f(leaf), leaf)
    torch.testing.assert_close(autograd_grad(f, x), expected)
    assert not x.requires_grad and x.grad is None  # the caller's tensor is untouched


@pytest.mark.parametrize("name", FUNCTIONS)
def test_check_grad_agrees_with_torch_gradcheck(name):
    f, x = FUNCTIONS[name], _x(3, 3)
    assert torch.autograd.gradcheck(f, (x.clone().requires_grad_(True),))
    assert dlcourse.check_grad(f, x) < 1e-6


def test_autograd_grad_of_constant_function_is_zero():
    x = _x(4)
    torch.testing.assert_close(autograd_grad(lambda t: torch.tensor(3.0), x), torch.zeros_like(x))


class WrongSquare(torch.autograd.Function):
    """x**2 with a backward that forgets the factor 2: the kind of bug a check must catch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x


def test_check_grad_catches_a_wrong_backward():
    with pytest.raises(AssertionError, match="disagree.*flat index"):
        dlcourse.check_grad(lambda t: WrongSquare.apply(t).sum(), _x(4) + 3)


def test_check_grad_in_float32_hints_at_double():
    with pytest.raises(AssertionError, match=r"torch.float32; use x.double\(\)"):
        dlcourse.check_grad(lambda t: (t**3).sum(), torch.randn(10))


# -- derivative and the plot ---------------------------------------------------------------
def test_derivative_of_sin_is_cos():
    x = torch.linspace(-5, 5, 101)
    torch.testing.assert_close(dlcourse.derivative(torch.sin, x), torch.cos(x))


@pytest.mark.reference
def test_plot_function_and_derivative_draws_sin_and_cos(d2l):
    x = torch.linspace(0, 2 * math.pi, 50)
    axes = dlcourse.plot_function_and_derivative(torch.sin, x, legend=["sin", "d sin / dx"])
    assert isinstance(axes, matplotlib.axes.Axes)
    (sin_line, cos_line) = axes.get_lines()
    torch.testing.assert_close(torch.from_numpy(sin_line.get_ydata()), torch.sin(x))
    torch.testing.assert_close(torch.from_numpy(cos_line.get_ydata()), torch.cos(x))
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["sin", "d sin / dx"]
    # d2l draws the same two curves given the derivative we computed
    d2l_axes = d2l.plt.gca()
    d2l.plot(x, [torch.sin(x), dlcourse.derivative(torch.sin, x)], axes=d2l_axes)
    for ours, theirs in zip(axes.get_lines(), d2l_axes.get_lines(), strict=True):
        assert (ours.get_ydata() == theirs.get_ydata()).all()


# -- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda x: dlcourse.numerical_grad(lambda t: t.sum(), x),
        lambda x: dlcourse.check_grad(lambda t: t.sum(), x),
        lambda x: dlcourse.derivative(torch.sin, x),
        lambda x: dlcourse.plot_function_and_derivative(torch.sin, x),
    ],
)
def test_integer_tensors_are_rejected_with_a_fix(call):
    with pytest.raises(TypeError, match=r"dtype torch.int64.*x.double\(\)"):
        call(torch.arange(3))


def test_non_tensor_is_rejected():
    with pytest.raises(TypeError, match="got list"):
        dlcourse.numerical_grad(lambda t: t.sum(), [1.0, 2.0])


@pytest.mark.parametrize("h", [0, -1e-3, float("nan")])
def test_step_size_must_be_positive(h):
    with pytest.raises(ValueError, match=f"h must be a positive number, got {h!r}"):
        dlcourse.numerical_grad(lambda t: t.sum(), _x(2), h=h)


def test_function_must_return_a_scalar():
    with pytest.raises(ValueError, match=r"single number.*\(3,\).*sum\(\)"):
        dlcourse.numerical_grad(lambda t: t * 2, _x(3))
    with pytest.raises(ValueError, match="single number"):
        dlcourse.check_grad(lambda t: t * 2, _x(3))


def test_tolerances_must_be_non_negative():
    with pytest.raises(ValueError, match="rtol must be a non-negative number, got -1"):
        dlcourse.check_grad(lambda t: t.sum(), _x(2), rtol=-1)


def test_plot_needs_one_dimensional_points():
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        dlcourse.plot_function_and_derivative(torch.sin, _x(2, 2))
