"""Tests of code/dlcourse/data.py: synthetic data and the Fashion-MNIST loader."""

import gzip
import shutil

import pytest
import torch

import dlcourse
from dlcourse import data as data_module


# -- synthetic regression data ----------------------------------------------------------
def test_synthetic_data_follows_the_formula():
    w, b = torch.tensor([2, -3.4]), 4.2
    data = dlcourse.SyntheticRegressionData(w, b, noise=0.0, num_train=30, num_val=20)
    assert data.X.shape == (50, 2) and data.y.shape == (50, 1)
    torch.testing.assert_close(data.y, data.X @ w.reshape(-1, 1) + b)


def test_synthetic_data_noise_has_the_requested_std():
    w = torch.tensor([1.0])
    data = dlcourse.SyntheticRegressionData(w, 0.0, noise=0.5, num_train=20000, num_val=1)
    residual = data.y - data.X @ w.reshape(-1, 1)
    assert abs(residual.std().item() - 0.5) < 0.02


def test_synthetic_data_matches_d2l_given_the_same_seed(d2l):
    """Our data set's own generator, seeded with 3, draws what d2l draws from the global one."""
    w, b = torch.tensor([2, -3.4]), 4.2
    ours = dlcourse.SyntheticRegressionData(w, b, seed=3)
    torch.manual_seed(3)
    theirs = d2l.SyntheticRegressionData(w, b)
    torch.testing.assert_close(ours.X, theirs.X)
    torch.testing.assert_close(ours.y, theirs.y)


def test_reseeding_before_a_model_does_not_replay_the_data():
    """set_seed(0), data, set_seed(0), model: the weights must not copy a data row (as they
    did when the data came from the global generator: cosine 0.96 with the first input)."""
    dlcourse.set_seed(0)
    data = dlcourse.WeightDecayData(num_train=20, num_val=100, num_inputs=200)
    dlcourse.set_seed(0)
    w = torch.normal(0, 0.01, (200,))
    cosines = torch.nn.functional.cosine_similarity(data.X, w.expand_as(data.X), dim=1)
    assert cosines.abs().max() < 0.5, f"weights align with a data row: {cosines.abs().max():.2f}"


def test_data_sets_stay_reproducible_after_set_seed():
    w = torch.tensor([1.0, -2.0])
    dlcourse.set_seed(5)
    first = dlcourse.SyntheticRegressionData(w, 0.5, num_train=10, num_val=5)
    dlcourse.set_seed(5)
    second = dlcourse.SyntheticRegressionData(w, 0.5, num_train=10, num_val=5)
    third = dlcourse.SyntheticRegressionData(w, 0.5, num_train=10, num_val=5)
    torch.testing.assert_close(first.X, second.X)
    assert not torch.equal(second.X, third.X), "two data sets in a row should differ"


@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_a_bad_data_seed_is_named(seed):
    with pytest.raises((TypeError, ValueError), match="seed"):
        dlcourse.SyntheticRegressionData(torch.tensor([1.0]), 0.0, seed=seed)


def test_synthetic_loaders_split_and_cover_every_example():
    data = dlcourse.SyntheticRegressionData(
        torch.tensor([1.0, 2.0]), 0.5, num_train=100, num_val=40, batch_size=32
    )
    train = list(data.train_dataloader())
    assert [len(y) for _, y in train] == [32, 32, 32, 4]
    seen = torch.cat([y for _, y in train]).sort(dim=0).values
    torch.testing.assert_close(seen, data.y[:100].sort(dim=0).values)
    val = torch.cat([y for _, y in data.val_dataloader()])
    torch.testing.assert_close(val, data.y[100:])  # validation is not shuffled


def test_data_module_moves_its_tensors():
    data = dlcourse.SyntheticRegressionData(torch.tensor([1.0]), 0.0, num_train=4, num_val=4)
    data.to("meta")
    assert data.X.device.type == "meta" and data.y.device.type == "meta"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"w": torch.ones(2, 1)}, ValueError, r"w must be a 1-D tensor.*\(2, 1\)"),
        ({"num_train": 0}, ValueError, "num_train must be a positive integer, got 0"),
        ({"num_val": -5}, ValueError, "num_val must be a positive integer, got -5"),
        ({"noise": -0.1}, ValueError, "noise must be a standard deviation >= 0, got -0.1"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer, got 0"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be a positive integer, got float 2.5"),
    ],
)
def test_synthetic_data_rejects_bad_input(kwargs, error, message):
    args = {"w": torch.tensor([2, -3.4]), "b": 4.2, **kwargs}
    with pytest.raises(error, match=message):
        dlcourse.SyntheticRegressionData(**args)


# -- Fashion-MNIST ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fashion():
    return dlcourse.FashionMNIST(batch_size=256)


