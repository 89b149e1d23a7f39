"""Data sets of the book: synthetic regression data (section 3.3) and Fashion-MNIST (4.2).

Fashion-MNIST is looked for, in this order, in ``$DLCOURSE_DATA/fashion-mnist`` (default
``~/.cache/dlcourse/fashion-mnist``), in the system copy that Debian's package
``dataset-fashion-mnist`` installs, and finally downloaded with torchvision. Each file is
decoded once into a uint8 tensor (about 55 MB for the whole set), resized once if asked,
and minibatches are sliced from memory on the training device.
"""

from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path

import torch
from torch.nn import functional as F

from . import profile
from ._checks import check_int, check_size_pair, check_std
from .plotting import show_images
from .tensors import try_gpu
from .training import DataModule, TensorLoader

SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_FILES = {
    # split: (images file, labels file, number of examples)
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60000),
    "val": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10000),
}
TEXT_LABELS = (
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)  # fmt: skip


class SyntheticRegressionData(DataModule):
    """Examples of y = Xw + b + noise with X drawn from a standard normal (section 3.3).

    ``w`` is a 1-D tensor of true weights, ``b`` the true bias and ``noise`` the standard
    deviation of the Gaussian noise; the first ``num_train`` examples are for training and
    the next ``num_val`` for validation.

    The examples come from the data set's own random generator (``self.generator``), seeded
    with ``seed`` or, without it, with one number drawn from PyTorch's global generator (so
    ``dlcourse.set_seed`` still makes them reproducible). Reseeding the global generator
    before building a model therefore never replays the data's draws into its weights.
    """

    def __init__(
        self,
        w,
        b,
        noise: float = 0.01,
        num_train: int = 1000,
        num_val: int = 1000,
        batch_size: int = 32,
        seed: int | None = None,
    ):
        super().__init__(batch_size)
        self.generator = data_generator(seed)
        w = torch.as_tensor(w, dtype=torch.float32)
        if w.ndim != 1:
            raise ValueError(
                f"w must be a 1-D tensor of weights, got shape {tuple(w.shape)}; "
                "use e.g. torch.tensor([2, -3.4])"
            )
        check_std("noise", noise)
        check_int("num_train", num_train)
        check_int("num_val", num_val)
        self.w, self.b, self.noise = w, float(b), noise
        self.num_train, self.num_val = num_train, num_val
        n = num_train + num_val
        self.X = torch.randn(n, len(w), generator=self.generator)  # (n, num_inputs)
        noise_term = torch.randn(n, 1, generator=self.generator) * noise
        self.y = self.X @ w.reshape(-1, 1) + self.b + noise_term  # (n, 1)

    def get_dataloader(self, train: bool) -> TensorLoader:
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


def data_generator(seed: int | None = None) -> torch.Generator:
    """A CPU generator of its own for a data set: seeded with ``seed``, or else with one
    number drawn from PyTorch's global generator (reproducible after ``set_seed``)."""
    if seed is None:
        seed = int(torch.randint(2**62, (), dtype=torch.int64))
    return torch.Generator().manual_seed(check_int("seed", seed, minimum=0))


# -- Fashion-MNIST files ------------------------------------------------------------------
def data_dir() -> Path:
    """The book's data directory: ``$DLCOURSE_DATA`` or ``~/.cache/dlcourse``."""
    return Path(os.environ.get("DLCOURSE_DATA") or Path.home() / ".cache" / "dlcourse")


def _candidates(name: str) -> list[Path]:
    local = data_dir() / "fashion-mnist"
    return [d / f for d in (local, SYSTEM_FASHION_MNIST) for f in (name + ".gz", name)]


def find_fashion_mnist_file(name: str) -> Path | None:
    """Path of one Fashion-MNIST file (gzipped or not), or None when there is no copy."""
    return next((p for p in _candidates(name) if p.is_file()), None)


def download_fashion_mnist(root: Path) -> None:
    """Download the four files with torchvision into ``root`` (needs the internet)."""
    import torchvision

    root.mkdir(parents=True, exist_ok=True)
    for train in (True, False):
        torchvision.datasets.FashionMNIST(root=root / "torchvision", train=train, download=True)
    raw = root / "torchvision" / "FashionMNIST" / "raw"
    for split in FASHION_MNIST_FILES.values():
        for name in split[:2]:
            (raw / name).replace(root / name)


def _missing_data_message(name: str, error: Exception) -> str:
    tried = "\n".join(f"  {p}" for p in _candidates(name))
    return (
        f"Fashion-MNIST file {name!r} was not found and could not be downloaded ({error}).\n"
        f"Looked in:\n{tried}\n"
        "Get the data in one of three ways:\n"
        "  1. on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
        "     (installs the files in /usr/share/datasets/fashion-mnist/);\n"
        "  2. copy the four *-ubyte.gz files into $DLCOURSE_DATA/fashion-mnist/\n"
        f"     (DLCOURSE_DATA is now {str(data_dir())!r});\n"
        "  3. connect to the internet: torchvision then downloads them there."
    )


def locate_fashion_mnist(name: str, download: bool = True) -> Path:
    path = find_fashion_mnist_file(name)
    if path is not None:
        return path
    error: Exception = FileNotFoundError("download not attempted")
    if download:
        try:
            download_fashion_mnist(data_dir() / "fashion-mnist")
        except Exception as exc:  # any failure means: no data, so say how to get it
            error = exc
        path = find_fashion_mnist_file(name)
        if path is not None:
            return path
    raise FileNotFoundError(_missing_data_message(name, error))


