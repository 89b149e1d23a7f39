"""dlcourse.costs: the "Expected time" line of the training pages, from the records."""

import pytest

from dlcourse import costs


@pytest.fixture
def records(tmp_path, monkeypatch):
    for name in ("EXECUTION_TIMES", "SMOKE", "GPU_RUNS"):
        monkeypatch.setattr(costs, name, tmp_path / f"{name.lower()}.csv")
    return tmp_path


def test_a_page_without_records_says_so(records):
    assert str(costs.expected_cost("ch08_modern_cnn/alexnet")) == (
        "Expected time: The CPU time of the quick profile is not measured yet."
    )


def test_quick_time_and_smoke_projection(records):
    costs.update_execution_times(
        [
            {
                "page": "ch07_cnn/lenet",
                "profile": "quick",
                "device": "CPU",
                "seconds": "90",
                "date": "2026-12-01",
            }
        ]  # fmt: skip
    )
    costs.replace_pages(
        costs.SMOKE,
        costs.SMOKE_FIELDS,
        [
            {
                "page": "ch07_cnn/lenet",
                "fits": 3,
                "seconds_per_batch": "0.5",
                "peak_memory_mb": "1536",
                "projected_full_seconds": "3000",
                "full_flop": "1.3e15",  # 500 s at the T4's assumed 2.6 TFLOP/s
                "full_batches": "12000",  # 60 s at its assumed 5 ms per minibatch
                "device": "CPU",
                "date": "2026-12-01",
            }
        ],  # fmt: skip
    )
    line = str(costs.expected_cost("ch07_cnn/lenet"))
    assert line == (
        "Expected time: About 1.5 min on a CPU (quick profile). "
        "About 9.3 min on a Colab T4 (full, projected)."
    )
    assert costs.expected_cost("ch07_cnn/lenet")._repr_markdown_().startswith("**Expected time:**")


def test_projection_is_flop_over_sustained_throughput_plus_per_batch_cost():
    row = {"full_flop": "2.6e12", "full_batches": "200"}
    assert costs.projected_seconds(row, "T4") == pytest.approx(1.0 + 200 * 0.005)
    h100 = costs.GPU_ASSUMPTIONS["H100"]
    assert costs.projected_seconds(row, "H100") == pytest.approx(
        2.6e12 / h100.sustained_flops + 200 * h100.overhead_ms / 1000
    )
    assert costs.projected_seconds({"full_flop": ""}) is None  # an older record: no count


def test_a_gpu_run_replaces_the_projection(records):
    costs.replace_pages(
        costs.GPU_RUNS,
        costs.GPU_FIELDS,
        [
            {
                "page": "ch08_modern_cnn/alexnet",
                "model": "AlexNet",
                "examples_per_sec": "9000",
                "seconds_per_epoch": "7",
                "peak_memory_mb": "5000",
                "val_acc": "0.88",
                "reference": "0.870",
                "seconds": s,
                "device": "H200",
                "torch": "2.9",
                "date": "2026-12-02",
            }
            for s in ("60", "30")
        ],  # fmt: skip
    )
    line = str(costs.expected_cost("ch08_modern_cnn/alexnet"))
    assert line.endswith("About 1.5 min on a H200 (full, measured).")


def test_a_failed_gpu_run_is_not_taken_for_a_measurement(records):
    row = {k: "" for k in costs.GPU_FIELDS}
    failed = {**row, "page": "ch07_cnn/lenet", "seconds": "5", "device": "H100",
              "status": "failed: cell 7: RuntimeError: planted"}  # fmt: skip
    costs.write(costs.GPU_RUNS, costs.GPU_FIELDS, [failed])
    assert "(full, measured)" not in str(costs.expected_cost("ch07_cnn/lenet"))


def test_later_times_replace_earlier_ones(records):
    row = {"page": "a/b", "profile": "quick", "device": "CPU", "seconds": "10", "date": "d1"}
    costs.update_execution_times([row])
    costs.update_execution_times([{**row, "seconds": "20", "date": "d2"}])
    assert [r["seconds"] for r in costs.read(costs.EXECUTION_TIMES)] == ["20"]


@pytest.mark.parametrize("bad", ["alexnet", "", 3])
def test_page_names_are_checked(bad):
    error = TypeError if bad == 3 else ValueError
    with pytest.raises(error, match=rf"page must be .*{bad!r}"):
        costs.expected_cost(bad)
