"""Tensor basics and device helpers (chapter 2 and every training page).

Seeding, choosing a device and timing code (used by every training page), and the inspection
helpers of section 2.1 that look inside a tensor: its layout in memory and a float32's bits.
"""

from __future__ import annotations

import os
import platform
import random
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ._checks import check_bool, check_int, check_tensor


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's random generators (CPU and every GPU).

    Call it once, at the top of a page. The book's data sets draw from generators of their
    own (seeded from this one), so a second call before building a model gives the model
    the same weights as the first call would, never a copy of the data's draws.
    """
    check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def num_gpus() -> int:
    """Number of CUDA devices PyTorch can use."""
    return torch.cuda.device_count()


def try_gpu(i: int = 0) -> torch.device:
    """The ``i``-th GPU if it exists, else the CPU (also when ``i`` is past the last GPU)."""
    check_int("i", i, minimum=0, what="a non-negative GPU index", fix="use 0 for the first GPU")
    if i < num_gpus():
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")


def try_all_gpus() -> list[torch.device]:
    """Every available GPU, or ``[cpu]`` when there is none."""
    return [torch.device(f"cuda:{i}") for i in range(num_gpus())] or [torch.device("cpu")]


def device_name() -> str:
    """The GPU's name, or the CPU's model and core count (as the book's records name it)."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    model = models[0] if models else (platform.processor() or platform.machine() or "CPU")
    return f"{model} ({os.cpu_count()} cores)"


def synchronize(device: torch.device | str) -> None:
    """Wait for queued work on ``device`` (GPU work runs asynchronously; CPU work does not)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Timer:
    """Record several running times: ``start()``, ``stop()``, then ``avg()``, ``sum()``.

    GPU work runs asynchronously, so when CUDA is available the timer waits for every queued
    kernel (``torch.cuda.synchronize()``) before reading the clock; otherwise it would time
    only the queueing. ``sync=False`` skips the wait (to measure exactly that queueing).
    """

    def __init__(self, sync: bool = True) -> None:
        self.sync = check_bool("sync", sync)
        self.times: list[float] = []
        self.start()

    def _clock(self) -> float:
        if self.sync and torch.cuda.is_available():
            torch.cuda.synchronize()  # finish queued GPU work before reading the clock
        return time.perf_counter()

    def start(self) -> None:
        self._tik = self._clock()

    def stop(self) -> float:
        """Stop the timer, record the elapsed seconds and return them."""
        self.times.append(self._clock() - self._tik)
        return self.times[-1]

    def avg(self) -> float:
        if not self.times:
            raise ValueError("Timer.avg() needs at least one interval; call start() and stop()")
        return sum(self.times) / len(self.times)

    def sum(self) -> float:
        return sum(self.times)

    def cumsum(self) -> list[float]:
        return np.cumsum(self.times).tolist()


# -- Looking inside a tensor (section 2.1) ----------------------------------------------
class TensorInfo(NamedTuple):
    """What ``describe`` reports: the metadata that maps a tensor onto its memory."""

    shape: tuple[int, ...]
    dtype: torch.dtype
    device: str
    stride: tuple[int, ...]
    storage_offset: int
    is_contiguous: bool


def describe(t: torch.Tensor) -> TensorInfo:
    """Shape, dtype, device, strides, storage offset and contiguity of ``t``.

    Two tensors with the same storage but different strides or offsets are different views
    of the same numbers; this is the information that tells them apart.
    """
    check_tensor("t", t)
    return TensorInfo(
        shape=tuple(t.shape),
        dtype=t.dtype,
        device=str(t.device),
        stride=tuple(t.stride()),
        storage_offset=t.storage_offset(),
        is_contiguous=t.is_contiguous(),
    )


def _byte_range(x) -> tuple[str, int, int]:
    """(device, first byte, one past the last byte) of the memory behind a tensor or array."""
    if isinstance(x, np.ndarray):
        # numpy >= 2 moved byte_bounds; an array's own span is what a view of it can touch.
        byte_bounds = getattr(np, "byte_bounds", None) or np.lib.array_utils.byte_bounds
        low, high = byte_bounds(x)
        return "cpu", low, high
    if isinstance(x, torch.Tensor):
        storage = x.untyped_storage()  # the whole block, not only the part this view shows
        return str(x.device), storage.data_ptr(), storage.data_ptr() + storage.nbytes()
    raise TypeError(
        f"expected a torch.Tensor or a numpy.ndarray, got {type(x).__name__}; "
        "convert it with torch.as_tensor(...)"
    )


def shares_storage(a, b) -> bool:
    """True if ``a`` and ``b`` live in the same block of memory (one may be a view of the other).

    Writing into one of them can then change the other. Works for tensors and NumPy arrays,
    e.g. ``shares_storage(x, x.numpy())`` is True.
    """
    device_a, low_a, high_a = _byte_range(a)
    device_b, low_b, high_b = _byte_range(b)
    if device_a != device_b or low_a == high_a or low_b == high_b:
        return False  # different devices, or an empty tensor that owns no memory
    return low_a < high_b and low_b < high_a


class Float32Fields(NamedTuple):
    """The three fields of an IEEE-754 single-precision number and the value they encode."""

    bits: str  # "s eeeeeeee mmmmmmmmmmmmmmmmmmmmmmm"
    sign: int  # 0 for positive, 1 for negative
    exponent: int  # the stored (biased) exponent, 0..255; the power of two is exponent - 127
    mantissa: int  # the 23 stored fraction bits as an integer, 0..2**23 - 1
    value: float  # (-1)**sign * 2**(exponent - 127) * (1 + mantissa / 2**23) for normal numbers


def float32_fields(x) -> Float32Fields:
    """Split a float32 number (a Python number or a one-element float32 tensor) into its bits.

    The bits are read from the tensor's memory with ``view(torch.int32)``, which reinterprets
    the same four bytes as an integer, and ``value`` is decoded from them, not copied from x.
    """
    if isinstance(x, torch.Tensor):
        if x.dtype != torch.float32:
            raise TypeError(f"x must be a float32 tensor, got {x.dtype}; convert it with x.float()")
        if x.numel() != 1:
            raise ValueError(
                f"x must hold one number, got a tensor of shape {tuple(x.shape)}; "
                "pick one element, e.g. x[0]"
            )
        t = x.detach().cpu().reshape(())
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        t = torch.tensor(float(x), dtype=torch.float32)
    else:
        raise TypeError(f"x must be a number or a float32 tensor, got {type(x).__name__} {x!r}")
    raw = t.view(torch.int32).item() & 0xFFFFFFFF  # the same 4 bytes read as an unsigned int
    sign, exponent, mantissa = raw >> 31, (raw >> 23) & 0xFF, raw & 0x7FFFFF
    if exponent == 255:  # all ones: infinity (mantissa 0) or not-a-number
        value = float("nan") if mantissa else (-1.0) ** sign * float("inf")
    elif exponent == 0:  # subnormal: no implicit leading 1, fixed exponent -126
        value = (-1.0) ** sign * 2.0**-126 * (mantissa / 2**23)
    else:
        value = (-1.0) ** sign * 2.0 ** (exponent - 127) * (1 + mantissa / 2**23)
    bits = f"{raw:032b}"
    return Float32Fields(f"{bits[0]} {bits[1:9]} {bits[9:]}", sign, exponent, mantissa, value)
