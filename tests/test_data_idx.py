import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from rnnbench.cli import main
from rnnbench.data import load_dataset
from rnnbench.data.idx import parse_idx, read_idx, read_idx_folder
from rnnbench.errors import RnnbenchError


def idx_bytes(array: np.ndarray) -> bytes:
    return struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_idx_folder(folder: Path, train: int = 60, test: int = 20, compress: bool = True, labels_short_by: int = 0):
    """An MNIST-style folder of 6 x 5 images with 3 classes."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (train, 6, 5), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(train - labels_short_by) % 3).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (test, 6, 5), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(test) % 3).astype(np.uint8),
    }
    for stem, array in arrays.items():
        data = idx_bytes(array)
        if compress:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_idx_folder_round_trip(tmp_path, compress):
    arrays = write_idx_folder(tmp_path / "set", compress=compress)
    read = read_idx_folder(tmp_path / "set")
    assert np.array_equal(read["x_train"], arrays["train-images-idx3-ubyte"])
    assert np.array_equal(read["y_test"], arrays["t10k-labels-idx1-ubyte"])
    dataset = load_dataset(str(tmp_path / "set"))
    assert dataset.image_shape == (6, 5, 1) and dataset.classes == 3 and len(dataset.y_train) == 60


def test_wider_types_are_read_big_endian():
    array = np.array([[1, 256], [65535, 7]], dtype=">i4")
    payload = struct.pack(">BBBB", 0, 0, 0x0C, 2) + struct.pack(">2I", 2, 2) + array.tobytes()
    assert parse_idx(payload, 2, "x").tolist() == [[1, 256], [65535, 7]]


@pytest.mark.parametrize(
    ("payload", "dimensions", "message"),
    [
        (b"\x00\x00\x08\x01\x00\x00\x00\x05abcde", 3, "1-dimensional data where images \\(idx3\\) were expected"),
        (b"PK\x03\x04rest", 1, "not an idx file \\(magic number 504b0304\\)"),
        (b"", 1, "magic number missing"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", 1, "11 bytes where the header \\(5,\\) promises 13"),
        (b"\x00\x00\x08\x03\x00\x00", 3, "header cut short"),
    ],
)
def test_malformed_payloads(payload, dimensions, message):
    with pytest.raises(RnnbenchError, match=message):
        parse_idx(payload, dimensions, "file.idx")


def test_truncated_gzip_names_the_file(tmp_path):
    write_idx_folder(tmp_path / "set")
    path = tmp_path / "set" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(RnnbenchError, match=f"{path}: truncated or corrupt gzip file"):
        read_idx(path, 3)


def test_payload_pin_mismatch(tmp_path):
    write_idx_folder(tmp_path / "set")
    with pytest.raises(RnnbenchError, match="does not match its pinned SHA-256"):
        read_idx(tmp_path / "set" / "t10k-labels-idx1-ubyte.gz", 1, payload_sha256="0" * 64)


def test_missing_file_in_an_idx_folder(tmp_path):
    write_idx_folder(tmp_path / "set")
    (tmp_path / "set" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(RnnbenchError, match="no t10k-labels-idx1-ubyte"):
        load_dataset(str(tmp_path / "set"))


def _corrupt_wrong_magic(folder: Path) -> None:
    path = folder / "train-images-idx3-ubyte.gz"
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[2] = 0x42
    path.write_bytes(gzip.compress(bytes(data)))


def _corrupt_truncate(folder: Path) -> None:
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


@pytest.mark.parametrize(
    ("corrupt", "labels_short_by", "message"),
    [
        (_corrupt_wrong_magic, 0, "train-images-idx3-ubyte.gz: not an idx file"),
        (_corrupt_truncate, 0, "t10k-images-idx3-ubyte.gz: truncated or corrupt gzip file"),
        (None, 1, ": 60 train images but 59 train labels"),
    ],
)
def test_corrupt_idx_folders_exit_2_with_one_line(tmp_path, capsys, corrupt, labels_short_by, message):
    folder = tmp_path / "set"
    write_idx_folder(folder, labels_short_by=labels_short_by)
    if corrupt:
        corrupt(folder)
    assert main(["compare", "--dataset", str(folder), "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("rnnbench: error: ") and message in err
