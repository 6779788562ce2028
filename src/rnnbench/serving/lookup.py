"""Which model file a user means: a path, or the key of a run whose model a store kept."""

from __future__ import annotations

from pathlib import Path

from rnnbench.errors import RnnbenchError
from rnnbench.results.store import Store


def find_model_file(model: str, store: Path) -> Path:
    """``model`` is a model file, or the key of a run whose model ``store`` kept (``rnnbench models saved``)."""
    path = Path(model).expanduser()
    if path.exists() or path.suffix == ".keras" or "/" in model:
        return path
    if not store.is_file():
        raise RnnbenchError(f"'{model}' is neither a model file nor the run key of a model kept in {store}")
    with Store.read(store) as opened:
        kept = opened.models()
    matches = [key for key in kept if key.startswith(model.lower())] if len(model) >= 4 else []
    if len(matches) == 1:
        return kept[matches[0]]
    if len(matches) > 1:
        raise RnnbenchError(f"run key '{model}' fits {len(matches)} kept models; give more of it")
    raise RnnbenchError(
        f"'{model}' is neither a model file nor the run key of a model kept in {store}; "
        "'rnnbench models saved' lists them"
    )
