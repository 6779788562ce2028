"""A kept model: Keras' own ``.keras`` file with one more member, ``rnnbench.json``, the model card.

The card holds everything prediction needs besides the weights: the data set's name, classes and image size, how
pixels were scaled, which way round its images are (light or dark background), the sequence view, and where the model
came from (run key, versions, accuracies). Keras ignores the extra member, so the file loads as any ``.keras`` file
once rnnbench's layer classes are registered.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnbench.backend import modules_hidden
from rnnbench.errors import RnnbenchError

if TYPE_CHECKING:
    from rnnbench.spec import ModelSpec

CARD_MEMBER = "rnnbench.json"
# Images on disk are 8-bit; training saw them divided by this (every data set is read into [0, 1]).
PIXEL_SCALE = 255.0


@dataclass(frozen=True)
class ModelCard:
    """What a model file says of itself; ``background`` is the mean border pixel of the training images in [0, 1]
    (near 0: light figures on a dark background, as MNIST)."""

    run_key: str
    model: str
    dataset: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int]
    view: str
    permutation_seed: int | None
    steps: int
    features: int
    background: float
    pixel_scale: float
    seed: int
    best_epoch: int | None
    val_accuracy: float | None
    test_accuracy: float | None
    rnnbench_version: str
    keras_version: str
    backend: str

    def __post_init__(self) -> None:
        """A card that cannot describe a model (a damaged or hand-edited file) is refused on load, not at prediction."""
        height, width, channels = self.image_shape
        if min(height, width) < 1 or channels not in (1, 3):
            raise ValueError(f"image shape {height} x {width} x {channels} is not an image")
        if self.steps < 1 or self.features < 1 or self.steps * self.features != height * width * channels:
            raise ValueError(f"{self.steps} steps x {self.features} features do not read a {height} x {width} x "
                             f"{channels} image")  # fmt: skip
        if len(self.class_names) < 2:
            raise ValueError(f"{len(self.class_names)} class names; a classifier has at least 2")
        if not self.pixel_scale > 0 or not 0.0 <= self.background <= 1.0:
            raise ValueError(f"pixel scale {self.pixel_scale} or background {self.background} out of range")

    @property
    def classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return self.image_shape[2]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        values = json.loads(text)
        values["class_names"] = tuple(values["class_names"])
        values["image_shape"] = tuple(values["image_shape"])
        return cls(**values)


def background_level(images: np.ndarray) -> float:
    """Mean of the one-pixel border of ``images`` (N, H, W, C) in [0, 1]: the background where figures are centred."""
    border = np.concatenate(
        [images[:, 0].reshape(len(images), -1), images[:, -1].reshape(len(images), -1),
         images[:, :, 0].reshape(len(images), -1), images[:, :, -1].reshape(len(images), -1)], axis=1
    )  # fmt: skip
    return float(border.mean())


def describe_model(model: ModelSpec) -> str:
    """``lstm, 64 units`` with what differs from one layer with the reference head: ``, 2 layers, bidirectional``..."""
    parts = [model.name, f"{model.units} units"]
    if model.layers > 1:
        parts.append(f"{model.layers} layers")
    if model.bidirectional:
        parts.append("bidirectional")
    if model.dropout:
        parts.append(f"dropout {model.dropout:g}")
    if model.head != "batchnorm":
        parts.append(f"{model.head} head")
    parts += [f"{name}={value}" for name, value in model.options]
    return ", ".join(parts)


def model_file_bytes(model: Any, card: ModelCard) -> bytes:
    """``model`` as a ``.keras`` file with ``card`` inside, as bytes (a worker sends them to the driver)."""
    with tempfile.TemporaryDirectory(prefix="rnnbench-model-") as folder:
        path = Path(folder) / "model.keras"
        # Keras' serialiser asks whether TensorFlow is installed by importing it: seconds, and log lines on stderr,
        # for nothing a model trained on another backend needs.
        with modules_hidden("tensorflow"):
            model.save(path)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(CARD_MEMBER, card.to_json())
        return path.read_bytes()


def read_card(path: Path) -> ModelCard:
    """The card of a model file; a file that is not one rnnbench wrote is one clear error."""
    if str(path) in ("", "."):
        raise RnnbenchError("the model is empty; give a .keras file that rnnbench saved, or a run key")
    if path.exists() and not path.is_file() and not path.is_dir():
        raise RnnbenchError(f"{path} is not a regular file (a FIFO, a device or a socket); give a .keras file")
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read(CARD_MEMBER).decode()
    except FileNotFoundError:
        raise RnnbenchError(f"model file {path} does not exist") from None
    except IsADirectoryError:
        raise RnnbenchError(f"{path} is a folder; give a .keras file that rnnbench saved") from None
    except PermissionError:
        raise RnnbenchError(f"{path} cannot be read by this user (permission denied)") from None
    except (zipfile.BadZipFile, OSError):
        raise RnnbenchError(f"{path} is not a .keras model file") from None
    except KeyError:
        raise RnnbenchError(
            f"{path} is a Keras file without rnnbench's model card; give one saved with --save-models"
        ) from None
    try:
        return ModelCard.from_json(text)
    except (ValueError, TypeError, KeyError) as error:
        raise RnnbenchError(f"{path}: its model card is unreadable or inconsistent ({error}); save the model again "
                            "with --save-models") from None  # fmt: skip


def load_saved_model(path: Path) -> tuple[Any, ModelCard]:
    """The Keras model of a file rnnbench saved, and its card. Keras must already run on its backend."""
    card = read_card(path)
    import keras

    from rnnbench.models import register_keras_objects

    register_keras_objects()
    try:
        with modules_hidden("tensorflow"):  # see model_file_bytes
            model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # noqa: BLE001 (a damaged or foreign file: said in one line)
        raise RnnbenchError(f"{path}: Keras cannot load it ({type(error).__name__}: {error})") from None
    return model, card
