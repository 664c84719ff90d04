"""polyir: train and evaluate multilingual dense retrievers (hybrid batch training)."""

__version__ = "0.1.0"
