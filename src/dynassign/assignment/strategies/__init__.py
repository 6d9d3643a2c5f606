"""Strategies: pluggable policies deciding who may request a batch and which contacts it holds."""
