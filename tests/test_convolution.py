"""Tests of code/dlcourse/convolution.py: the operations of chapter 7 (corr2d, Conv2D, the
multi-channel versions, pool2d) against torch and d2l 1.0.3, and the d2l defects avoided."""

import pytest
import torch
import torch.nn.functional as F

import dlcourse


def conv(X, K):
    """F.conv2d on a single 2-D image and kernel (which cross-correlates, like corr2d)."""
    return F.conv2d(X[None, None], K[None, None])[0, 0]


# -- corr2d and Conv2D ---------------------------------------------------------------------
def test_corr2d_textbook_example():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.arange(4.0).reshape(2, 2)
    torch.testing.assert_close(dlcourse.corr2d(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))


@pytest.mark.parametrize(
    "x_shape, k_shape", [((5, 7), (2, 3)), ((8, 8), (3, 3)), ((6, 4), (6, 1)), ((4, 4), (4, 4))]
)
def test_corr2d_matches_conv2d(x_shape, k_shape):
    X, K = torch.randn(x_shape), torch.randn(k_shape)
    torch.testing.assert_close(dlcourse.corr2d(X, K), conv(X, K))


def test_corr2d_matches_d2l(d2l):
    X, K = torch.randn(7, 9), torch.randn(3, 2)
    torch.testing.assert_close(dlcourse.corr2d(X, K), d2l.corr2d(X, K))


def test_corr2d_keeps_float64_where_d2l_casts_to_float32(d2l):
    X, K = torch.randn(6, 6, dtype=torch.float64), torch.randn(2, 2, dtype=torch.float64)
    assert d2l.corr2d(X, K).dtype == torch.float32  # the defect: d2l's output is float32
    Y = dlcourse.corr2d(X, K)
    assert Y.dtype == torch.float64
    torch.testing.assert_close(Y, conv(X, K))  # float64 tolerances, so precision is kept


def test_corr2d_integer_inputs_stay_integer():
    X = torch.arange(9).reshape(3, 3)
    Y = dlcourse.corr2d(X, torch.tensor([[0, 1], [2, 3]]))
    assert Y.dtype == torch.int64 and Y.tolist() == [[19, 25], [37, 43]]


def test_corr2d_gradients_match_conv2d():
    X = torch.randn(6, 5, requires_grad=True)
    K = torch.randn(2, 3, requires_grad=True)
    dlcourse.corr2d(X, K).square().sum().backward()
    X_ref, K_ref = X.detach().clone().requires_grad_(), K.detach().clone().requires_grad_()
    conv(X_ref, K_ref).square().sum().backward()
    torch.testing.assert_close(X.grad, X_ref.grad)
    torch.testing.assert_close(K.grad, K_ref.grad)


def test_corr2d_rejects_a_kernel_larger_than_the_input():
    with pytest.raises(ValueError, match=r"kernel \(3, 2\) is larger than input \(2, 5\)"):
        dlcourse.corr2d(torch.ones(2, 5), torch.ones(3, 2))


@pytest.mark.parametrize(
    "X, K, name",
    [(torch.ones(1, 4, 4), torch.ones(2, 2), "X"), (torch.ones(4, 4), torch.ones(2), "K")],
)
def test_corr2d_rejects_tensors_that_are_not_2d(X, K, name):
    with pytest.raises(ValueError, match=rf"{name} must be a 2-D tensor.*got shape"):
        dlcourse.corr2d(X, K)


def test_corr2d_rejects_lists_and_mixed_dtypes():
    with pytest.raises(TypeError, match="got list"):
        dlcourse.corr2d([[1.0, 2.0]], torch.ones(1, 1))
    with pytest.raises(TypeError, match="torch.float64 and torch.float32"):
        dlcourse.corr2d(torch.ones(3, 3, dtype=torch.float64), torch.ones(2, 2))


