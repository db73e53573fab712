"""Mutation fuzzing of every reader, loader and the verifier (see docs/reliability.md)."""
