"""Downloads against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rnnbench.cli import main
from rnnbench.data import builtin, registry
from rnnbench.data.download import Resource, fetch, verification
from rnnbench.data.source import DataSource
from rnnbench.errors import RnnbenchError

PAYLOAD = b"the real file" * 1000
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


class Server:
    """Serves /good/* with the payload, /corrupt/* with other bytes, everything else 404; counts requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                owner.requests.append(self.path)
                if self.path.startswith("/good/"):
                    body = PAYLOAD
                elif self.path.startswith("/corrupt/"):
                    body = PAYLOAD[:-5] + b"XXXXX"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = Server()
    yield running
    running.close()


def _resource(server: Server, *kinds: str) -> Resource:
    return Resource("file.bin", tuple(f"{server.url}/{kind}/file.bin" for kind in kinds), sha256=SHA256)


def test_falls_over_from_missing_and_corrupt_mirrors_to_a_good_one(server, tmp_path):
    path = fetch(_resource(server, "missing", "corrupt", "good"), tmp_path)
    assert path == tmp_path / "file.bin" and path.read_bytes() == PAYLOAD
    assert server.requests == ["/missing/file.bin", "/corrupt/file.bin", "/good/file.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]


def test_all_mirrors_bad_lists_every_failure_and_caches_nothing(server, tmp_path):
    resource = _resource(server, "missing", "corrupt")
    resource = Resource(resource.filename, (*resource.mirrors, "http://127.0.0.1:9/refused.bin"), sha256=SHA256)
    with pytest.raises(RnnbenchError) as error:
        fetch(resource, tmp_path)
    message = str(error.value)
    assert message.startswith("could not download file.bin (")
    assert "missing/file.bin: HTTP Error 404" in message
    assert "corrupt/file.bin: checksum mismatch" in message
    assert "refused.bin: " in message
    assert list(tmp_path.iterdir()) == []


def test_a_cached_file_is_used_without_the_network(server, tmp_path):
    (tmp_path / "file.bin").write_bytes(PAYLOAD)
    assert fetch(_resource(server, "good"), tmp_path).read_bytes() == PAYLOAD
    assert server.requests == []


def test_a_cached_file_with_a_wrong_hash_is_downloaded_again(server, tmp_path):
    (tmp_path / "file.bin").write_bytes(b"stale")
    assert fetch(_resource(server, "good"), tmp_path).read_bytes() == PAYLOAD
    assert server.requests == ["/good/file.bin"]


def test_offline_never_touches_the_network(server, tmp_path):
    with pytest.raises(RnnbenchError, match="offline mode is on"):
        fetch(_resource(server, "good"), tmp_path, offline=True)
    assert server.requests == []


def test_the_data_source_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("RNNBENCH_OFFLINE", raising=False)
    assert DataSource.from_settings() == DataSource(tmp_path / "data", offline=False)
    assert DataSource.from_settings().folder("cifar10:rgb") == tmp_path / "data" / "cifar10"
    monkeypatch.delenv("RNNBENCH_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("RNNBENCH_OFFLINE", "yes")
    assert DataSource.from_settings() == DataSource(tmp_path / "xdg" / "rnnbench", offline=True)
    monkeypatch.setenv("RNNBENCH_OFFLINE", "0")
    assert DataSource.from_settings(offline=True).offline  # --offline wins over the environment


def test_mnist_unavailable_points_to_digits_or_a_path(server, tmp_path, monkeypatch):
    monkeypatch.setattr(builtin, "MNIST", replace(builtin.MNIST, mirrors=(f"{server.url}/x/mnist.npz",)))
    with pytest.raises(RnnbenchError, match="mnist is unavailable: .*use --dataset digits .* or a local path"):
        builtin.load_mnist(DataSource(tmp_path))


def test_a_file_recompressed_by_another_source_is_accepted_by_its_payload(server, tmp_path):
    """Like Debian's Fashion-MNIST: other .gz bytes than the published MD5, the same decompressed content."""
    content = b"idx payload" * 100
    recompressed = tmp_path / "system" / "data.gz"
    recompressed.parent.mkdir()
    recompressed.write_bytes(gzip.compress(content, compresslevel=1))
    resource = Resource(
        "data.gz",
        mirrors=(f"{server.url}/good/data.gz",),
        md5=hashlib.md5(gzip.compress(content, compresslevel=9)).hexdigest(),
        payload_sha256=hashlib.sha256(content).hexdigest(),
        system_paths=(str(recompressed),),
    )
    assert fetch(resource, tmp_path / "cache") == recompressed
    assert verification(recompressed, resource) == "payload sha256"
    assert server.requests == []
    recompressed.write_bytes(gzip.compress(b"other content"))
    with pytest.raises(RnnbenchError, match="could not download data.gz"):
        fetch(resource, tmp_path / "cache")  # the bad system copy is skipped; the mirror serves other bytes


def test_all_mirrors_bad_exits_2_with_the_list_of_failures(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RNNBENCH_DATA", str(tmp_path))
    info = registry.dataset_info("kmnist")
    bad = tuple(replace(r, mirrors=(f"{server.url}/missing/{r.filename}", f"{server.url}/corrupt/{r.filename}"))
                for r in info.resources)  # fmt: skip
    monkeypatch.setitem(registry._REGISTRY, "kmnist", replace(info, resources=bad))
    assert main(["datasets", "fetch", "kmnist"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("rnnbench: error: could not download train-images-idx3-ubyte.gz (")
    assert "missing/train-images-idx3-ubyte.gz: HTTP Error 404" in err[-1]
    assert "corrupt/train-images-idx3-ubyte.gz: checksum mismatch" in err[-1]
    assert not any((tmp_path / "kmnist").iterdir())


def test_mnist_is_pinned_to_the_keras_checksum():
    assert builtin.MNIST.sha256 == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    assert all(url.startswith("https://") for url in builtin.MNIST.mirrors)
