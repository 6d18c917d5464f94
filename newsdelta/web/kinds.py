"""The `kind` filter shared by the API, the feeds and the pages: one of the stable change-kind names."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from newsdelta.vocabulary import ChangeKind

KindQuery = Annotated[
    str | None,
    Query(pattern=f"^({'|'.join(ChangeKind)})?$", description="Only versions with this kind of change"),
]
