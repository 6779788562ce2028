"""rnnbench predict on image files drawn from the data set itself: at another size, in colour, inverted; and files
that are not images. Predictions equal the model's own on the arrays the files hold."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from rnnbench.cli import main
from rnnbench.data import get_view
from rnnbench.data.prepare import prepare_data
from rnnbench.errors import RnnbenchError
from rnnbench.models.model_file import ModelCard, load_saved_model, read_card
from rnnbench.serving.predict import Unreadable, image_files, read_image, softmax
from rnnbench.spec import DataSpec

SCALE = 4  # the files are 32 x 32: each 8 x 8 digit pixel drawn as a 4 x 4 block
IMAGES = 6
REGULAR_ONLY = "not a regular file (a FIFO, a device or a socket); give an image file"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> tuple[Path, np.ndarray, list[bool]]:
    """(folder of PNG files, the 8-bit arrays they hold at the model's size, which files are drawn inverted)."""
    folder = tmp_path_factory.mktemp("images")
    images = prepare_data(DataSpec("digits")).x_test[:IMAGES]
    pixels = get_view("rows").invert(images, (8, 8, 1))[..., 0]
    eight_bit = np.round(pixels * 255).astype(np.uint8)
    inverted = [index == 2 for index in range(IMAGES)]
    for index, image in enumerate(eight_bit):
        drawn_image = Image.fromarray(255 - image if inverted[index] else image, mode="L")
        drawn_image = drawn_image.resize((8 * SCALE, 8 * SCALE), Image.Resampling.NEAREST)
        if index % 2:
            drawn_image = drawn_image.convert("RGB")
        drawn_image.save(folder / f"digit{index}.png")
    return folder, eight_bit.astype(np.float32)[..., None] / 255, inverted


def test_predictions_equal_the_models_own_on_the_arrays_and_the_inversion_is_detected(kept_model, drawn, capsys):
    store, path = kept_model
    folder, arrays, inverted = drawn
    assert main(["predict", str(path), str(folder), "--json", "--top", "10"]) == 0
    document = json.loads(capsys.readouterr().out)
    model, card = load_saved_model(path)
    expected = softmax(np.asarray(model.predict_on_batch(get_view("rows")(arrays)), dtype=np.float64))
    predictions = document["predictions"]
    assert [Path(item["file"]).name for item in predictions] == [f"digit{index}.png" for index in range(IMAGES)]
    for index, item in enumerate(predictions):
        assert item["inverted"] == inverted[index]
        probabilities = np.zeros(10)
        for entry in item["top"]:
            probabilities[entry["label"]] = entry["probability"]
            assert entry["class"] == card.class_names[entry["label"]]
        np.testing.assert_allclose(probabilities, expected[index], atol=1e-5)
        assert item["top"][0]["label"] == int(np.argmax(expected[index]))


def test_the_card_says_what_prediction_needs(kept_model):
    _, path = kept_model
    card = read_card(path)
    assert (card.dataset, card.view, card.image_shape, card.steps, card.features) == ("digits", "rows", (8, 8, 1), 8, 8)
    assert card.class_names == tuple("0123456789")
    assert card.background < 0.3  # light digits on a dark background
    assert card.run_key == path.stem and card.val_accuracy is not None


def test_a_run_key_names_its_kept_model_and_lines_name_the_top_classes(kept_model, drawn, capsys):
    store, path = kept_model
    folder, _, _ = drawn
    assert main(["predict", path.stem[:8], str(folder / "digit2.png"), "--store", str(store)]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.startswith(f"{folder / 'digit2.png'}: ") and line.count("%") == 3
    assert "inverted" in line


def test_unreadable_files_are_one_line_each_and_the_others_still_predicted(kept_model, drawn, tmp_path, capsys):
    _, path = kept_model
    folder, _, _ = drawn
    mixed = tmp_path / "mixed"
    (mixed / "inner").mkdir(parents=True)
    good = (folder / "digit0.png").read_bytes()
    (mixed / "inner" / "good.png").write_bytes(good)
    (mixed / "corrupt.png").write_bytes(good[: len(good) // 2])
    (mixed / "empty.png").write_bytes(b"")
    (mixed / "notes.txt").write_text("not an image\n")
    status = main(["predict", str(path), str(mixed), str(folder / "digit1.png"), str(tmp_path / "absent.png")])
    captured = capsys.readouterr()
    assert status == 2
    assert "Traceback" not in captured.err
    errors = captured.err.strip().splitlines()
    assert len(errors) == 4 and all(line.startswith("rnnbench: error: ") for line in errors)
    for name, reason in (("corrupt.png", "not a readable image"), ("empty.png", "an empty file"),
                         ("notes.txt", "not an image"), ("absent.png", "no such file")):  # fmt: skip
        assert any(name in line and reason in line for line in errors), (name, errors)
    predicted = [line.split(":")[0] for line in captured.out.strip().splitlines()]
    assert predicted == [str(mixed / "inner" / "good.png"), str(folder / "digit1.png")]


def test_a_model_that_is_not_there_or_not_rnnbenchs_is_one_line(kept_model, tmp_path, capsys):
    store, _ = kept_model
    plain = tmp_path / "plain.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(plain)
    for model, problem in ((str(tmp_path / "missing.keras"), "does not exist"), (str(plain), "model card"),
                           ("ffffffff", "neither a model file nor the run key")):  # fmt: skip
        assert main(["predict", model, str(tmp_path), "--store", str(store)]) == 2
        captured = capsys.readouterr()
        assert problem in captured.err and len(captured.err.strip().splitlines()) == 1, captured.err


def _card(shape: tuple[int, int, int] = (8, 8, 1)) -> ModelCard:
    return ModelCard(run_key="k", model="gru", dataset="digits", class_names=tuple("0123456789"), image_shape=shape,
                     view="rows", permutation_seed=None, steps=shape[0], features=shape[1] * shape[2],
                     background=0.0, pixel_scale=255.0, seed=0, best_epoch=1, val_accuracy=None, test_accuracy=None,
                     rnnbench_version="0", keras_version="3", backend="jax")  # fmt: skip


def test_wide_integer_and_float_pixels_are_read_by_their_own_range(tmp_path):
    values = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "sixteen.png")
    pixels, notes = read_image(tmp_path / "sixteen.png", _card())
    np.testing.assert_allclose(pixels[..., 0], values / 65535, rtol=1e-6)
    assert notes == ("I;16 pixels read as a fraction of 65,535",)
    fractions = (values / 65535).astype(np.float32)
    Image.fromarray(fractions).save(tmp_path / "float.tif")
    pixels, notes = read_image(tmp_path / "float.tif", _card())
    np.testing.assert_allclose(pixels[..., 0], fractions, rtol=1e-6)
    assert notes == ("floating-point pixels read as they are",)
    Image.fromarray(values.astype(np.int32) * 30000).save(tmp_path / "wide.tif")
    pixels, notes = read_image(tmp_path / "wide.tif", _card())
    np.testing.assert_allclose(pixels[..., 0], values * 30000.0 / (2**32 - 1), rtol=1e-5)


def test_eight_bit_images_read_as_before_and_conversions_are_said(tmp_path):
    values = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    Image.fromarray(values).save(tmp_path / "gray.png")
    pixels, notes = read_image(tmp_path / "gray.png", _card())
    np.testing.assert_array_equal(pixels[..., 0], values.astype(np.float32) / 255)
    assert notes == ()
    Image.fromarray(values).convert("RGB").resize((16, 16)).save(tmp_path / "big.png")
    _, notes = read_image(tmp_path / "big.png", _card())
    assert notes == ("RGB converted to grayscale", "resized from 16 x 16")
    Image.fromarray(values).save(tmp_path / "gray-for-rgb.png")
    pixels, notes = read_image(tmp_path / "gray-for-rgb.png", _card((8, 8, 3)))
    assert pixels.shape == (8, 8, 3) and notes == ("L converted to RGB",)


def test_an_image_over_the_decompression_bomb_limit_is_unreadable_in_one_line(tmp_path, monkeypatch):
    Image.fromarray(np.zeros((40, 40), dtype=np.uint8)).save(tmp_path / "large.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # warns above 1,000 pixels, raises above 2,000
    Image.fromarray(np.zeros((35, 35), dtype=np.uint8)).save(tmp_path / "warned.png")
    for name in ("large.png", "warned.png"):
        reason = read_image(tmp_path / name, _card())
        assert reason == "larger than the 1,000 pixels rnnbench reads (Pillow's decompression-bomb limit)", name


def test_special_files_and_empty_folders_are_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    assert list(image_files([fifo])) == [Unreadable(fifo, REGULAR_ONLY)]
    images = tmp_path / "images"
    images.mkdir()
    os.mkfifo(images / "in-a-folder.png")
    assert list(image_files([images])) == [Unreadable(images / "in-a-folder.png", REGULAR_ONLY)]
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".hidden.png").write_bytes(b"")
    with pytest.raises(RnnbenchError, match="holds no image files"):
        list(image_files([empty]))


def test_a_model_card_that_cannot_describe_a_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is not an image"):
        _card((0, 0, 1))
    with pytest.raises(ValueError, match="do not read"):
        dataclasses.replace(_card(), steps=3)
    fifo = tmp_path / "model.keras"
    os.mkfifo(fifo)
    with pytest.raises(RnnbenchError, match="not a regular file"):
        read_card(fifo)
