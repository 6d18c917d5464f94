"""Shared fixtures: where the read-only corpus is, and skips for services that are not running."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

# The simulated newsroom serves on loopback, which newsdelta refuses to fetch unless allowed (SSRF guard).
os.environ.setdefault("NEWSDELTA_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT.parent / "shared" / "corpus"


def service_up(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    return CORPUS
