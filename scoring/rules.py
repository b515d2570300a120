"""Importing this module registers every rule (one module per rule family)."""
from scoring import availability, consolidation, links, updates  # noqa: F401
from scoring.registry import RULES

__all__ = ["RULES"]
