"""Equal-budget hyperparameter search per architecture: the space, the search, and the tuned comparison.

It drives runs through :mod:`rnnbench.driver`; it never imports the report, serving or the CLI.
"""
