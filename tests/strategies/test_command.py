"""Tests of `dynassign strategies` (list, new, check) and the start-up check of the environment."""

from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError

from dynassign.apps import check_environment_settings, raise_on_invalid_environment
from dynassign.assignment.strategies import registry


def run(*args: str) -> str:
    output = io.StringIO()
    call_command("strategies", *args, stdout=output)
    return output.getvalue()


def test_list_shows_builtins():
    lines = run("list").splitlines()

    assert lines[0].split() == ["NAME", "DISPLAY", "NAME", "SOURCE"]
    for name, strategy in registry.all_strategies().items():
        row = next(line for line in lines if line.split()[0] == name)
        assert strategy.display_name() in row
        if registry.source(name).entry_point is None:
            assert row.endswith("built-in")


def test_new_writes_package(tmp_path):
    target = tmp_path / "short-first"

    output = run("new", "short-first", "--from", "vetted-texters", "--dir", str(target))

    pyproject = tomllib.loads((target / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "dynassign-strategy-short-first"
    entry_points = pyproject["project"]["entry-points"]["dynassign.strategies"]
    assert entry_points == {"short-first": "dynassign_strategy_short_first.strategy"}
    module = (target / "src/dynassign_strategy_short_first/strategy.py").read_text()
    assert 'name = "short-first"' in module
    assert "(based on vetted-texters)" in module
    assert (target / "tests/test_contract.py").exists()
    assert f"pip install -e {target}" in output
    assert "DYNAMICASSIGNMENT_BATCHES=short-first" in output


def test_new_keeps_source_logic(tmp_path):
    target = tmp_path / "copy"
    run("new", "copy", "--from", "vetted-texters", "--dir", str(target))

    copied = ast.parse((target / "src/dynassign_strategy_copy/strategy.py").read_text())
    original = ast.parse(Path(sys.modules["dynassign.assignment.strategies.vetted_texters"].__file__).read_text())

    def logic(tree: ast.Module) -> str:
        function = next(node for node in tree.body if getattr(node, "name", "") == "request_new_batch_count")
        return ast.dump(function)

    assert logic(copied) == logic(original)


def test_new_defaults_to_name_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    run("new", "here-first", "--from", "all-texters")

    assert (tmp_path / "here-first" / "pyproject.toml").exists()


@pytest.mark.parametrize("name", ["Small", "small_batches", "small batches", "small-", "2small", "a--b"])
def test_new_rejects_invalid_name(tmp_path, name):
    with pytest.raises(CommandError, match="Invalid strategy name"):
        run("new", name, "--from", "vetted-texters", "--dir", str(tmp_path / "out"))

    assert not (tmp_path / "out").exists()


def test_new_rejects_existing_folder(tmp_path):
    (tmp_path / "taken").mkdir()

    with pytest.raises(CommandError, match="already exists"):
        run("new", "fresh-name", "--from", "vetted-texters", "--dir", str(tmp_path / "taken"))


def test_new_rejects_unknown_source(tmp_path):
    with pytest.raises(CommandError, match="Unknown strategy 'no-such-strategy' for --from"):
        run("new", "fresh-name", "--from", "no-such-strategy", "--dir", str(tmp_path / "out"))

    assert not (tmp_path / "out").exists()


def test_new_rejects_loadable_name(tmp_path):
    with pytest.raises(CommandError, match="already loadable"):
        run("new", "all-texters", "--from", "vetted-texters", "--dir", str(tmp_path / "out"))


def test_check_accepts_known_names(monkeypatch):
    monkeypatch.setenv("DYNAMICASSIGNMENT_BATCHES", "all-texters,vetted-texters")

    output = run("check")

    assert "the default strategy outside campaign lists is all-texters" in output


def test_check_rejects_unknown_name(monkeypatch):
    monkeypatch.setenv("DYNAMICASSIGNMENT_BATCHES", "finished-replies,no-such-strategy")

    with pytest.raises(CommandError, match="'no-such-strategy'"):
        run("check")


def test_check_command_exit_status(tmp_path):
    environment = {**os.environ, "DYNAMICASSIGNMENT_BATCHES": "no-such-strategy", "DYNASSIGN_DATA_DIR": str(tmp_path)}
    dynassign = Path(sys.executable).with_name("dynassign")

    failed = subprocess.run([dynassign, "strategies", "check"], env=environment, capture_output=True, text=True)

    assert failed.returncode != 0
    assert "no-such-strategy" in failed.stderr


def test_system_check_reports_unknown_name(monkeypatch):
    monkeypatch.setenv("DYNAMICASSIGNMENT_BATCHES", "no-such-strategy")

    errors = check_environment_settings()

    assert [error.id for error in errors] == ["dynassign.E001"]
    assert "'no-such-strategy'" in errors[0].msg
    with pytest.raises(SystemCheckError, match="no-such-strategy"):
        call_command("check", tags=["dynassign"], stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(ImproperlyConfigured, match="no-such-strategy"):
        raise_on_invalid_environment()


def test_system_check_passes_known_name(monkeypatch):
    monkeypatch.setenv("DYNAMICASSIGNMENT_BATCHES", "vetted-texters")

    assert check_environment_settings() == []
