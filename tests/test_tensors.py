"""Tests of code/dlcourse/tensors.py: seeding, devices, timing, and the inspection helpers."""

import math
import random
import struct

import numpy as np
import pytest
import torch

import dlcourse
from dlcourse.tensors import Float32Fields, TensorInfo, synchronize


# -- seeding, devices, timer -------------------------------------------------------------
def test_set_seed_repeats_every_generator():
    dlcourse.set_seed(3)
    first = (random.random(), np.random.rand(), torch.rand(2))
    dlcourse.set_seed(3)
    second = (random.random(), np.random.rand(), torch.rand(2))
    assert first[:2] == second[:2]
    torch.testing.assert_close(first[2], second[2])


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_set_seed_rejects_bad_seeds(seed):
    error = ValueError if seed == -1 else TypeError  # a negative int, or not an int at all
    with pytest.raises(error, match=f"seed must be a non-negative integer, got .*{seed!r}"):
        dlcourse.set_seed(seed)


@pytest.mark.reference
def test_device_helpers_agree_with_d2l(d2l):
    assert dlcourse.num_gpus() == d2l.num_gpus()
    assert dlcourse.try_gpu() == d2l.try_gpu()
    assert dlcourse.try_gpu(5) == d2l.try_gpu(5)
    # d2l returns [] without a GPU; the package falls back to the CPU so loops over it work.
    assert dlcourse.try_all_gpus() == (d2l.try_all_gpus() or [torch.device("cpu")])


def test_synchronize_accepts_cpu_and_strings():
    synchronize("cpu")
    synchronize(torch.device("cpu"))


def test_timer_records_each_interval():
    timer = dlcourse.Timer()
    for _ in range(3):
        timer.start()
        sum(range(1000))
        timer.stop()
    assert len(timer.times) == 3 and all(t >= 0 for t in timer.times)
    assert timer.sum() == pytest.approx(sum(timer.times))
    assert timer.avg() == pytest.approx(timer.sum() / 3)
    assert timer.cumsum()[-1] == pytest.approx(timer.sum())


def _pretend_gpus(monkeypatch, count):
    """Make torch report ``count`` CUDA devices (is_available agrees) without a GPU."""
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)


def test_try_gpu_falls_back_to_cpu_without_cuda(monkeypatch):
    _pretend_gpus(monkeypatch, 0)
    assert dlcourse.num_gpus() == 0
    assert dlcourse.try_gpu() == torch.device("cpu")
    assert dlcourse.try_all_gpus() == [torch.device("cpu")]


def test_try_gpu_picks_existing_gpus_and_cpu_past_the_last(monkeypatch):
    _pretend_gpus(monkeypatch, 2)
    assert dlcourse.try_gpu() == torch.device("cuda:0")
    assert dlcourse.try_gpu(1) == torch.device("cuda:1")
    assert dlcourse.try_gpu(2) == torch.device("cpu")  # documented: out of range -> CPU
    assert dlcourse.try_all_gpus() == [torch.device("cuda:0"), torch.device("cuda:1")]


@pytest.mark.parametrize("i", [-1, 1.0, "0", True, None])
def test_try_gpu_rejects_bad_indices(i):
    error = ValueError if i == -1 else TypeError
    with pytest.raises(error, match=f"non-negative GPU index, got .*{i!r}; use 0"):
        dlcourse.try_gpu(i)


def test_timer_synchronises_cuda_before_reading_the_clock(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *args: calls.append(args))
    timer = dlcourse.Timer()  # starts: one synchronisation
    timer.stop()  # and one more before reading the clock
    assert len(calls) == 2
    dlcourse.Timer(sync=False).stop()
    assert len(calls) == 2  # sync=False never waits


def test_timer_does_not_touch_cuda_without_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    def fail(*args):
        raise AssertionError("synchronize called without CUDA")

    monkeypatch.setattr(torch.cuda, "synchronize", fail)
    assert dlcourse.Timer().stop() >= 0


def test_timer_rejects_bad_arguments():
    with pytest.raises(TypeError, match="sync must be True or False"):
        dlcourse.Timer(sync="yes")
    with pytest.raises(ValueError, match="at least one interval"):
        dlcourse.Timer().avg()


# -- describe ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda x: x,
        lambda x: x.T,  # strides swapped, not contiguous
        lambda x: x[1:, 2:],  # a window with an offset
        lambda x: x[:, ::2],  # every other column
        lambda x: x[0].expand(5, 4),  # stride 0 repeats a row without copying
        lambda x: x.to(torch.float64),
    ],
)
def test_describe_matches_torch(make):
    t = make(torch.arange(12.0).reshape(3, 4))
    info = dlcourse.describe(t)
    assert isinstance(info, TensorInfo)
    assert info.shape == tuple(t.shape)
    assert info.dtype == t.dtype
    assert info.device == "cpu"
    assert info.stride == t.stride()
    assert info.storage_offset == t.storage_offset()
    assert info.is_contiguous == t.is_contiguous()


