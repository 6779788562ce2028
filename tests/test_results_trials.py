"""A search's trials read for people: a recipe in one line, and the importance of each hyperparameter."""

from __future__ import annotations

import json

import pytest

from rnnbench.results.store import StoredTrial, TrialState
from rnnbench.results.trials import describe_params, hyperparameter_importance
from rnnbench.spec.search_space import DEFAULT_SPACE

PARAMS = {"optimizer": "adamw", "learning_rate": 0.0032, "weight_decay": 1e-4, "batch_size": 64, "schedule": "cosine",
          "clipnorm": 1.0, "label_smoothing": 0.05}  # fmt: skip


def _trials() -> list[StoredTrial]:
    """Validation accuracy follows the learning rate, and nothing else."""
    trials = []
    for number in range(12):
        rate = 10 ** (-4 + 2.5 * number / 11)
        params = {**PARAMS, "learning_rate": rate, "batch_size": (32, 64)[number % 2]}
        state = (TrialState.COMPLETE, TrialState.COMPLETE, TrialState.PRUNED)[number % 3]
        trials.append(StoredTrial("s", "lstm", number, params, state, 0.5 + number / 40, 0.4, 3, 1.0, None))
    return trials


def test_a_recipe_in_one_line():
    assert describe_params(PARAMS) == "adamw lr 3.2e-03 wd 1e-04, batch 64, cosine, clip 1, smoothing 0.05"
    plain = {**PARAMS, "optimizer": "sgd", "clipnorm": 0.0, "label_smoothing": 0.0}
    del plain["weight_decay"]
    assert describe_params(plain) == "sgd lr 3.2e-03, batch 64, cosine"


def test_importance_from_the_stored_space_is_the_searchs():
    stored = json.loads(json.dumps(DEFAULT_SPACE.to_dict()))
    shares = hyperparameter_importance(_trials(), stored)
    assert shares == hyperparameter_importance(_trials(), DEFAULT_SPACE.to_dict())
    assert max(shares, key=shares.__getitem__) == "learning_rate"
    assert sum(shares.values()) == pytest.approx(1.0)


def test_importance_needs_two_complete_trials():
    only_one = [trial for trial in _trials() if trial.state != TrialState.COMPLETE or trial.number == 0]
    assert hyperparameter_importance(only_one, DEFAULT_SPACE.to_dict()) == {}
