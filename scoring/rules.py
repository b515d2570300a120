"""Importing this module registers every rule (one module per rule family)."""
from scoring import (availability, consolidation, content, identity, interaction, links, safety,  # noqa: F401
                     services, updates)
from scoring.registry import RULES

__all__ = ["RULES"]
