"""A finding: one problem, with its evidence, its points and a stable fingerprint."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass


@dataclass
class Evidence:
    url: str | None
    source: str | None = None
    detail: str = ""


@dataclass
class Finding:
    code: str
    title: str
    severity: str               # veto | deduction | advisory
    points: float
    count: int
    evidence: list[Evidence]
    fingerprint: str
    hint: str
    criterion: str = ""         # the criterion broken, in plain words (for the problem sheet)
    for_reference: bool = False  # a deduction listed on a vetoed site: not scored, fix it anyway
    silenced: bool = False       # a verified false positive: shown, never scored
    silence_reason: str | None = None
    # Evidence short of what the criteria require (e.g. V1 from fewer than a week of probes): shown as 暂定
    # with the reason, never a veto or a deduction until the evidence is complete
    provisional: bool = False
    provisional_reason: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def fingerprint(unit: str, code: str, key: str) -> str:
    """Stable across scans for the same problem: unit + rule + what it is about (a URL, a column)."""
    return hashlib.sha1(f"{unit}\x1f{code}\x1f{key}".encode()).hexdigest()[:16]



