"""Quorum: an open-source data-labeling platform with a Scale-compatible API."""

__version__ = "0.1.0"
