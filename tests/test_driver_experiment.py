"""run_experiment keeps trained models as asked (save_models none, best, all) beside the store, records them, and
never leaves a kept model that no longer matches its run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rnnbench.driver.experiment import run_experiment
from rnnbench.errors import RnnbenchError
from rnnbench.models.model_file import read_card
from rnnbench.results.store import Store
from rnnbench.spec import DataSpec, ExecutionConfig, ExperimentSpec, TrainSpec

SPEC = ExperimentSpec(
    models=("simplernn", "gru"),
    units=(8,),
    seeds=(0, 1),
    data=(DataSpec("digits", limit_train=300, limit_test=100),),
    train=(TrainSpec(epochs=2),),
)


def _kept(store: Path) -> dict[str, Path]:
    with Store.read(store) as opened:
        return opened.models()


def test_best_keeps_the_best_run_of_each_model_chosen_on_validation(tmp_path):
    store = tmp_path / "rnnbench.db"
    result = run_experiment(SPEC, store, ExecutionConfig(save_models="best"))
    kept = _kept(store)
    panel = result.panels[0]
    best = {panel.best_run(label).run_key for label in ("simplernn", "gru")}
    assert set(kept) == best
    assert sorted(path.name for path in (tmp_path / "rnnbench.db-models").iterdir()) == sorted(
        f"{key}.keras" for key in best
    )
    for key, path in kept.items():
        assert read_card(path).run_key == key
    assert set(result.models_kept) == set(kept.values()) and result.models_not_kept == 0
    assert "2 models kept in" in result.footer()


def test_all_keeps_every_finished_run_and_none_keeps_nothing(tmp_path):
    every, nothing = tmp_path / "every.db", tmp_path / "nothing.db"
    run_experiment(SPEC, every, ExecutionConfig(save_models="all"))
    assert len(_kept(every)) == 4 and all(path.is_file() for path in _kept(every).values())
    run_experiment(SPEC, nothing)  # the library's default
    assert _kept(nothing) == {} and not (tmp_path / "nothing.db-models").exists()


def test_runs_found_in_the_store_without_a_model_are_said_not_kept(tmp_path):
    store = tmp_path / "rnnbench.db"
    run_experiment(SPEC, store, ExecutionConfig(save_models="none"))
    again = run_experiment(SPEC, store, ExecutionConfig(save_models="best"))
    assert again.trained == 0 and again.models_not_kept == 2
    assert "2 model(s) not kept" in again.footer() and "--force" in again.footer()


def test_a_run_trained_again_drops_the_model_of_its_earlier_training(tmp_path):
    store = tmp_path / "rnnbench.db"
    one = replace(SPEC, models=("gru",), seeds=(0,))
    run_experiment(one, store, ExecutionConfig(save_models="all"))
    (path,) = _kept(store).values()
    run_experiment(one, store, ExecutionConfig(save_models="none"), force=True)
    assert _kept(store) == {} and not path.exists()


def test_an_unknown_choice_is_refused():
    with pytest.raises(RnnbenchError, match="save_models"):
        ExecutionConfig(save_models="some")
