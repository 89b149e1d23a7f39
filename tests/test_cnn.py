"""Tests of code/dlcourse/cnn.py: the operations of chapter 7 against torch and d2l 1.0.3,
LeNet, init_cnn, layer_summary and min_input_size, and the d2l defects the package avoids."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import dlcourse
from dlcourse import cnn


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
    with pytest.raises(ValueError, match="kernel_size must be two positive ints"):
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
    with pytest.raises(ValueError, match=r"X must be a 3-D tensor \(c_i, h, w\), got \(4, 4\)"):
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


# -- init_cnn: the d2l defect --------------------------------------------------------------
def test_d2l_init_cnn_silently_skips_lazy_layers(d2l):
    """The defect: applied before the first forward pass, d2l's init_cnn does nothing."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.LazyConv2d(6, kernel_size=5), nn.Flatten(), nn.LazyLinear(10))
    net.apply(d2l.init_cnn)  # no error ...
    net(torch.zeros(1, 1, 28, 28))
    fan_in, fan_out = 25, 6 * 25
    xavier_bound = math.sqrt(6 / (fan_in + fan_out))
    default_bound = 1 / math.sqrt(fan_in)
    # ... and the weights are PyTorch's defaults, wider than Xavier's
    assert net[0].weight.abs().max() > xavier_bound
    assert net[0].weight.abs().max() <= default_bound


def test_init_cnn_refuses_lazy_layers_instead_of_skipping_them():
    net = nn.Sequential(nn.LazyConv2d(6, kernel_size=5), nn.ReLU())
    with pytest.raises(ValueError, match="LazyConv2d has no weights yet"):
        net.apply(dlcourse.init_cnn)


def xavier_bound(layer):
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(layer.weight)
    return math.sqrt(6 / (fan_in + fan_out))


def test_lenet_weights_are_xavier_uniform_after_construction():
    model = dlcourse.LeNet()
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == 5
    for layer in layers:
        bound = xavier_bound(layer)
        assert layer.weight.abs().max() <= bound
        # a uniform distribution on [-a, a] has standard deviation a / sqrt(3)
        assert layer.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.25)


# -- LeNet ---------------------------------------------------------------------------------
def test_lenet_layer_shapes_and_parameters_match_d2l(d2l):
    ours = dlcourse.LeNet()
    theirs = d2l.LeNet()
    X = torch.zeros(2, 1, 28, 28)
    theirs(X)  # materialise the lazy layers
    rows = dlcourse.layer_summary(ours.net, (2, 1, 28, 28))
    shapes = []
    for layer in theirs.net:
        X = layer(X)
        shapes.append((type(layer).__name__, tuple(X.shape)))
    assert [(r.name, r.output_shape) for r in rows] == shapes
    assert dlcourse.num_params(ours) == sum(p.numel() for p in theirs.parameters()) == 61706
    assert sum(r.num_params for r in rows) == 61706


def test_layer_summary_prints_a_table():
    text = str(dlcourse.layer_summary(dlcourse.LeNet().net, (1, 1, 28, 28)))
    assert "Conv2d" in text and "(1, 16, 10, 10)" in text and "61,706" in text


def test_modern_lenet_has_batch_norm_relu_and_max_pooling():
    model = dlcourse.LeNet(activation=nn.ReLU, pool=nn.MaxPool2d, batch_norm=True)
    kinds = {type(m) for m in model.net}
    assert {nn.BatchNorm2d, nn.BatchNorm1d, nn.ReLU, nn.MaxPool2d} <= kinds
    assert nn.Sigmoid not in kinds and nn.AvgPool2d not in kinds
    assert model(torch.rand(4, 1, 28, 28)).shape == (4, 10)


@pytest.mark.parametrize(
    "options", [{}, {"activation": nn.ReLU, "pool": nn.MaxPool2d, "batch_norm": True}]
)
def test_lenet_smoke_a_few_steps_lower_the_loss(options):
    X, y = torch.rand(32, 1, 28, 28), torch.randint(0, 10, (32,))
    model = dlcourse.LeNet(lr=0.5, **options)
    optimizer = model.configure_optimizers()
    losses = []
    for _ in range(15):
        loss = model.training_step((X, y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_lenet_rejects_images_of_the_wrong_size_and_too_small_a_size():
    with pytest.raises(ValueError, match=r"built for 28x28 images, got 32x32"):
        dlcourse.LeNet()(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r"expects a batch of shape \(batch_size, 1"):
        dlcourse.LeNet()(torch.zeros(1, 28, 28))
    with pytest.raises(ValueError, match=r"too small for LeNet: its smallest input is 12x12"):
        dlcourse.LeNet(image_size=8)
    assert dlcourse.LeNet(image_size=12)(torch.zeros(1, 1, 12, 12)).shape == (1, 10)
    with pytest.raises(ValueError, match="lr must be a positive number, got 0"):
        dlcourse.LeNet(lr=0)


# -- min_input_size and layer_summary's error ----------------------------------------------
def test_min_input_size_is_the_smallest_size_that_runs():
    net = nn.Sequential(
        nn.Conv2d(1, 2, 5), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3), nn.Flatten(), nn.LazyLinear(3)
    )
    n = dlcourse.min_input_size(net)
    assert n == 10  # 5x5 conv: 10 -> 6, pooling: 6 -> 3, 3x3 conv: 3 -> 1
    assert cnn._runs(net[:3], 1, n) and not cnn._runs(net[:3], 1, n - 1)


def test_layer_summary_names_the_layer_and_the_smallest_input():
    net = dlcourse.LeNet().net
    with pytest.raises(
        ValueError,
        match=r"layer 3 \(Conv2d\).*smallest input this network "
        r"accepts is 12x12",
    ):
        dlcourse.layer_summary(net, (1, 1, 8, 8))


# -- Trainer behaviour that d2l 1.0.3 gets wrong, checked with LeNet -----------------------
class TinyImages(dlcourse.DataModule):
    """Random 28x28 'images' with 10 classes; 50 validation examples, so the last validation
    batch (of 16) holds only 2."""

    def __init__(self):
        super().__init__(batch_size=16)
        self.X, self.y = torch.rand(114, 1, 28, 28), torch.randint(0, 10, (114,))

    def get_dataloader(self, train):
        i = slice(0, 64) if train else slice(64, None)
        return self.get_tensorloader((self.X, self.y), train, i)


def test_validation_accuracy_is_weighted_by_examples_not_batches():
    data, model = TinyImages(), dlcourse.LeNet()
    history = dlcourse.Trainer(max_epochs=1, verbose=False, board=False).fit(model, data)
    model.eval()
    with torch.no_grad():
        correct = (model(data.X[64:]).argmax(1) == data.y[64:]).float().mean().item()
    assert history.last["val_acc"] == pytest.approx(correct, abs=1e-6)


def test_training_makes_no_host_synchronisation_per_batch(monkeypatch):
    calls = []
    original = torch.Tensor.item

    def counting_item(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    trainer = dlcourse.Trainer(max_epochs=1, verbose=False, board=False, check_every_batch=False)
    trainer.fit(dlcourse.LeNet(), TinyImages())
    assert len(calls) == 0  # 4 training batches, none read back one by one


def test_trainer_picks_the_gpu_when_there_is_one(monkeypatch):
    monkeypatch.setattr(dlcourse.tensors, "num_gpus", lambda: 1)
    assert dlcourse.Trainer(max_epochs=1).device == torch.device("cuda:0")
