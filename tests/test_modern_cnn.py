"""Tests of code/dlcourse/modern_cnn.py: AlexNet, VGG, NiN, Inception and GoogLeNet.

d2l 1.0.3's package does not export these networks, so shapes and parameter counts are
checked against the layer formulas of chapter 7, computed independently here. The large
networks are built on PyTorch's "meta" device, which tracks shapes but stores no numbers.
"""

import math

import pytest
import torch
from torch import nn

import dlcourse


def conv_params(c_in, c_out, k):
    return c_in * c_out * k * k + c_out


def linear_params(n_in, n_out):
    return n_in * n_out + n_out


def out_size(n, k, s=1, p=0):
    return (n + 2 * p - k) // s + 1


def on_meta(make):
    with torch.device("meta"):
        return make()


# -- AlexNet -------------------------------------------------------------------------------
def test_alexnet_shapes_at_224():
    rows = dlcourse.layer_summary(on_meta(dlcourse.AlexNet).net, (1, 1, 224, 224))
    n = out_size(224, 11, 4, 1)  # 54
    expected = {0: (1, 96, n, n), 2: (1, 96, out_size(n, 3, 2), out_size(n, 3, 2))}
    n = out_size(out_size(n, 3, 2), 3, 2)  # 12 after the second pooling
    expected[5] = (1, 256, n, n)
    expected[12] = (1, 256, out_size(n, 3, 2), out_size(n, 3, 2))  # (1, 256, 5, 5)
    expected[13] = (1, 6400)
    expected[20] = (1, 10)
    for i, shape in expected.items():
        assert rows[i].output_shape == shape, (i, rows[i])


def test_alexnet_parameter_count():
    model = on_meta(dlcourse.AlexNet)
    convs = (
        conv_params(1, 96, 11)
        + conv_params(96, 256, 5)
        + conv_params(256, 384, 3)
        + conv_params(384, 384, 3)
        + conv_params(384, 256, 3)
    )
    dense = linear_params(6400, 4096) + linear_params(4096, 4096) + linear_params(4096, 10)
    assert dlcourse.num_params(model) == convs + dense == 46_764_746


def test_alexnet_smallest_image_is_65_and_the_error_says_so():
    assert on_meta(lambda: dlcourse.AlexNet(image_size=65)).min_size == 65
    with pytest.raises(
        ValueError,
        match=r"image_size \(64, 64\) is too small for AlexNet: "
        r"its smallest input is 65x65",
    ):
        on_meta(lambda: dlcourse.AlexNet(image_size=64))


def test_alexnet_rejects_another_image_size_at_forward():
    model = dlcourse.AlexNet(image_size=65)
    with pytest.raises(ValueError, match=r"built for 65x65 images, got 96x96.*image_size="):
        model(torch.zeros(1, 1, 96, 96))


def test_alexnet_weights_are_initialised_in_the_constructor():
    """d2l 1.0.3 applies init_cnn to lazy layers, which silently keeps PyTorch's default
    initialisation; here every layer exists, so the weights are He-normal and biases zero."""
    model = dlcourse.AlexNet(image_size=65)
    layers = [m for m in model.net if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == 8
    for layer in layers:
        fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
        assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.1)
        assert torch.count_nonzero(layer.bias) == 0
    # PyTorch's default (uniform on +-1/sqrt(fan_in)) has a std of 1/sqrt(3 fan_in),
    # 2.4 times smaller: the check above tells the two apart
    first = layers[0]
    assert first.weight.std().item() > 2 / math.sqrt(3 * 121)


def test_every_network_is_initialised_by_its_constructor():
    for make in (
        lambda: dlcourse.VGG(arch=((1, 8), (1, 16)), image_size=16),
        dlcourse.NiN,
        dlcourse.GoogLeNet,
    ):
        torch.manual_seed(0)
        model = make()
        for layer in model.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)) and layer.weight.numel() > 1000:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
                assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.15)