def test_conv2d_module_is_corr2d_plus_bias_and_learns_an_edge_kernel():
    X = torch.ones(6, 8)
    X[:, 2:6] = 0
    Y = dlcourse.corr2d(X, torch.tensor([[1.0, -1.0]]))
    layer = dlcourse.Conv2D((1, 2))
    with torch.no_grad():
        layer.bias.fill_(0.5)
    torch.testing.assert_close(layer(X), dlcourse.corr2d(X, layer.weight.detach()) + 0.5)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.01)
    first = None
    for _ in range(30):
        loss = (layer(X) - Y).square().sum()
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 10
    with pytest.raises(
        ValueError,
        match=r"kernel_size must be a positive int or a \(height, width\) pair.*\(0, 2\)",
    ):
        dlcourse.Conv2D((0, 2))


# -- channels ------------------------------------------------------------------------------
def test_corr2d_multi_in_matches_conv2d():
    X, K = torch.randn(3, 6, 5), torch.randn(3, 2, 2)
    torch.testing.assert_close(dlcourse.corr2d_multi_in(X, K), F.conv2d(X[None], K[None])[0, 0])


def test_corr2d_multi_in_out_matches_conv2d():
    X, K = torch.randn(3, 6, 5), torch.randn(4, 3, 3, 2)
    torch.testing.assert_close(dlcourse.corr2d_multi_in_out(X, K), F.conv2d(X[None], K)[0])


def test_1x1_convolution_as_matrix_product_matches_the_general_version():
    X, K = torch.randn(3, 4, 5), torch.randn(2, 3, 1, 1)
    Y1 = dlcourse.corr2d_multi_in_out_1x1(X, K)
    torch.testing.assert_close(Y1, dlcourse.corr2d_multi_in_out(X, K))
    torch.testing.assert_close(Y1, F.conv2d(X[None], K)[0])


def test_channel_functions_name_the_mismatch():
    with pytest.raises(ValueError, match="K has 2 input channels but X has 3"):
        dlcourse.corr2d_multi_in_out(torch.ones(3, 4, 4), torch.ones(5, 2, 2, 2))
    with pytest.raises(
        ValueError, match=r"X must be a 3-D tensor \(c_i, h, w\), got shape \(4, 4\)"
    ):
        dlcourse.corr2d_multi_in(torch.ones(4, 4), torch.ones(1, 2, 2))
    with pytest.raises(ValueError, match="1x1 kernels"):
        dlcourse.corr2d_multi_in_out_1x1(torch.ones(3, 4, 4), torch.ones(2, 3, 2, 2))


# -- pooling -------------------------------------------------------------------------------
def test_pool2d_textbook_example():
    X = torch.arange(9.0).reshape(3, 3)
    assert dlcourse.pool2d(X, (2, 2)).tolist() == [[4.0, 5.0], [7.0, 8.0]]
    assert dlcourse.pool2d(X, (2, 2), "avg").tolist() == [[2.0, 3.0], [5.0, 6.0]]


@pytest.mark.parametrize("pool_size", [(2, 2), (3, 2), (1, 4), (5, 6)])
def test_pool2d_matches_torch(pool_size):
    X = torch.randn(5, 6)
    torch.testing.assert_close(
        dlcourse.pool2d(X, pool_size, "max"), F.max_pool2d(X[None, None], pool_size, stride=1)[0, 0]
    )
    torch.testing.assert_close(
        dlcourse.pool2d(X, pool_size, "avg"), F.avg_pool2d(X[None, None], pool_size, stride=1)[0, 0]
    )


def test_pool2d_average_of_integers_is_a_float():
    Y = dlcourse.pool2d(torch.arange(9).reshape(3, 3), (2, 2), "avg")
    assert Y.dtype == torch.float32 and Y.tolist() == [[2.0, 3.0], [5.0, 6.0]]


def test_pool2d_rejects_unknown_modes_and_large_windows():
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg', got 'mean'"):
        dlcourse.pool2d(torch.ones(3, 3), (2, 2), mode="mean")
    with pytest.raises(ValueError, match=r"pool_size \(4, 1\) does not fit in input \(3, 3\)"):
        dlcourse.pool2d(torch.ones(3, 3), (4, 1))
