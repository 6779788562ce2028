"""Hyperparameter importance of a search: computed in :mod:`rnnbench.results.trials`, where reports read it too."""

from rnnbench.results.trials import hyperparameter_importance

__all__ = ["hyperparameter_importance"]
