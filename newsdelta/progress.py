"""The live display of `newsdelta crawl`: checks per outcome, rate, and each pass's figures."""

from __future__ import annotations

import time
from collections import Counter
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from newsdelta.vocabulary import Outcome


class CrawlProgress:
    """Counts outcomes as checks finish and redraws a small table a few times a second."""

    def __init__(self, console: Console, *, enabled: bool = True) -> None:
        self.console = console
        self.enabled = enabled and console.is_terminal
        self.outcomes: Counter[Outcome] = Counter()
        self.started = time.monotonic()
        self.passes = 0
        self._live: Live | None = None

    def __enter__(self) -> CrawlProgress:
        if self.enabled:
            self._live = Live(self._table(), console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(exc_type, exc, tb)

    def on_check(self, outcome: Outcome) -> None:
        self.outcomes[outcome] += 1
        if self._live is not None:
            self._live.update(self._table())

    def pass_done(self, figures: dict[str, Any]) -> None:
        self.passes += 1
        if self._live is None:
            self.console.print(
                f"pass {self.passes}: {figures['feeds_polled']} feeds polled, {figures['articles_added']} new "
                f"articles, {figures['checks']} checks {figures['outcomes']}"
            )

    def _table(self) -> Table:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        total = sum(self.outcomes.values())
        table = Table(
            title=f"newsdelta crawl · {total} checks · {total / elapsed:.1f}/s · pass {self.passes}"
        )
        table.add_column("outcome")
        table.add_column("checks", justify="right")
        for outcome, count in sorted(self.outcomes.items()):
            table.add_row(outcome, str(count))
        return table
