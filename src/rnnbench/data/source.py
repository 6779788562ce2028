"""Where data sets come from on this machine: the cache folder, and whether the network may be used."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rnnbench.settings import read_settings


@dataclass(frozen=True)
class DataSource:
    """``directory`` holds one folder of downloads per data set; ``offline`` forbids any download."""

    directory: Path
    offline: bool = False

    @classmethod
    def from_settings(cls, offline: bool = False) -> DataSource:
        """The cache and offline switch of the environment (``RNNBENCH_DATA``, ``RNNBENCH_OFFLINE``); ``offline``
        True (``--offline``) forbids downloads whatever the environment says."""
        settings = read_settings()
        return cls(settings.data_dir, offline or settings.offline)

    def folder(self, dataset: str) -> Path:
        """Where ``dataset``'s downloads are cached (its variants, ``cifar10:rgb``, share ``cifar10``'s)."""
        return self.directory / dataset.split(":")[0]
