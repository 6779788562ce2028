"""Turning results into things people read: terminal tables, progress, the summary JSON, Markdown, HTML, figures.

It reads :mod:`rnnbench.results` (and the spec and data views for labels); it never imports the engine, executors,
the driver, the search, serving or the CLI.
"""
