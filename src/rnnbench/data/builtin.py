"""The built-in data sets."""

from __future__ import annotations

from rnnbench.data.dataset import ImageDataset, make_dataset
from rnnbench.data.download import Resource, fetch
from rnnbench.data.npz import load_npz
from rnnbench.data.registry import register_dataset
from rnnbench.data.split import stratified_split
from rnnbench.errors import RnnbenchError

DIGITS_TEST_FRACTION = 0.2

MNIST = Resource(
    filename="mnist.npz",
    sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    mirrors=(
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        "https://s3.amazonaws.com/img-datasets/mnist.npz",
    ),
)


@register_dataset(
    "digits",
    description="scikit-learn's bundled handwritten digits (offline); fixed stratified 80/20 train/test split",
    image_shape=(8, 8, 1),
    classes=10,
    source="scikit-learn (bundled)",
)
def load_digits() -> ImageDataset:
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    pixels = (bunch.images / 16.0).astype("float32")
    train, test = stratified_split(bunch.target, DIGITS_TEST_FRACTION, seed=0)
    return make_dataset("digits", pixels[train], bunch.target[train], pixels[test], bunch.target[test], "digits")


@register_dataset(
    "mnist",
    description="MNIST handwritten digits, 60,000 train / 10,000 test (downloaded once, SHA-256 verified)",
    image_shape=(28, 28, 1),
    classes=10,
    source=MNIST.mirrors[0],
)
def load_mnist() -> ImageDataset:
    try:
        path = fetch(MNIST)
    except RnnbenchError as error:
        raise RnnbenchError(
            f"MNIST is unavailable: {error}; use --dataset digits (offline) or a local .npz path"
        ) from None
    return load_npz(path, name="mnist")
