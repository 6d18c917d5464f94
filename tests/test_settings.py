"""One settings table: the README lists every setting as the table has it, the command line's help comes from
it, and no module reads a NEWSDELTA_ variable except newsdelta/settings.py (the tests' own variables aside)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsdelta import settings
from newsdelta.cli import cli
from newsdelta.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_readme_lists_every_setting_with_its_default() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"<!-- settings -->\n(.*?)\n<!-- /settings -->", readme, re.DOTALL)
    assert listed is not None, "README.md has no <!-- settings --> list"
    assert listed.group(1) == settings.markdown_table(), (
        "README's list differs: paste `python -m newsdelta.settings`"
    )
    for setting in settings.SETTINGS:
        assert f"| `{setting.env}` | " in listed.group(1)
        assert f" | {setting.default_text} | " in listed.group(1)


_GETTERS = {"os.environ.get", "environ.get", "os.getenv", "getenv"}
_MAPS = {"os.environ", "environ"}


def _environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, key) of every read of one environment variable: os.environ.get(k), os.environ[k], os.getenv(k).
    A key that is not a string literal is reported as "?": it may name a NEWSDELTA_ variable."""
    reads = []
    for node in ast.walk(tree):
        key: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args and ast.unparse(node.func) in _GETTERS:
            key = node.args[0]
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and ast.unparse(node.value) in _MAPS
        ):
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            reads.append((node.lineno, key.value))
        elif key is not None:
            reads.append((node.lineno, "?"))
    return reads


def test_only_the_settings_module_reads_newsdelta_variables() -> None:
    offenders = []
    for path in sorted([*(ROOT / "newsdelta").rglob("*.py"), *(ROOT / "bench").glob("*.py")]):
        if path == ROOT / "newsdelta" / "settings.py":
            continue
        for line, key in _environment_reads(ast.parse(path.read_text(encoding="utf-8"))):
            if key == "?" or key.startswith(settings.PREFIX):
                offenders.append(f"{path.relative_to(ROOT)}:{line} reads {key}")
    assert offenders == [], "read it through newsdelta.settings instead:\n" + "\n".join(offenders)


def test_the_check_finds_a_read() -> None:
    tree = ast.parse('import os\nos.environ.get("NEWSDELTA_X")\nos.environ[name]\nos.getenv("HOME")')
    assert _environment_reads(tree) == [(2, "NEWSDELTA_X"), (3, "?"), (4, "HOME")]


def test_settings_defaults_and_environment_come_from_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in settings.SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    defaults = Settings.from_env()
    assert (defaults.data_dir, defaults.per_host_delay, defaults.feed_max_items, defaults.db_url) == (
        settings.DATA_DIR.default,
        settings.PER_HOST_DELAY.default,
        settings.FEED_MAX_ITEMS.default,
        None,
    )
    monkeypatch.setenv(settings.QUEUE.env, "elsewhere")
    monkeypatch.setenv(settings.PER_HOST_CONCURRENCY.env, "5.0")
    monkeypatch.setenv(settings.DB.env, "")  # empty is unset
    assert settings.QUEUE.read() == "elsewhere"
    configured = Settings.from_env(per_host_delay=0.5)
    assert (configured.per_host_concurrency, configured.per_host_delay, configured.db_url) == (5, 0.5, None)


def test_help_of_the_options_that_mirror_settings_comes_from_the_table() -> None:
    output = CliRunner().invoke(cli, ["--help"], terminal_width=400).output
    for setting in (settings.DATA_DIR, settings.DB, settings.BROKER, settings.CONTACT_URL, settings.SCHEDULE):
        assert setting.help in output and f"[{setting.env}, {setting.default_text}]" in output
    assert all(setting.env in output for setting in settings.SETTINGS)  # the epilog lists the rest
