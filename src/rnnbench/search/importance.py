"""Hyperparameter importance of a stored search, for reports: Optuna's fANOVA on the trials as the store holds them.

The study is rebuilt from the stored trials (their parameters and validation accuracy) and the stored space, so a
report needs nothing but the store.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from rnnbench.results.store import StoredTrial
from rnnbench.spec.search_space import space_from_mapping

IMPORTANCE_SEED = 0


def hyperparameter_importance(trials: Sequence[StoredTrial], space: Mapping[str, Any]) -> dict[str, float]:
    """Each varying hyperparameter's share of the variance of validation accuracy over the finished trials; empty
    with fewer than two of them, or when none varies."""
    import optuna

    finished = [trial for trial in trials if trial.state == "complete" and trial.value is not None]
    if len(finished) < 2:
        return {}
    distributions = _distributions(space)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    for trial in finished:
        used = {name: distributions[name] for name in trial.params if name in distributions}
        study.add_trial(optuna.trial.create_trial(params={k: trial.params[k] for k in used}, distributions=used,
                                                  value=trial.value))  # fmt: skip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=IMPORTANCE_SEED)
            found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (RuntimeError, ValueError):
        return {}
    return {name: float(share) for name, share in found.items()}


def _distributions(space: Mapping[str, Any]) -> dict[str, Any]:
    import optuna

    distributions: dict[str, Any] = {}
    for dimension in space_from_mapping(space).dimensions:
        if dimension.choices:
            distributions[dimension.name] = optuna.distributions.CategoricalDistribution(list(dimension.choices))
        else:
            assert dimension.low is not None and dimension.high is not None
            distributions[dimension.name] = optuna.distributions.FloatDistribution(dimension.low, dimension.high,
                                                                                   log=dimension.log)  # fmt: skip
    return distributions
