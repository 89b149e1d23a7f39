"""Tests of code/dlcourse/lenet.py: LeNet against d2l 1.0.3 (shapes, parameters, Xavier
weights), its modernised variant and its checks, and Trainer behaviour that d2l gets wrong,
checked with LeNet."""

import math

import pytest
import torch
from torch import nn

import dlcourse


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
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a, **k: (7, 5))  # a T4
    assert dlcourse.Trainer(max_epochs=1).device == torch.device("cuda:0")