def test_init_cnn_kaiming_refuses_lazy_layers():
    with pytest.raises(ValueError, match="LazyLinear has no weights yet"):
        nn.Sequential(nn.LazyLinear(4)).apply(dlcourse.init_cnn_kaiming)


# -- VGG and NiN ---------------------------------------------------------------------------
def test_vgg_block_keeps_size_through_convs_and_halves_it_at_the_end():
    block = dlcourse.vgg_block(2, 3, 8)
    assert block(torch.zeros(1, 3, 10, 12)).shape == (1, 8, 5, 6)
    assert sum(isinstance(m, nn.Conv2d) for m in block) == 2


def test_vgg11_parameter_count_and_shapes():
    model = on_meta(dlcourse.VGG)
    convs, c_in = 0, 1
    for num_convs, c_out in dlcourse.modern_cnn.VGG11_ARCH:
        for _ in range(num_convs):
            convs += conv_params(c_in, c_out, 3)
            c_in = c_out
    dense = linear_params(512 * 7 * 7, 4096) + linear_params(4096, 4096) + linear_params(4096, 10)
    assert dlcourse.num_params(model) == convs + dense == 128_806_154
    rows = dlcourse.layer_summary(model.net, (1, 1, 224, 224))
    assert [r.output_shape for r in rows[:5]] == [
        (1, 64, 112, 112),
        (1, 128, 56, 56),
        (1, 256, 28, 28),
        (1, 512, 14, 14),
        (1, 512, 7, 7),
    ]
    assert model.min_size == 32


def test_narrow_vgg11_of_the_textbook_parameter_count_and_shapes():
    """d2l trains VGG-11 with every block's channels divided by 4 (section 8.2)."""
    arch = ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))
    model = on_meta(lambda: dlcourse.VGG(arch=arch, lr=0.01, image_size=224))
    convs, c_in = 0, 1
    for num_convs, c_out in arch:
        for _ in range(num_convs):
            convs += conv_params(c_in, c_out, 3)
            c_in = c_out
    dense = linear_params(128 * 7 * 7, 4096) + linear_params(4096, 4096) + linear_params(4096, 10)
    assert dlcourse.num_params(model) == convs + dense
    rows = dlcourse.layer_summary(model.net, (1, 1, 224, 224))
    assert [r.output_shape for r in rows[:6]] == [
        (1, 16, 112, 112),
        (1, 32, 56, 56),
        (1, 64, 28, 28),
        (1, 128, 14, 14),
        (1, 128, 7, 7),
        (1, 6272),
    ]
    small = dlcourse.VGG(arch=arch, lr=0.01, image_size=32)  # the quick profile's size
    assert small.net[6].in_features == 128 and small(torch.zeros(2, 1, 32, 32)).shape == (2, 10)


def test_vgg_rejects_a_bad_arch():
    with pytest.raises(ValueError, match="arch must be"):
        dlcourse.VGG(arch=((1, 0),), image_size=32)


def test_nin_parameter_count_and_shapes():
    model = on_meta(dlcourse.NiN)

    def nin(c_in, c_out, k):
        return conv_params(c_in, c_out, k) + 2 * conv_params(c_out, c_out, 1)

    expected = nin(1, 96, 11) + nin(96, 256, 5) + nin(256, 384, 3) + nin(384, 10, 3)
    assert dlcourse.num_params(model) == expected == 1_992_166
    rows = dlcourse.layer_summary(model.net, (1, 1, 224, 224))
    assert [r.output_shape for r in rows] == [
        (1, 96, 54, 54),
        (1, 96, 26, 26),
        (1, 256, 26, 26),
        (1, 256, 12, 12),
        (1, 384, 12, 12),
        (1, 384, 5, 5),
        (1, 384, 5, 5),
        (1, 10, 5, 5),
        (1, 10, 1, 1),
        (1, 10),
    ]


def test_nin_too_small_input_names_the_smallest_size():
    model = dlcourse.NiN()
    assert model.min_size == 67
    assert model(torch.zeros(2, 1, 67, 67)).shape == (2, 10)
    with pytest.raises(
        ValueError,
        match=r"66x66 images are too small for NiN: its smallest "
        r"input is 67x67",
    ):
        model(torch.zeros(2, 1, 66, 66))


