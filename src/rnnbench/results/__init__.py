"""Results: what one run gives, the SQLite store that keeps them, comparison panels and their statistics, and what a
search's stored trials tell (the importance of each hyperparameter).

It imports the specs, the model registry and data views for labels, never the engine, executors, driver, search or
report.
"""
