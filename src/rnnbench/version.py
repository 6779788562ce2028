"""The installed rnnbench's version, in a module of its own so that any layer can name it without loading others."""

__version__ = "0.1.0"
