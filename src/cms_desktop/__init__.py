"""cms-desktop: the software of a French centre municipal de santé."""

__version__ = "0.1.0"
