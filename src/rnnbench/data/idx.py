"""MNIST-style idx files (``.gz`` or not): header, type, dimensions and size checked before use.

Format: two zero bytes, a type code (0x08 = unsigned byte, ...), the number of dimensions, each dimension as a
big-endian uint32, then the data in row-major order.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

from rnnbench.errors import RnnbenchError

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_payload(path: Path) -> bytes:
    """The file's bytes, decompressed when it is gzip (by its magic number, not its name)."""
    try:
        with path.open("rb") as file:
            compressed = file.read(2) == b"\x1f\x8b"
        if compressed:
            with gzip.open(path, "rb") as file:
                return file.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise RnnbenchError(f"{path}: truncated or corrupt gzip file ({error}); delete it and fetch it again") from None
    except OSError as error:
        raise RnnbenchError(f"{path}: cannot be read ({error.strerror or error})") from None


def parse_idx(payload: bytes, dimensions: int, source: str) -> np.ndarray:
    """An idx payload as an array with ``dimensions`` axes (3 for images, 1 for labels)."""
    if len(payload) < 4 or payload[:2] != b"\x00\x00" or payload[2] not in _TYPES:
        raise RnnbenchError(f"{source}: not an idx file (magic number {payload[:4].hex() or 'missing'})")
    if payload[3] != dimensions:
        kind = "images (idx3)" if dimensions == 3 else "labels (idx1)"
        raise RnnbenchError(f"{source}: holds {payload[3]}-dimensional data where {kind} were expected")
    header = 4 + 4 * dimensions
    if len(payload) < header:
        raise RnnbenchError(f"{source}: idx header cut short ({len(payload)} bytes)")
    shape = tuple(int(size) for size in np.frombuffer(payload, ">u4", count=dimensions, offset=4))
    dtype = np.dtype(_TYPES[payload[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(payload) != expected:
        raise RnnbenchError(
            f"{source}: {len(payload)} bytes where the header {shape} promises {expected}; the file is truncated "
            "or corrupt"
        )
    return np.frombuffer(payload, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: Path, dimensions: int, payload_sha256: str | None = None) -> np.ndarray:
    """Read and check an idx file; with ``payload_sha256``, the decompressed bytes must hash to it."""
    payload = read_payload(path)
    if payload_sha256 is not None and hashlib.sha256(payload).hexdigest() != payload_sha256:
        raise RnnbenchError(
            f"{path}: content does not match its pinned SHA-256 (a corrupt or different file); delete it and fetch "
            "it again"
        )
    return parse_idx(payload, dimensions, str(path))


IDX_FILES = {
    "x_train": ("train-images-idx3-ubyte", 3),
    "y_train": ("train-labels-idx1-ubyte", 1),
    "x_test": ("t10k-images-idx3-ubyte", 3),
    "y_test": ("t10k-labels-idx1-ubyte", 1),
}


def find_idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def is_idx_folder(folder: Path) -> bool:
    return folder.is_dir() and any(find_idx_file(folder, stem) for stem, _ in IDX_FILES.values())


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    """The four arrays of an MNIST-style folder (``train-images-idx3-ubyte[.gz]``, ...), keyed x_train, y_train, ..."""
    arrays = {}
    for key, (stem, dimensions) in IDX_FILES.items():
        path = find_idx_file(folder, stem)
        if path is None:
            raise RnnbenchError(f"{folder}: no {stem} (or {stem}.gz); an idx data set folder holds all four files")
        arrays[key] = read_idx(path, dimensions)
    return arrays
