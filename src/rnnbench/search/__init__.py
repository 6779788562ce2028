"""Equal-budget hyperparameter search per architecture: the space, the search, and the tuned comparison."""
