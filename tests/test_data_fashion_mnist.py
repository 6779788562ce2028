"""Real data: Debian's dataset-fashion-mnist (installed by .ci/run), found as a system copy, through the user's path."""

from pathlib import Path

import numpy as np
import pytest

from rnnbench.cli import main
from rnnbench.data import dataset_info, load_dataset
from rnnbench.data.builtin import FASHION_SYSTEM_DIR
from rnnbench.data.download import fetch, verification
from rnnbench.data.source import DataSource

pytestmark = pytest.mark.skipif(
    not Path(FASHION_SYSTEM_DIR).is_dir(),
    reason=f"Debian's dataset-fashion-mnist is not installed ({FASHION_SYSTEM_DIR}); .ci/run installs it",
)


@pytest.fixture
def offline_empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("RNNBENCH_OFFLINE", "1")
    return tmp_path / "cache"


def test_all_70000_images_load_offline_from_the_system_copy(offline_empty_cache):
    dataset = load_dataset("fashion_mnist")
    assert dataset.x_train.shape == (60000, 28, 28, 1) and dataset.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(dataset.y_train).tolist() == [6000] * 10
    assert np.bincount(dataset.y_test).tolist() == [1000] * 10
    assert 0.0 <= dataset.x_train.min() < dataset.x_train.max() <= 1.0
    assert not offline_empty_cache.exists()  # nothing downloaded or copied


def test_the_system_files_match_the_pinned_payload_checksums(offline_empty_cache):
    info = dataset_info("fashion_mnist")
    source = DataSource(offline_empty_cache, offline=True)
    assert info.cache_status(source) == "system copy"
    for resource in info.resources:
        path = fetch(resource, source.folder(info.name), offline=True)
        assert str(path).startswith(FASHION_SYSTEM_DIR)
        # Debian compresses differently from the published MD5s; the decompressed content is what is pinned.
        assert verification(path, resource) == "payload sha256"


def test_compare_reads_sequential_fashion_mnist_offline(offline_empty_cache, tmp_path, capsys):
    args = ["compare", "--dataset", "fashion_mnist", "--view", "pixels", "--limit-train", "512", "--limit-test", "256"]
    assert main([*args, "--epochs", "1", "--models", "gru", "--units", "8", "--offline", "--quiet", "--no-report"]) == 0
    assert "fashion_mnist read by pixels (784 steps x 1 features)" in capsys.readouterr().out


def test_show_draws_a_view(offline_empty_cache, tmp_path, capsys):
    out = tmp_path / "view.png"
    assert main(["datasets", "show", "fashion_mnist", "--index", "3", "--view", "patches:4", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(out) as image:
        pixels = np.asarray(image.convert("L"))
    assert pixels.shape[1] > 600 and len(np.unique(pixels)) > 50  # a real picture, not a blank page
