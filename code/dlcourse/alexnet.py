"""AlexNet (section 8.1), for 1-channel images such as Fashion-MNIST, and its dense head.

Every layer is created with its input size (``nn.Conv2d``/``nn.Linear``, never the lazy
versions), so the initialisation in the constructor really takes effect. It is He (Kaiming)
initialisation, made for ReLU networks: with Xavier's (d2l's intent) or PyTorch's default
the networks of chapter 8 spend their first hundreds of SGD steps at chance level (measured
on the quick profile's settings), while with He's they start learning at once. Networks
whose first linear layer follows a flatten (AlexNet, VGG) need the image size to compute its
in-features; those that end in global average pooling accept any image at least
``min_size`` wide. ``classifier_head`` is AlexNet's dense head, which VGG reuses.
"""

from __future__ import annotations

from torch import nn

from ._checks import check_classifier_args, check_size_pair
from .cnn_utils import CNNClassifier, flat_features, init_cnn_kaiming, min_input_size


def classifier_head(num_flat: int, num_classes: int, dropout: float = 0.5) -> list[nn.Module]:
    """Two 4096-unit hidden layers with dropout, then the output layer (AlexNet and VGG)."""
    return [
        nn.Flatten(),
        nn.Linear(num_flat, 4096),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(4096, num_classes),
    ]


class AlexNet(CNNClassifier):
    """AlexNet (section 8.1) for 1-channel images of side ``image_size`` (224 in the book).

    Five convolutional layers (96, 256, 384, 384, 256 channels), three max-pooling layers,
    two 4096-unit layers with dropout 0.5. The smallest image it accepts is 65x65.
    """

    def __init__(
        self, lr: float = 0.01, num_classes: int = 10, image_size: int | tuple[int, int] = 224
    ):
        super().__init__()
        check_classifier_args(lr, num_classes)
        self.lr, self.image_size = lr, check_size_pair("image_size", image_size)
        body = nn.Sequential(
            nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        num_flat = flat_features(body, 1, self.image_size, "AlexNet")  # 6400 at 224x224
        self.min_size = min_input_size(body)  # 65
        self.net = nn.Sequential(*body, *classifier_head(num_flat, num_classes))
        self.net.apply(init_cnn_kaiming)
