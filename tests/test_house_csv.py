"""Tests of write_house_tiny_csv in code/dlcourse/data.py (section 2.2)."""

import pandas as pd

import dlcourse


def test_house_tiny_csv_has_the_expected_values(tmp_path):
    path = dlcourse.write_house_tiny_csv(tmp_path / "sub" / "house_tiny.csv")
    assert path.exists()
    data = pd.read_csv(path)
    assert list(data.columns) == ["NumRooms", "RoofType", "Price"]
    assert data["Price"].tolist() == [127500, 106000, 178100, 140000]
    assert data.isna().sum().tolist() == [2, 3, 0]


def test_house_tiny_csv_into_a_directory(tmp_path):
    path = dlcourse.write_house_tiny_csv(tmp_path)
    assert path == tmp_path / "house_tiny.csv"
    assert path.read_text().splitlines()[0] == "NumRooms,RoofType,Price"
