"""rnnbench models export: ONNX run with ONNX Runtime and a TensorFlow SavedModel run with TensorFlow give Keras'
predictions; the exported graph holds only standard operations; an existing destination is never replaced."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from rnnbench.cli import main
from rnnbench.data.prepare import prepare_data
from rnnbench.models.model_file import load_saved_model
from rnnbench.serving.predict import softmax
from rnnbench.spec import DataSpec

onnx = pytest.importorskip("onnx", reason="the export tools are not installed (pip install 'rnnbench[export]')")
onnxruntime = pytest.importorskip(
    "onnxruntime", reason="ONNX Runtime is not installed (pip install 'rnnbench[export]')"
)
pytest.importorskip("jax2onnx", reason="jax2onnx is not installed (pip install 'rnnbench[export]')")


def test_onnx_gives_the_same_top_class_and_probabilities_within_1e4_on_every_test_image(kept_model, tmp_path, capsys):
    _, path = kept_model
    out = tmp_path / "exported" / "gru.onnx"
    assert main(["models", "export", str(path), "--out", str(out), "--check"]) == 0
    printed = capsys.readouterr().out
    assert f"to {out} (onnx" in printed and "check: onnxruntime" in printed and "matches Keras" in printed
    model, _ = load_saved_model(path)
    x_test = prepare_data(DataSpec("digits")).x_test
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    exported = softmax(session.run(None, {session.get_inputs()[0].name: x_test})[0].astype(np.float64))
    expected = softmax(np.asarray(model.predict(x_test, verbose=0), dtype=np.float64))
    assert len(x_test) == 359
    np.testing.assert_array_equal(exported.argmax(axis=1), expected.argmax(axis=1))
    assert np.abs(exported - expected).max() <= 1e-4


def test_the_onnx_graph_uses_only_standard_operations(kept_model, tmp_path):
    # Keras' own recurrence is traced, not rnnbench's kernels: the file runs wherever ONNX Runtime does.
    _, path = kept_model
    out = tmp_path / "gru.onnx"
    assert main(["models", "export", str(path), "--out", str(out)]) == 0
    graph = onnx.load(str(out)).graph
    domains = {node.domain for node in graph.node}
    assert domains <= {"", "ai.onnx"}, domains
    assert "Scan" in {node.op_type for node in graph.node} or "Loop" in {node.op_type for node in graph.node}


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed")
def test_a_tensorflow_saved_model_runs_in_tensorflow(kept_model, tmp_path, capsys):
    _, path = kept_model
    out = tmp_path / "gru_saved_model"
    assert main(["models", "export", str(path), "--format", "tf_saved_model", "--out", str(out), "--check"]) == 0
    assert "check: TensorFlow" in capsys.readouterr().out
    assert (out / "saved_model.pb").is_file()


def test_an_existing_destination_is_never_replaced(kept_model, tmp_path, capsys):
    _, path = kept_model
    out = tmp_path / "taken.onnx"
    out.write_bytes(b"keep me")
    assert main(["models", "export", str(path), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "already exists" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert out.read_bytes() == b"keep me"
    assert sorted(item.name for item in tmp_path.iterdir()) == ["taken.onnx"]  # no staged export left behind


def test_the_default_destination_is_the_models_name_in_the_current_folder(kept_model, tmp_path):
    _, path = kept_model
    assert main(["models", "export", str(path)]) == 0  # the tests work in tmp_path
    assert (tmp_path / f"{path.stem}.onnx").is_file() and not path.with_suffix(".onnx").exists()
