"""``dynassign strategies``: list, check and start strategies.

    dynassign strategies list
    dynassign strategies check
    dynassign strategies new NAME --from vetted-texters [--dir PATH]
"""

from __future__ import annotations

import ast
import inspect
import logging
import re
import types
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dynassign.assignment.strategies import registry
from dynassign.exceptions import DynassignError
from dynassign.organizations import config

log = logging.getLogger(__name__)

SETTING = "DYNAMICASSIGNMENT_BATCHES"


class Command(BaseCommand):
    help = "List the strategies dynassign can load, check the environment's choice, or start a new strategy package."
    # "check" reports an invalid environment itself, and "list" helps fix
    # one, so neither may be stopped by the start-up check.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,check,new}")
        actions.add_parser("list", help="Print each loadable strategy: name, display name and where it comes from.")
        actions.add_parser(
            "check",
            help=f"Resolve the {SETTING} environment variable and fail naming any unknown strategy.",
        )
        new = actions.add_parser(
            "new", help="Copy an existing strategy into a new installable package to start a strategy of your own."
        )
        new.add_argument("name", help="Name of the new strategy: lowercase letters, digits and hyphens, e.g. small-batches.")
        new.add_argument(
            "--from", dest="source", default="vetted-texters", help="Strategy to copy (default: vetted-texters)."
        )
        new.add_argument("--dir", dest="directory", help="Folder to create for the package (default: ./NAME).")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list()
        elif action == "check":
            self._check()
        else:
            self._new(options["name"], options["source"], options["directory"])

    def _list(self) -> None:
        strategies = registry.all_strategies()
        rows = [(name, _display_name(strategy), str(registry.source(name))) for name, strategy in strategies.items()]
        headers = ("NAME", "DISPLAY NAME", "SOURCE")
        widths = [max(len(row[column]) for row in [headers, *rows]) for column in range(2)]
        for row in [headers, *rows]:
            self.stdout.write(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip())

    def _check(self) -> None:
        try:
            config.check_environment()
            names = registry.split_names(config.environment_value(SETTING))
        except DynassignError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"{SETTING} resolves to {', '.join(names)}; the default strategy outside campaign lists is {names[0]}."
        )

    def _new(self, name: str, source_name: str, directory: str | None) -> None:
        target = Path(directory) if directory else Path.cwd() / name
        package = new_package(name, source_name, target)
        self.stdout.write(f"Created strategy {name!r} (a copy of {source_name!r}) in {package.root}:")
        for path in package.files:
            self.stdout.write(f"  {path.relative_to(package.root)}")
        self.stdout.write("")
        self.stdout.write("Install it into the environment that runs dynassign:")
        self.stdout.write(f"  pip install -e {package.root}")
        self.stdout.write("Check that dynassign finds it:")
        self.stdout.write("  dynassign strategies list")
        self.stdout.write("Run its contract tests:")
        self.stdout.write(f"  cd {package.root} && pytest")
        self.stdout.write(f"Select it with {SETTING}: for every campaign of a deployment (first entry is the default)")
        self.stdout.write(f"  export {SETTING}={name}")
        self.stdout.write(f"or in one campaign's settings, beside the default: {SETTING} = finished-replies,{name}")


def _display_name(strategy: Any) -> str:
    try:
        return str(strategy.display_name())
    except Exception as error:  # a plugin's bug must not hide the rest of the list
        log.exception("display_name() of strategy %s failed", strategy.name)
        return f"(display_name() failed: {error})"


