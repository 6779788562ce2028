"""Results: what one run gives, the SQLite store that keeps them, comparison panels and their statistics.

It imports the specs, the model registry and data views for labels, never the engine, executors, driver or report.
"""
