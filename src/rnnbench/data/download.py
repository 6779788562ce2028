"""Verified downloads into a cache: mirrors in order, SHA-256 checked before a file enters the cache."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rnnbench.errors import RnnbenchError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Resource:
    """One file: its name in the cache, its SHA-256, and the addresses it can be fetched from, best first."""

    filename: str
    sha256: str
    mirrors: tuple[str, ...]


def cache_dir() -> Path:
    """``$RNNBENCH_DATA``, else ``$XDG_CACHE_HOME/rnnbench``, else ``~/.cache/rnnbench``."""
    if os.environ.get("RNNBENCH_DATA"):
        return Path(os.environ["RNNBENCH_DATA"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rnnbench"


def offline() -> bool:
    return os.environ.get("RNNBENCH_OFFLINE", "").strip().lower() in {"1", "true", "yes"}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, target_dir: Path, expected_sha256: str, timeout: float) -> Path:
    """Stream ``url`` into a temporary file in ``target_dir``; return it only if its SHA-256 matches."""
    handle, name = tempfile.mkstemp(dir=target_dir, prefix=".download-", suffix=".part")
    partial = Path(name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected_sha256:
            raise ValueError(f"checksum mismatch (got sha256 {digest.hexdigest()[:12]}...)")
        return partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def fetch(resource: Resource, directory: Path | None = None, timeout: float = 60.0) -> Path:
    """The cached, verified copy of ``resource``, downloading it first if needed.

    A cached file whose hash does not match is fetched again. Each mirror is tried in order; a failure or a wrong
    checksum falls over to the next. Nothing partial is ever left under the cached name.
    """
    directory = directory or cache_dir()
    target = directory / resource.filename
    if target.is_file() and sha256_of(target) == resource.sha256:
        return target
    if offline():
        raise RnnbenchError(
            f"{resource.filename} is not in the cache ({directory}) and RNNBENCH_OFFLINE is set; "
            "fetch it on a connected machine or give a local path"
        )
    directory.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in resource.mirrors:
        print(f"downloading {resource.filename} from {url}", file=sys.stderr)
        try:
            partial = _download(url, directory, resource.sha256, timeout)
        except (OSError, ValueError, urllib.error.URLError) as error:
            reason = error if isinstance(error, urllib.error.HTTPError) else getattr(error, "reason", error)
            failures.append(f"{url}: {reason}")
            continue
        os.replace(partial, target)
        return target
    raise RnnbenchError(f"could not download {resource.filename} ({'; '.join(failures)})")
