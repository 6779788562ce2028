from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from rnnbench.cli import main
from rnnbench.data import load_dataset
from rnnbench.errors import RnnbenchError


def draw(path: Path, shape: str, size=(12, 10), color=(255, 255, 255)) -> None:
    """A black image of ``size`` (width, height) with a white circle or square."""
    image = Image.new("RGB", size)
    pen = ImageDraw.Draw(image)
    box = (2, 2, size[0] - 3, size[1] - 3)
    pen.ellipse(box, fill=color) if shape == "circle" else pen.rectangle(box, fill=color)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def make_folder(root: Path, per_class: int = 10, split: bool = False, size=(12, 10)) -> Path:
    for shape in ("circle", "square"):
        for index in range(per_class):
            if split:
                part = "test" if index % 5 == 0 else "train"
                draw(root / part / shape / f"{index}.png", shape, size)
            else:
                suffix = ".jpg" if index % 2 else ".png"
                draw(root / shape / f"{index}{suffix}", shape, size)
    return root


def test_class_subfolders_become_labels_with_a_fixed_test_split(tmp_path):
    dataset = load_dataset(str(make_folder(tmp_path / "shapes")))
    assert dataset.classes == 2 and dataset.image_shape == (10, 12, 1)
    assert len(dataset.y_train) == 16 and len(dataset.y_test) == 4
    assert np.bincount(dataset.y_test).tolist() == [2, 2]
    again = load_dataset(str(tmp_path / "shapes"))
    assert np.array_equal(dataset.x_test, again.x_test)


def test_train_and_test_folders_are_used_as_given(tmp_path):
    dataset = load_dataset(str(make_folder(tmp_path / "shapes", split=True)))
    assert (len(dataset.y_train), len(dataset.y_test)) == (16, 4)


def test_train_and_test_folders_with_other_classes_are_refused(tmp_path):
    root = make_folder(tmp_path / "shapes", split=True)
    draw(root / "test" / "triangle" / "0.png", "circle")
    with pytest.raises(RnnbenchError, match="same class sub-folders; triangle only in test/"):
        load_dataset(str(root))


def test_class_names_are_the_sub_folders(tmp_path):
    assert load_dataset(str(make_folder(tmp_path / "shapes"))).class_names == ("circle", "square")


def test_rgb_and_resizing(tmp_path):
    root = make_folder(tmp_path / "shapes")
    draw(root / "circle" / "red.png", "circle", size=(12, 10), color=(255, 0, 0))
    dataset = load_dataset(str(root), image_size=(8, 6), color="rgb")
    assert dataset.image_shape == (8, 6, 3)
    gray = load_dataset(str(root))
    assert gray.image_shape == (10, 12, 1)


def test_sizes_that_differ_need_an_image_size(tmp_path):
    root = make_folder(tmp_path / "shapes")
    draw(root / "square" / "big.png", "square", size=(20, 20))
    with pytest.raises(RnnbenchError, match="big.png: 20 x 20 pixels where earlier images have 12 x 10; give --image"):
        load_dataset(str(root))
    assert load_dataset(str(root), image_size=(10, 12)).image_shape == (10, 12, 1)


def test_unreadable_image_and_single_class(tmp_path):
    root = make_folder(tmp_path / "shapes")
    (root / "circle" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(RnnbenchError, match="broken.png: not a readable image"):
        load_dataset(str(root))
    lonely = tmp_path / "lonely"
    draw(lonely / "only" / "a.png", "circle")
    draw(lonely / "only" / "b.png", "circle")
    with pytest.raises(RnnbenchError, match="a classifier needs at least two"):
        load_dataset(str(lonely))


def test_a_folder_that_is_no_data_set(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["compare", "--dataset", str(tmp_path / "empty")]) == 2
    assert "is not a data set: give a Keras-style .npz, a folder of idx files" in capsys.readouterr().err


def test_compare_on_an_image_folder(tmp_path, capsys):
    root = make_folder(tmp_path / "shapes", per_class=20)
    args = ["compare", "--dataset", str(root), "--models", "gru", "--units", "4", "--epochs", "1", "--quiet"]
    args.append("--no-report")
    assert main([*args, "--image-size", "8x6", "--view", "columns"]) == 0
    assert "shapes read by columns (6 steps x 8 features)" in capsys.readouterr().out
    assert main([*args, "--image-size", "8by6"]) == 2
    assert "--image-size '8by6' is not a size" in capsys.readouterr().err