def test_describe_of_known_views():
    X = torch.arange(12.0).reshape(3, 4)
    assert dlcourse.describe(X.T).stride == (1, 4)
    assert dlcourse.describe(X[1:, 2:]).storage_offset == 6
    assert not dlcourse.describe(X.T).is_contiguous


def test_describe_rejects_non_tensors():
    with pytest.raises(TypeError, match="got list"):
        dlcourse.describe([1, 2])


# -- shares_storage ------------------------------------------------------------------------
def test_views_share_storage_copies_do_not():
    x = torch.arange(12.0)
    assert dlcourse.shares_storage(x, x.reshape(3, 4))
    assert dlcourse.shares_storage(x, x.view(4, 3).T)
    assert dlcourse.shares_storage(x, x[5:])
    assert not dlcourse.shares_storage(x, x.clone())
    assert not dlcourse.shares_storage(x, x + 0)
    assert not dlcourse.shares_storage(x, torch.arange(12.0))


def test_shares_storage_agrees_with_writes():
    # the oracle: a write through one tensor shows up in the other exactly when they share
    x = torch.zeros(6)
    for other in (x.reshape(2, 3), x.reshape(2, 3).contiguous(), x[::2], x.clone()):
        before = x.clone()
        other.fill_(1)
        changed = not torch.equal(x, before)
        assert dlcourse.shares_storage(x, other) == changed
        x.zero_()


def test_shares_storage_with_numpy():
    x = torch.arange(4.0)
    assert dlcourse.shares_storage(x, x.numpy())
    assert dlcourse.shares_storage(torch.from_numpy(x.numpy()), x)
    a = np.arange(4.0)
    assert dlcourse.shares_storage(a, torch.from_numpy(a))
    assert dlcourse.shares_storage(a[1:], a)
    assert not dlcourse.shares_storage(a, torch.tensor(a))
    assert np.shares_memory(a, torch.from_numpy(a).numpy())  # numpy agrees


def test_shares_storage_across_devices_and_empty_tensors():
    x = torch.ones(3)
    assert not dlcourse.shares_storage(x, torch.ones(3, device="meta"))
    assert not dlcourse.shares_storage(torch.empty(0), torch.empty(0))


def test_shares_storage_rejects_other_types():
    with pytest.raises(TypeError, match="got list"):
        dlcourse.shares_storage(torch.ones(2), [1.0, 1.0])


# -- float32_fields ------------------------------------------------------------------------
def _bits_by_struct(value: float) -> str:
    """The oracle: Python's struct module packs the same IEEE-754 single-precision bits."""
    (raw,) = struct.unpack(">I", struct.pack(">f", value))
    return f"{raw:032b}"


def test_worked_example_0_15625():
    fields = dlcourse.float32_fields(0.15625)  # = (+1) * 2**-3 * 1.25
    assert fields == Float32Fields(
        bits="0 01111100 01000000000000000000000",
        sign=0,
        exponent=124,
        mantissa=2**21,
        value=0.15625,
    )
    assert fields.exponent - 127 == -3 and 1 + fields.mantissa / 2**23 == 1.25


@pytest.mark.parametrize("value", [1.0, -2.5, 3.14159, 1e-3, -6.5e20, 2.0**-140, 0.0, -0.0, 3.4e38])
def test_fields_match_struct_and_decode_exactly(value):
    fields = dlcourse.float32_fields(value)
    assert fields.bits.replace(" ", "") == _bits_by_struct(value)
    as_float32 = torch.tensor(value, dtype=torch.float32).item()
    assert fields.value == as_float32  # exact: every float32 is a float64
    assert math.copysign(1, fields.value) == math.copysign(1, as_float32)


def test_fields_of_random_tensor_entries():
    x = torch.randn(50) * 1e4
    for entry in x:
        fields = dlcourse.float32_fields(entry)
        assert fields.value == entry.item()
        assert fields.bits.replace(" ", "") == _bits_by_struct(entry.item())


def test_special_values():
    assert dlcourse.float32_fields(float("inf")).value == math.inf
    assert dlcourse.float32_fields(float("-inf")).value == -math.inf
    nan = dlcourse.float32_fields(float("nan"))
    assert nan.exponent == 255 and nan.mantissa != 0 and math.isnan(nan.value)
    tiny = dlcourse.float32_fields(torch.finfo(torch.float32).tiny)  # smallest normal
    assert tiny.exponent == 1 and tiny.mantissa == 0


def test_float32_fields_bad_input():
    with pytest.raises(TypeError, match=r"torch.float64.*x.float\(\)"):
        dlcourse.float32_fields(torch.tensor(1.0, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        dlcourse.float32_fields(torch.ones(2))
    with pytest.raises(TypeError, match="got str"):
        dlcourse.float32_fields("0.5")