def test_fashion_mnist_shapes_and_labels(fashion):
    assert fashion.train_images.shape == (60000, 1, 28, 28)
    assert fashion.val_images.shape == (10000, 1, 28, 28)
    assert fashion.train_images.dtype == torch.uint8
    assert torch.bincount(fashion.train_labels).tolist() == [6000] * 10
    X, y = next(iter(fashion.train_dataloader()))
    assert X.shape == (256, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert X.min() >= 0 and X.max() <= 1
    assert fashion.text_labels([0, 9]) == ["t-shirt", "ankle boot"]


def test_fashion_mnist_matches_torchvision_decoding(fashion, tmp_path):
    """The same pixels and labels as torchvision's reader of the decompressed files."""
    import torchvision

    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for images, labels, _ in data_module.FASHION_MNIST_FILES.values():
        for name in (images, labels):
            source = data_module.find_fashion_mnist_file(name)
            opener = gzip.open if source.suffix == ".gz" else open
            with opener(source, "rb") as src, open(raw / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
    reference = torchvision.datasets.FashionMNIST(tmp_path, train=False, download=False)
    assert torch.equal(reference.data, fashion.val_images[:, 0])
    assert torch.equal(reference.targets, fashion.val_labels)


def test_fashion_mnist_resize_is_done_once_for_the_whole_set():
    data = dlcourse.FashionMNIST(batch_size=32, resize=(14, 20), num_train=100, num_val=50)
    assert data.train_images.shape == (100, 1, 14, 20)
    assert data.val_images.shape == (50, 1, 14, 20)
    X, _ = next(iter(data.val_dataloader()))
    assert X.shape == (32, 1, 14, 20)


def test_resize_on_a_device_keeps_uint8_and_the_shapes():
    """The GPU path of resize_images (work and result on `device`), tried on the CPU and, for
    shapes and dtypes only, on the meta device that stands in for a GPU."""
    images = torch.randint(0, 256, (10, 1, 28, 28), dtype=torch.uint8)
    here = dlcourse.data.resize_images(images, (56, 56))
    on_cpu = dlcourse.data.resize_images(images, (56, 56), device="cpu", chunk=3)
    assert on_cpu.dtype == torch.uint8 and torch.equal(here, on_cpu)  # chunking changes nothing
    on_meta = dlcourse.data.resize_images(images, (56, 56), device="meta")
    assert on_meta.device.type == "meta" and on_meta.shape == (10, 1, 56, 56)
    assert on_meta.dtype == torch.uint8


def test_fashion_mnist_epoch_visits_every_example_once():
    data = dlcourse.FashionMNIST(batch_size=64, num_train=1000, num_val=10)
    labels = torch.cat([y for _, y in data.train_dataloader()])
    assert torch.equal(labels.sort().values, data.train_labels.sort().values)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer, got 0"),
        ({"batch_size": -1}, ValueError, "batch_size must be a positive integer, got -1"),
        ({"batch_size": 64.0}, TypeError, "batch_size must be a positive integer, got float 64.0"),
        (
            {"resize": (0, 28)},
            ValueError,
            r"resize must be a positive int or a \(height.*\(0, 28\)",
        ),
        ({"resize": -3}, ValueError, r"resize must be a positive int or a \(height.*got -3"),
        ({"resize": 2.5}, TypeError, r"resize must be a positive int or a \(height.*got float 2.5"),
    ],
)
def test_fashion_mnist_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        dlcourse.FashionMNIST(**kwargs)


def test_missing_data_offline_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr(data_module, "SYSTEM_FASHION_MNIST", tmp_path / "no-system-copy")

    def offline(root):
        raise OSError("network is unreachable")

    monkeypatch.setattr(data_module, "download_fashion_mnist", offline)
    with pytest.raises(FileNotFoundError) as info:
        dlcourse.FashionMNIST()
    message = str(info.value)
    assert "network is unreachable" in message
    assert "DLCOURSE_DATA" in message and str(tmp_path / "empty") in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "torchvision then downloads" in message


def _copy_dataset(tmp_path):
    local = tmp_path / "fashion-mnist"
    local.mkdir()
    for images, labels, _ in data_module.FASHION_MNIST_FILES.values():
        for name in (images, labels):
            source = data_module.find_fashion_mnist_file(name)
            shutil.copy(source, local / source.name)
    return local


def test_local_directory_is_preferred(tmp_path, monkeypatch):
    local = _copy_dataset(tmp_path)
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path))
    assert data_module.find_fashion_mnist_file("t10k-labels-idx1-ubyte").parent == local


def test_truncated_file_is_detected_and_named(tmp_path, monkeypatch):
    local = _copy_dataset(tmp_path)
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path))
    victim = next(local.glob("t10k-images-idx3-ubyte*"))
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    with pytest.raises(ValueError, match=f"{victim}.* truncated or corrupted"):
        dlcourse.FashionMNIST(num_train=10)


def test_short_uncompressed_file_is_detected(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    header = bytes([0, 0, 8, 1]) + (10000).to_bytes(4, "big")
    path.write_bytes(header + bytes(9000))  # 1000 labels missing
    with pytest.raises(ValueError, match="announces 10008 bytes .* holds 9008"):
        data_module.read_idx(path, path.stat().st_mtime)
