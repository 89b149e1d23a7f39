"""Make sure Fashion-MNIST is available offline; `make setup` runs this once.

Order: a copy the package already finds ($DLCOURSE_DATA or the system copy); else Debian's
package `dataset-fashion-mnist` through apt-get (as root, or with password-less sudo); else a
download through torchvision. Prints where the data is, or exits 1 saying what to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from dlcourse import data

NAMES = [name for split in data.FASHION_MNIST_FILES.values() for name in split[:2]]


def found() -> bool:
    return all(data.find_fashion_mnist_file(name) for name in NAMES)


def apt_install() -> bool:
    if shutil.which("apt-get") is None:
        return False
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if prefix and shutil.which("sudo") is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "dataset-fashion-mnist"],
    ):
        if subprocess.run(prefix + cmd, env=env).returncode != 0:
            return False
    return True


def main() -> int:
    if not found():
        print("Fashion-MNIST not found; trying apt-get install dataset-fashion-mnist ...")
        if not apt_install() or not found():
            print("apt-get did not provide it; trying a download with torchvision ...")
            try:  # downloads when a file is missing; says how to get the data if that fails
                for name in NAMES:
                    data.locate_fashion_mnist(name, download=True)
            except FileNotFoundError as exc:
                print(exc)
                return 1
    for split in ("train", "val"):
        images, labels = data.load_fashion_mnist_split(split, download=False)
        print(
            f"Fashion-MNIST {split}: {tuple(images.shape)} images, {len(labels)} labels "
            f"from {data.find_fashion_mnist_file(data.FASHION_MNIST_FILES[split][0])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