@functools.lru_cache(maxsize=8)
def read_idx(path: Path, mtime: float | None = None) -> torch.Tensor:
    """Decode an IDX file (the MNIST format), gzipped or not, into a uint8 tensor.

    ``mtime`` is only part of the cache key, so that a replaced file is read again.
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        raise ValueError(
            f"{path} is truncated or corrupted ({exc}); delete it and fetch it again "
            "(or reinstall dataset-fashion-mnist)"
        ) from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (header {raw[:4]!r})")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    expected = offset + int(torch.tensor(dims).prod())
    if len(raw) != expected:
        raise ValueError(
            f"{path} is truncated or corrupted: its header announces {expected} bytes of "
            f"shape {dims}, but it holds {len(raw)}; delete it and fetch it again"
        )
    return torch.frombuffer(bytearray(raw[offset:]), dtype=torch.uint8).reshape(dims)


def load_fashion_mnist_split(split: str, download: bool = True):
    """Images (N, 1, 28, 28) and labels (N,) of ``split`` ("train" or "val"), both uint8."""
    images_name, labels_name, n = FASHION_MNIST_FILES[split]
    tensors = []
    for name in (images_name, labels_name):
        path = locate_fashion_mnist(name, download)
        tensors.append(read_idx(path, path.stat().st_mtime))
    images, labels = tensors
    if len(images) != n or len(labels) != n:
        raise ValueError(
            f"Fashion-MNIST {split} split should have {n} examples, found {len(images)} "
            f"images and {len(labels)} labels; the files are incomplete or mixed up"
        )
    return images.unsqueeze(1), labels


def resize_images(images: torch.Tensor, size: tuple[int, int], chunk: int = 2048, device=None):
    """Resize uint8 images (N, C, H, W) once, bilinearly with antialiasing, keeping uint8.

    The work and the result are on ``device`` (default: where ``images`` are); on a GPU,
    resizing 60,000 images to 224x224 takes a fraction of a second instead of a minute.
    """
    device = images.device if device is None else torch.device(device)
    if tuple(images.shape[-2:]) == tuple(size):
        return images.to(device)
    out = torch.empty((len(images), images.shape[1], *size), dtype=torch.uint8, device=device)
    for i in range(0, len(images), chunk):  # chunks bound the float32 working memory
        x = images[i : i + chunk].to(device).float()
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
        out[i : i + chunk] = x.round().clamp(0, 255).to(torch.uint8)
    return out


def _to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float().div_(255)  # uint8 pixels -> float32 in [0, 1]


class FashionMNIST(DataModule):
    """Fashion-MNIST: 60,000 training and 10,000 validation 28x28 grayscale images.

    Minibatches are ``(X, y)`` with ``X`` float32 of shape (batch_size, 1, *resize) in [0, 1]
    and ``y`` int64 class indices. ``num_train``/``num_val`` take the first examples only
    (the execution profile uses this to make CPU runs shorter).
    """

    def __init__(
        self,
        batch_size: int = 64,
        resize=(28, 28),
        num_train: int | None = None,
        num_val: int | None = None,
        download: bool = True,
    ):
        super().__init__(batch_size)
        self.resize = resize = check_size_pair("resize", resize)
        for label, value in (("num_train", num_train), ("num_val", num_val)):
            if value is not None:
                check_int(label, value)
        train_images, self.train_labels = load_fashion_mnist_split("train", download)
        val_images, self.val_labels = load_fashion_mnist_split("val", download)
        self.num_train = min(num_train or len(train_images), len(train_images))
        self.num_val = min(num_val or len(val_images), len(val_images))
        # The sizes a run asked for; a smoke run loads only the minibatches it will take.
        self.nominal_num_train, self.nominal_num_val = self.num_train, self.num_val
        if profile.smoke_batches():
            self.num_train = min(self.num_train, profile.smoke_batches() * batch_size)
            self.num_val = min(self.num_val, profile.smoke_batches() * batch_size)
        # Pixels stay uint8 (a quarter of float32's memory) and on the CPU, like every tensor
        # a page holds; they are resized once, on the GPU when there is one (60,000 images
        # at 224x224 take a minute on a CPU). The Trainer copies them to its device per fit.
        gpu = try_gpu()
        self.train_images = resize_images(train_images[: self.num_train], resize, device=gpu)
        self.val_images = resize_images(val_images[: self.num_val], resize, device=gpu)
        self.train_images, self.val_images = self.train_images.cpu(), self.val_images.cpu()
        self.train_labels = self.train_labels[: self.num_train].long()
        self.val_labels = self.val_labels[: self.num_val].long()

    def get_dataloader(self, train: bool) -> TensorLoader:
        if train:
            tensors = (self.train_images, self.train_labels)
        else:
            tensors = (self.val_images, self.val_labels)
        return TensorLoader(tensors, self.batch_size, shuffle=train, transform=_to_float)

    @staticmethod
    def text_labels(indices) -> list[str]:
        """Names of the classes with the given indices."""
        return [TEXT_LABELS[int(i)] for i in indices]

    def visualize(self, batch, nrows: int = 1, ncols: int = 8, labels=None):
        """Show the first ``nrows * ncols`` images of a batch with their class names."""
        X, y = batch
        if labels is None:
            labels = self.text_labels(y)
        return show_images(X[: nrows * ncols].cpu(), nrows, ncols, titles=labels)


# -- The tiny house CSV of section 2.2 --------------------------------------------------------
HOUSE_TINY_CSV = """NumRooms,RoofType,Price
NA,NA,127500
2,NA,106000
4,Slate,178100
NA,NA,140000
"""


def write_house_tiny_csv(path) -> Path:
    """Write the four-house CSV of section 2.2 (with missing values, "NA") to ``path``.

    Missing folders are created; ``path`` may be a file name or an existing directory (the
    file is then called ``house_tiny.csv``). Returns the file's path.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "house_tiny.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HOUSE_TINY_CSV)
    return path
