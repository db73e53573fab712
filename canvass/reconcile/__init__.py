"""Reconciliation: balancing poll books and ballot stock against the ballots tabulated."""
