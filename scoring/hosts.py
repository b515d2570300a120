"""Host matching shared by rules that check where links point."""
from __future__ import annotations


def listed(netloc: str, entry: str) -> bool:
    """An entry with a port names one host:port; without, a host and its subdomains."""
    entry = entry.lower()
    if ":" in entry:
        return netloc.lower() == entry
    host = netloc.split(":")[0].lower()
    return host == entry or host.endswith("." + entry)