class NewPackage:
    """The files written for a new strategy package."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[Path] = []

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.files.append(path)


def module_name(name: str) -> str:
    """Return the Python package name for the strategy ``name``: small-batches -> dynassign_strategy_small_batches."""
    return "dynassign_strategy_" + name.replace("-", "_")


def new_package(name: str, source_name: str, target: Path) -> NewPackage:
    """Write a standalone package at ``target`` holding a copy of strategy ``source_name`` named ``name``."""
    if not registry.is_valid_name(name):
        raise CommandError(
            f"Invalid strategy name {name!r}: use lowercase letters, digits and single hyphens, "
            "starting with a letter, for example 'small-batches'."
        )
    if name in registry.all_strategies():
        raise CommandError(f"A strategy named {name!r} is already loadable ({registry.source(name)}); choose another name.")
    strategy = registry.all_strategies().get(source_name)
    if strategy is None:
        known = ", ".join(sorted(registry.all_strategies()))
        raise CommandError(f"Unknown strategy {source_name!r} for --from; known strategies: {known}.")
    if target.exists():
        raise CommandError(f"{target} already exists; pass --dir with a new folder or remove it first.")

    strategy_source = copy_strategy_source(strategy, source_name, name)
    package_name = module_name(name)
    package = NewPackage(target.resolve())
    package.write("pyproject.toml", _PYPROJECT.format(name=name, package=package_name))
    package.write("README.md", _README.format(name=name, source=source_name, package=package_name))
    package.write(f"src/{package_name}/__init__.py", f'"""The dynassign strategy {name}."""\n')
    package.write(f"src/{package_name}/strategy.py", strategy_source)
    package.write("tests/test_contract.py", _CONTRACT_TEST.format(name=name, package=package_name))
    log.info("created strategy package %s for %s from %s", package.root, name, source_name)
    return package


def copy_strategy_source(strategy: Any, source_name: str, name: str) -> str:
    """Return the source of ``strategy``'s module with its name and display name replaced."""
    if not isinstance(strategy, types.ModuleType):
        raise CommandError(
            f"Strategy {source_name!r} is a {type(strategy).__name__} object, not a module, so its source "
            "cannot be copied; copy a built-in strategy such as vetted-texters instead."
        )
    text = inspect.getsource(strategy)
    tree = ast.parse(text)
    text = _replace_display_name(text, tree, f"{name.replace('-', ' ').capitalize()} (based on {source_name})")
    text, replaced = re.subn(r"^name\s*=\s*(['\"]).*?\1\s*$", f'name = "{name}"', text, count=1, flags=re.MULTILINE)
    if replaced != 1:
        raise CommandError(
            f"Strategy {source_name!r} sets no module-level name = \"...\" line to replace; copy another strategy."
        )
    return text


def _replace_display_name(text: str, tree: ast.Module, title: str) -> str:
    """Replace the string that ``display_name()`` returns, when it returns one literal."""
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name == "display_name" and len(node.body) == 1):
            continue
        statement = node.body[0]
        if not (isinstance(statement, ast.Return) and isinstance(statement.value, ast.Constant)):
            return text
        literal = statement.value
        lines = text.splitlines(keepends=True)
        if literal.lineno != literal.end_lineno or literal.end_col_offset is None:
            return text
        line = lines[literal.lineno - 1]
        # ast offsets are in UTF-8 bytes.
        encoded = line.encode("utf-8")
        encoded = encoded[: literal.col_offset] + repr(title).encode("utf-8") + encoded[literal.end_col_offset :]
        lines[literal.lineno - 1] = encoded.decode("utf-8")
        return "".join(lines)
    return text


_PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "dynassign-strategy-{name}"
version = "0.1.0"
description = "The dynassign batch strategy {name}"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["dynassign"]

[project.optional-dependencies]
test = ["pytest", "pytest-django"]

# dynassign loads every strategy registered in this group; the key is the
# strategy's name and the value is the module that implements it.
[project.entry-points."dynassign.strategies"]
{name} = "{package}.strategy"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "dynassign.settings"
testpaths = ["tests"]
"""

_README = """\
# dynassign-strategy-{name}

A dynassign batch strategy, started as a copy of `{source}` with
`dynassign strategies new`. Its logic is in `src/{package}/strategy.py`.

Install it into the environment that runs dynassign, then check that
dynassign finds it:

    pip install -e .
    dynassign strategies list

Enable it with `DYNAMICASSIGNMENT_BATCHES={name}` in the environment or an
organization's settings, or list it in a campaign's settings.

Run the contract tests (they use a test database of the dynassign settings):

    pytest
"""

_CONTRACT_TEST = '''\
"""Runs the dynassign strategy contract kit against {name}."""

from __future__ import annotations

from dynassign.assignment.strategies.testkit import StrategyContract

from {package} import strategy


class TestContract(StrategyContract):
    strategy = strategy
'''
