"""The CI smoke test's README check (.ci/smoke): how it reads commands, so README drift is caught early.

The smoke itself needs a fresh venv, PostgreSQL and Redis and runs from .ci/run; these tests load its pure
parts and run them on the real command tree and README.md, in seconds.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
from types import ModuleType

import pytest
from conftest import REPO_ROOT


@pytest.fixture(scope="module")
def smoke() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("ci_smoke", str(REPO_ROOT / ".ci" / "smoke"))
    spec = importlib.util.spec_from_loader("ci_smoke", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ci_smoke"] = module  # dataclasses look their module up while the class is made
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tree(smoke: ModuleType) -> dict:
    """The command tree exactly as the smoke computes it in its venv."""
    output = subprocess.run(
        [sys.executable, "-c", smoke.CLICK_TREE], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output)


def test_tree_holds_every_command_and_its_options(tree: dict) -> None:
    assert {"", "feed", "feed add", "scheduler", "worker", "status", "serve", "demo"} <= set(tree)
    assert tree["feed"]["group"] and not tree["feed add"]["group"]
    assert tree["feed add"]["options"]["--source"] is True  # takes a value
    assert tree["status"]["options"]["--json"] is False  # a flag


def test_command_shape_skips_values_and_arguments(smoke: ModuleType, tree: dict) -> None:
    shape = smoke.command_shape(
        tree, ["--data-dir", "feed", "feed", "add", "https://x.example/rss", "--source=x", "--exclude", "add"]
    )
    assert shape == ("feed add", frozenset({"--data-dir", "--source", "--exclude"}))
    assert smoke.command_shape(tree, ["history", "12", "--json"]) == ("history", frozenset({"--json"}))


@pytest.mark.parametrize(
    ("args", "error"),
    [(["feed", "remove", "1"], "no command remove"), (["crawl", "--fast"], "no option --fast")],
)
def test_unknown_commands_and_options_fail(
    smoke: ModuleType, tree: dict, args: list[str], error: str
) -> None:
    with pytest.raises(smoke.SmokeFailure, match=error):
        smoke.command_shape(tree, args)


def test_readme_commands_are_split_and_comments_dropped(smoke: ModuleType) -> None:
    text = "```sh\nexport A=1\nnewsdelta crawl   # --once\nmake && newsdelta serve --port 1 \\\n  --host h\n```\n"
    assert list(smoke.readme_commands(text)) == [
        ["export", "A=1"],
        ["newsdelta", "crawl"],
        ["make"],
        ["newsdelta", "serve", "--port", "1", "--host", "h"],
    ]


def test_every_readme_command_exists_and_the_quick_start_installs_plainly(
    smoke: ModuleType, tree: dict
) -> None:
    commands = list(smoke.readme_commands((REPO_ROOT / "README.md").read_text()))
    shapes = [smoke.command_shape(tree, c[1:]) for c in commands if c[0].endswith("newsdelta")]
    assert {"demo", "scheduler", "worker", "status"} <= {path for path, _ in shapes}
    plain = [
        c[1:]
        for c in commands
        if c[0].endswith("/pip") and not any("[" in word for word in c) and not smoke.upgrades_pip(c)
    ]
    assert plain == [list(smoke.PLAIN_INSTALL)]


def test_readme_problems_name_commands_never_run_and_other_installs(smoke: ModuleType, tree: dict) -> None:
    ran = {("crawl", frozenset({"--once", "--json"})), ("worker", frozenset({"--concurrency", "--loglevel"}))}
    commands = [
        ["newsdelta", "worker", "--concurrency", "16"],
        [".venv/bin/newsdelta", "crawl"],
        ["newsdelta", "crawl", "--force"],
        ["newsdelta", "serve"],
        [".venv/bin/pip", "install", "-e", "."],
        [".venv/bin/pip", "install", "-e", ".[test]"],
        [".venv/bin/pip", "install", "."],
        [".venv/bin/pip", "install", "-U", "pip"],
    ]
    assert smoke.readme_problems(commands, tree, ran) == [
        "`newsdelta crawl --force` is never run by the smoke test",
        "`newsdelta serve` is never run by the smoke test",
        "`.venv/bin/pip install -e .` is not the smoke's `pip install .`",
    ]
