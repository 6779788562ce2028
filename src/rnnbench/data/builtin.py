"""The built-in data sets: where each comes from, how it is verified, how it is decoded."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rnnbench.data.cifar import read_cifar10, to_gray
from rnnbench.data.dataset import ImageDataset, make_dataset
from rnnbench.data.download import Resource, fetch
from rnnbench.data.idx import IDX_FILES, read_idx
from rnnbench.data.npz import load_npz
from rnnbench.data.registry import register_dataset
from rnnbench.data.source import DataSource
from rnnbench.data.split import stratified_split
from rnnbench.errors import RnnbenchError

DIGITS_TEST_FRACTION = 0.2
KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist/"


def _idx_resources(
    mirrors: tuple[str, ...], md5: dict[str, str], payload: dict[str, str] | None = None, system_dir: str = ""
) -> tuple[Resource, ...]:
    """The four ``.gz`` idx files of an MNIST-style set, in IDX_FILES order (x_train, y_train, x_test, y_test)."""
    resources = []
    for stem, _ in IDX_FILES.values():
        filename = stem + ".gz"
        resources.append(
            Resource(
                filename,
                mirrors=tuple(base + filename for base in mirrors),
                md5=md5[stem],
                payload_sha256=(payload or {}).get(stem),
                system_paths=(system_dir + filename,) if system_dir else (),
            )
        )
    return tuple(resources)


MNIST = Resource(
    "mnist.npz",
    mirrors=(KERAS_DATASETS + "mnist.npz", "https://s3.amazonaws.com/img-datasets/mnist.npz"),
    sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",  # published by Keras
)

# MD5s of the .gz files as published by torchvision; payload SHA-256s measured from Debian's dataset-fashion-mnist.
FASHION_MNIST = _idx_resources(
    mirrors=(KERAS_DATASETS + "fashion-mnist/", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
    md5={
        "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    payload={
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    system_dir=FASHION_SYSTEM_DIR,
)

# MD5s of the .gz files as published by torchvision.
KMNIST = _idx_resources(
    mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
    md5={
        "train-images-idx3-ubyte": "bdb82020997e1d708af4cf47b453dcf7",
        "train-labels-idx1-ubyte": "e144d726b3acfaa3e44228e80efcd344",
        "t10k-images-idx3-ubyte": "5c965bf0a639b31b8f53240b1b52f4d7",
        "t10k-labels-idx1-ubyte": "7320c461ea6c1c855c0b718fb2a4b134",
    },
)

CIFAR10 = Resource(
    "cifar-10-python.tar.gz",
    mirrors=("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",  # published by Keras
    md5="c58f30108f718f92721af3b95e74349a",  # published by torchvision
)


def fetch_for(name: str, resource: Resource, source: DataSource) -> Path:
    """Fetch one resource of data set ``name`` into its cache folder, with an error that says what to do."""
    try:
        return fetch(resource, source.folder(name), offline=source.offline)
    except RnnbenchError as error:
        raise RnnbenchError(f"{name} is unavailable: {error}; use --dataset digits (offline) or a local path") from None


DIGIT_NAMES = tuple("0123456789")
FASHION_MNIST_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                       "Ankle boot")  # fmt: skip
# The romanised readings of the ten hiragana (o, ki, su, tsu, na, ha, ma, ya, re, wo), as in the data set's own table.
KMNIST_NAMES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _idx_dataset(
    name: str, resources: tuple[Resource, ...], source: DataSource, class_names: tuple[str, ...]
) -> ImageDataset:
    x_train, y_train, x_test, y_test = (
        read_idx(fetch_for(name, resource, source), dimensions, resource.payload_sha256)
        for resource, (_, dimensions) in zip(resources, IDX_FILES.values(), strict=True)
    )
    return make_dataset(name, x_train, y_train, x_test, y_test, name, class_names)


@register_dataset(
    "mnist",
    description="handwritten digits (LeCun et al.)",
    image_shape=(28, 28, 1),
    classes=10,
    sizes=(60000, 10000),
    source="Keras mnist.npz (SHA-256)",
    resources=(MNIST,),
)
def load_mnist(source: DataSource) -> ImageDataset:
    dataset = load_npz(fetch_for("mnist", MNIST, source), name="mnist")
    return dataclasses.replace(dataset, class_names=DIGIT_NAMES)


@register_dataset(
    "fashion_mnist",
    description="Zalando's article images, 10 kinds of clothing",
    image_shape=(28, 28, 1),
    classes=10,
    sizes=(60000, 10000),
    source="Debian dataset-fashion-mnist, Keras, Zalando (MD5, payload SHA-256)",
    resources=FASHION_MNIST,
)
def load_fashion_mnist(source: DataSource) -> ImageDataset:
    return _idx_dataset("fashion_mnist", FASHION_MNIST, source, FASHION_MNIST_NAMES)


@register_dataset(
    "kmnist",
    description="Kuzushiji-MNIST, cursive Japanese characters (Clanuwat et al.)",
    image_shape=(28, 28, 1),
    classes=10,
    sizes=(60000, 10000),
    source="ROIS-DS CODH (MD5)",
    resources=KMNIST,
)
def load_kmnist(source: DataSource) -> ImageDataset:
    return _idx_dataset("kmnist", KMNIST, source, KMNIST_NAMES)


def _cifar10(name: str, rgb: bool, source: DataSource) -> ImageDataset:
    x_train, y_train, x_test, y_test = read_cifar10(fetch_for(name, CIFAR10, source))
    if not rgb:
        x_train, x_test = to_gray(x_train), to_gray(x_test)
    return make_dataset(name, x_train, y_train, x_test, y_test, name, CIFAR10_NAMES)


@register_dataset(
    "cifar10",
    description="32 x 32 colour photographs of 10 classes, read as grayscale",
    image_shape=(32, 32, 1),
    classes=10,
    sizes=(50000, 10000),
    source="University of Toronto (SHA-256)",
    resources=(CIFAR10,),
)
def load_cifar10(source: DataSource) -> ImageDataset:
    return _cifar10("cifar10", rgb=False, source=source)


@register_dataset(
    "cifar10:rgb",
    description="CIFAR-10 in colour (rows view: 32 steps x 96 features)",
    image_shape=(32, 32, 3),
    classes=10,
    sizes=(50000, 10000),
    source="University of Toronto (SHA-256)",
    resources=(CIFAR10,),
)
def load_cifar10_rgb(source: DataSource) -> ImageDataset:
    return _cifar10("cifar10:rgb", rgb=True, source=source)


@register_dataset(
    "digits",
    description="scikit-learn's bundled 8 x 8 digits (offline); fixed stratified 80/20 split",
    image_shape=(8, 8, 1),
    classes=10,
    sizes=(1438, 359),
    source="scikit-learn (bundled)",
)
def load_digits(source: DataSource) -> ImageDataset:  # bundled: nothing to fetch
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    pixels = (bunch.images / 16.0).astype("float32")
    train, test = stratified_split(bunch.target, DIGITS_TEST_FRACTION, seed=0)
    x_train, y_train, x_test, y_test = pixels[train], bunch.target[train], pixels[test], bunch.target[test]
    return make_dataset("digits", x_train, y_train, x_test, y_test, "digits", DIGIT_NAMES)
