"""Which evidence store a URL names: a registry keyed by URL scheme (NEWSDELTA_EVIDENCE).

A new store is a module with a class that has put/get/exists/iterate (`EvidenceStore`) and a factory that
checks a URL and returns how to open the store for a session, plus one `register_evidence_store` line here
(or in a test). No URL means the database.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from newsdelta.store.evidence import EvidenceOpener
from newsdelta.store.evidence_db import DatabaseEvidence
from newsdelta.store.evidence_files import FileEvidence

StoreFactory = Callable[[str], EvidenceOpener]

_STORES: dict[str, StoreFactory] = {}


def register_evidence_store(scheme: str, factory: StoreFactory) -> None:
    _STORES[scheme] = factory


register_evidence_store("db", DatabaseEvidence.opener)
register_evidence_store("file", FileEvidence.opener)


def evidence_opener(url: str | None) -> EvidenceOpener:
    """How to open the store `url` names for a session; ValueError for a URL no registered store takes."""
    if not url:
        return DatabaseEvidence
    scheme = urlsplit(url).scheme or url
    factory = _STORES.get(scheme)
    if factory is None:
        raise ValueError(f"no evidence store for {url!r}; known schemes: {', '.join(sorted(_STORES))}")
    return factory(url)
