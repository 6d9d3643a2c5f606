"""Strategies from other packages: one made with `dynassign strategies new`, and the example package.

The generated package is made importable the way an installed one is: its
source folder goes on ``sys.path`` beside a ``*.dist-info`` folder holding
the ``entry_points.txt`` that pip would write from its pyproject.toml, so
dynassign finds it through ``importlib.metadata`` like any installed plugin.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from dynassign.assignment.batches import offer, request_batch
from dynassign.assignment.models import AssignmentEvent
from dynassign.assignment.strategies import registry
from dynassign.assignment.strategies.testkit import check_strategy
from dynassign.organizations import config
from dynassign.organizations.roles import Role

GENERATED = "quick-first"
GENERATED_DISTRIBUTION = "dynassign-strategy-quick-first"
EXAMPLE = "small-batches-first"
EXAMPLE_DISTRIBUTION = "dynassign-strategy-example"
EXAMPLE_INSTALL = "pip install -e examples/dynassign-strategy-example"


def _write_dist_info(package_root: Path, site: Path) -> None:
    """Write the installed-distribution metadata pip would write for the package at ``package_root``."""
    project = tomllib.loads((package_root / "pyproject.toml").read_text())["project"]
    dist_info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    lines = []
    for group, entries in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {target}" for name, target in entries.items())
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def generated_package(tmp_path_factory) -> Iterator[Path]:
    """Generate ``quick-first`` from vetted-texters and make it loadable through its entry point."""
    root = tmp_path_factory.mktemp("plugin") / GENERATED
    call_command("strategies", "new", GENERATED, "--from", "vetted-texters", "--dir", str(root), stdout=io.StringIO())
    site = root.parent / "site-packages"
    _write_dist_info(root, site)

    added = [str(site), str(root / "src")]
    sys.path[:0] = added
    registry.reload()
    try:
        yield root
    finally:
        for entry in added:
            sys.path.remove(entry)
        for module in [name for name in sys.modules if name.startswith("dynassign_strategy_quick_first")]:
            del sys.modules[module]
        registry.reload()


@pytest.fixture
def example_installed() -> None:
    if EXAMPLE not in registry.all_strategies():
        pytest.fail(f"The example strategy package is not installed; run `{EXAMPLE_INSTALL}` in the virtualenv.")


def test_generated_listed_with_distribution(generated_package):
    output = io.StringIO()
    call_command("strategies", "list", stdout=output)

    row = next(line for line in output.getvalue().splitlines() if line.startswith(GENERATED + " "))
    assert f"{GENERATED_DISTRIBUTION} 0.1.0" in row
    assert "entry point dynassign_strategy_quick_first.strategy" in row
    assert "(based on vetted-texters)" in row


def test_example_listed_with_distribution(example_installed):
    output = io.StringIO()
    call_command("strategies", "list", stdout=output)

    row = next(line for line in output.getvalue().splitlines() if line.startswith(EXAMPLE + " "))
    assert f"{EXAMPLE_DISTRIBUTION} 0.1.0" in row


@pytest.mark.parametrize("name", [GENERATED, EXAMPLE])
def test_plugin_selectable_per_campaign(generated_package, example_installed, make_campaign, make_user, join, name):
    overrides = config.validate_overrides({"DYNAMICASSIGNMENT_BATCHES": f"finished-replies,{name}"})
    campaign = make_campaign(contacts=20, batch_size=5, settings=overrides)
    assignment = join(make_user(), campaign)

    result = request_batch(assignment.id, batch_type=name)

    assert result.assigned > 0
    event = AssignmentEvent.objects.get(to_assignment=assignment)
    assert event.strategy == name


@pytest.mark.parametrize("name", [GENERATED, EXAMPLE])
def test_plugin_passes_contract(generated_package, example_installed, db, name):
    check_strategy(registry.get(name))


def test_generated_keeps_vetting_rule(generated_package, organization, make_campaign, make_user, join):
    campaign = make_campaign(contacts=20, batch_size=5, strategies=GENERATED)
    assignment = join(make_user(organization, Role.TEXTER), campaign)

    first = request_batch(assignment.id)
    assignment.contacts.update(message_status="messaged")
    after = offer(assignment.id)

    assert first.assigned == 5
    assert after.count == 0
    assert after.reason is not None and after.reason.code == "not_vetted"


def test_generated_contract_tests_pass(generated_package, tmp_path):
    """Run the test file the generator wrote, in its own pytest process, as its author would."""
    site = generated_package.parent / "site-packages"
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(generated_package / "src")]),
        "DYNASSIGN_DATA_DIR": str(tmp_path),
    }
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    # The child gets an SQLite file of its own: on PostgreSQL it would create,
    # and so drop, the test database this session is using.
    environment.pop("DATABASE_URL", None)

    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=generated_package, env=environment, capture_output=True, text=True, timeout=300,
    )

    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "9 passed" in finished.stdout
