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


def found() -> bool:
    return all(
        data.find_fashion_mnist_file(name)
        for images, labels, _ in data.FASHION_MNIST_FILES.values()
        for name in (images, labels)
    )


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
            try:
                data.download_fashion_mnist(data.data_dir() / "fashion-mnist")
            except Exception as exc:  # noqa: BLE001 - report any failure with instructions
                print(data._missing_data_message("train-images-idx3-ubyte", exc))
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
