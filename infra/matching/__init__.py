"""Matching adapters: the optimal batch assigner (SciPy)."""
