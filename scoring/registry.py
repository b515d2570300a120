"""The rule registry (after ruff): every rule has a stable code, a name, a kind, a doc and a hint.

A rule is a pure function (snapshot, profile) -> list[Finding]; `@rule(...)` registers it. Rule
modules are imported by scoring.rules so that the registry is complete once scoring is imported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from scoring.findings import Evidence, Finding, fingerprint
from scoring.profile import Profile
from scoring.snapshot import SiteSnapshot

Check = Callable[[SiteSnapshot, Profile], list[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    kind: str           # veto | deduction | advisory | consolidation
    criterion: str      # what it checks, in plain words (shown on sheets and in the catalogue)
    hint: str           # how to fix it
    check: Check

    def finding(self, snap: SiteSnapshot, key: str, *, points: float = 0.0, count: int = 1,
                evidence: list[Evidence] | None = None, title: str | None = None,
                severity: str | None = None) -> Finding:
        return Finding(code=self.code, title=title or self.name, severity=severity or self.kind,
                       points=round(points, 2), count=count, evidence=evidence or [],
                       fingerprint=fingerprint(snap.unit, self.code, key), hint=self.hint,
                       criterion=self.criterion)


RULES: dict[str, Rule] = {}


def rule(code: str, name: str, kind: str, criterion: str, hint: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if code in RULES:
            raise ValueError(f"rule code {code} registered twice")
        RULES[code] = Rule(code, name, kind, criterion, hint, check)
        check.rule = RULES[code]  # type: ignore[attr-defined]
        return check
    return register