# -- Inception and GoogLeNet ---------------------------------------------------------------
def test_inception_concatenates_four_paths_of_the_input_size():
    block = dlcourse.Inception(192, 64, (96, 128), (16, 32), 32)
    X = torch.randn(2, 192, 7, 5)
    Y = block(X)
    assert block.out_channels == 256 and Y.shape == (2, 256, 7, 5)
    torch.testing.assert_close(Y[:, :64], block.b1(X))  # path 1 first, path 4 last
    torch.testing.assert_close(Y[:, -32:], block.b4(X))
    expected = (
        conv_params(192, 64, 1)
        + conv_params(192, 96, 1)
        + conv_params(96, 128, 3)
        + conv_params(192, 16, 1)
        + conv_params(16, 32, 5)
        + conv_params(192, 32, 1)
    )
    assert dlcourse.num_params(block) == expected


def test_googlenet_stage_shapes_at_96_and_parameter_count():
    model = dlcourse.GoogLeNet()
    rows = dlcourse.layer_summary(model.net, (1, 1, 96, 96))
    assert [r.output_shape for r in rows] == [
        (1, 64, 24, 24),
        (1, 192, 12, 12),
        (1, 480, 6, 6),
        (1, 832, 3, 3),
        (1, 1024),
        (1, 10),
    ]
    channels = [
        (192, 256),
        (256, 480),
        (480, 512),
        (512, 512),
        (512, 512),
        (512, 528),
        (528, 832),
        (832, 832),
        (832, 1024),
    ]
    inceptions = [m for m in model.modules() if isinstance(m, dlcourse.Inception)]
    assert [(b.b1[0].in_channels, b.out_channels) for b in inceptions] == channels
    stem = conv_params(1, 64, 7) + conv_params(64, 64, 1) + conv_params(64, 192, 3)
    blocks = sum(dlcourse.num_params(b) for b in inceptions)
    assert dlcourse.num_params(model) == stem + blocks + linear_params(1024, 10) == 5_977_530


def test_googlenet_accepts_any_size_down_to_one_pixel():
    """Every stride-2 layer pads, so even a 1x1 image passes (min_size is 1)."""
    model = dlcourse.GoogLeNet()
    assert model.min_size == 1
    model.eval()
    for n in (1, 2, 17, 32):
        assert model(torch.zeros(1, 1, n, n)).shape == (1, 10)
    with pytest.raises(ValueError, match=r"expects a batch of shape \(batch_size, 1"):
        model(torch.zeros(1, 3, 32, 32))


@pytest.mark.parametrize(
    "make, size",
    [
        (lambda: dlcourse.AlexNet(lr=0.02, image_size=65), 65),
        (lambda: dlcourse.VGG(arch=((1, 8), (1, 16)), lr=0.05, image_size=16), 16),
        (lambda: dlcourse.NiN(lr=0.05), 67),
        (lambda: dlcourse.GoogLeNet(lr=0.05), 16),
    ],
    ids=["AlexNet", "VGG", "NiN", "GoogLeNet"],
)
def test_smoke_a_few_steps_lower_the_loss(make, size):
    """Fitting one fixed batch: the loss after some steps is below the first one."""
    X, y = torch.rand(16, 1, size, size), torch.arange(16) % 10
    model = make()
    optimizer = model.configure_optimizers()
    model.eval()  # no dropout, so the comparison is between two deterministic losses
    with torch.no_grad():
        before = model.loss(model(X), y).item()
    model.train()
    for _ in range(12):
        loss = model.training_step((X, y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        after = model.loss(model(X), y).item()
    assert after < before


@pytest.mark.parametrize(
    "make",
    [lambda: dlcourse.AlexNet(lr=-1, image_size=65), lambda: dlcourse.GoogLeNet(num_classes=1)],
)
def test_bad_hyperparameters_are_rejected(make):
    with pytest.raises(ValueError, match="lr must be a positive number|num_classes must be"):
        make()
