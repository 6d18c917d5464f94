"""newsdelta: watch news articles, keep every version, show what changed."""

__version__ = "0.1.0"
