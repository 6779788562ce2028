"""Verified files in a cache: system copies first, then the cache, then mirrors in order.

A file is accepted when it matches the checksum its source publishes, or, where one is pinned, when its decompressed
content matches the pinned SHA-256 (the same data compressed by another source has other bytes). Downloads go to a
temporary file that is renamed into the cache only once verified, so the cache never holds a partial or wrong file.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rnnbench.errors import RnnbenchError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Resource:
    """One file of a data set.

    ``sha256`` or ``md5`` is the checksum its source publishes for the file; ``payload_sha256`` the SHA-256 of its
    decompressed content, measured; ``system_paths`` are copies installed by the system (e.g. Debian packages).
    """

    filename: str
    mirrors: tuple[str, ...]
    sha256: str | None = None
    md5: str | None = None
    payload_sha256: str | None = None
    system_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.sha256 or self.md5 or self.payload_sha256):
            raise ValueError(f"{self.filename}: a resource needs a checksum")


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verification(path: Path, resource: Resource) -> str | None:
    """How ``path`` is verified as ``resource`` ('sha256', 'md5' or 'payload sha256'), or None if it is not."""
    if resource.sha256 and file_digest(path, "sha256") == resource.sha256:
        return "sha256"
    if resource.md5 and file_digest(path, "md5") == resource.md5:
        return "md5"
    if resource.payload_sha256:
        from rnnbench.data.idx import read_payload

        try:
            if hashlib.sha256(read_payload(path)).hexdigest() == resource.payload_sha256:
                return "payload sha256"
        except RnnbenchError:
            return None
    return None


def system_copy(resource: Resource) -> Path | None:
    for candidate in map(Path, resource.system_paths):
        if candidate.is_file():
            return candidate
    return None


def local_copy(resource: Resource, directory: Path) -> Path | None:
    """Where the resource already is on this machine (system copy or cache), verified or not."""
    cached = directory / resource.filename
    return system_copy(resource) or (cached if cached.is_file() else None)


@contextmanager
def _download_bar(total: int | None, label: str) -> Iterator[Callable[[int], None]]:
    """A Rich download bar on an interactive stderr; elsewhere a no-op (no carriage returns in logs)."""
    from rnnbench.terminal import interactive

    if not interactive(sys.stderr):
        yield lambda size: None
        return
    from rich.console import Console
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    columns = (*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda size: progress.advance(task, size)


def _download(url: str, resource: Resource, directory: Path, timeout: float) -> Path:
    """Stream ``url`` into a temporary file in ``directory``; return it only once it verifies as ``resource``."""
    handle, name = tempfile.mkstemp(dir=directory, prefix=f".{resource.filename}.", suffix=".part")
    partial = Path(name)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            # Said once the server answers: an unreachable network is the one line of the error alone.
            print(f"downloading {resource.filename} from {url}", file=sys.stderr)
            length = response.headers.get("Content-Length")
            with _download_bar(
                int(length) if length and length.isascii() and length.isdigit() else None, resource.filename
            ) as advance:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    advance(len(chunk))
        if verification(partial, resource) is None:
            raise ValueError("checksum mismatch")
        return partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def fetch(resource: Resource, directory: Path, timeout: float = 60.0, offline: bool = False) -> Path:
    """A verified copy of ``resource``: the system copy, the cached file in ``directory``, or a fresh download there.

    A cached file that fails verification is downloaded again. Each mirror is tried in order; an error or a wrong
    checksum falls over to the next. With ``offline``, the network is never touched.
    """
    installed = system_copy(resource)
    if installed is not None and verification(installed, resource):
        return installed
    target = directory / resource.filename
    if target.is_file() and verification(target, resource):
        return target
    if offline:
        raise RnnbenchError(
            f"{resource.filename} is not in the cache ({directory}) and offline mode is on; "
            "fetch it on a connected machine or give a local path"
        )
    directory.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in resource.mirrors:
        try:
            partial = _download(url, resource, directory, timeout)
        except (OSError, ValueError, urllib.error.URLError) as error:
            reason = error if isinstance(error, urllib.error.HTTPError) else getattr(error, "reason", error)
            failures.append(f"{url}: {reason}")
            continue
        os.replace(partial, target)
        return target
    raise RnnbenchError(f"could not download {resource.filename} ({'; '.join(failures) or 'no mirrors'})")
