"""deploy/compose.yaml and deploy/Dockerfile agree with the code and with the docs: the services
docs/deployment.md describes, one environment for every Accrual process, every variable documented
in docs/configuration.md, every command one the `accrual` command accepts, and an image that holds
what those commands need. Docker is not run here; what can be read is checked."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import click
import pytest
import yaml

from engine.cli.main import main
from engine.worker.runner import WorkerOptions
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
ACCRUAL_SERVICES = ("migrate", "api", "worker")


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))["services"]


def test_the_services_are_postgresql_redis_the_upgrade_the_api_and_the_worker(services):
    assert set(services) == {"postgres", "redis", *ACCRUAL_SERVICES}
    assert [services[name]["build"]["dockerfile"] for name in ACCRUAL_SERVICES] == ["deploy/Dockerfile"] * 3


def test_every_accrual_process_shares_one_environment_naming_the_compose_database_and_queue(services):
    environment = services["api"]["environment"]
    assert all(services[name]["environment"] == environment for name in ACCRUAL_SERVICES)
    database = urlsplit(environment["DATABASE_URL"])
    postgres = services["postgres"]["environment"]
    assert database.scheme == "postgresql" and database.hostname == "postgres"
    assert (database.username, database.password, database.path) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        "/" + postgres["POSTGRES_DB"],
    )
    queue = urlsplit(environment["QUEUE_URL"])
    assert (queue.scheme, queue.hostname) == ("redis", "redis")


def test_every_variable_is_documented_in_the_configuration_page(services):
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", (ROOT / "docs/configuration.md").read_text(), re.MULTILINE))
    used = {name for service in ACCRUAL_SERVICES for name in services[service]["environment"]}
    assert used <= documented, used - documented


def test_every_service_and_variable_is_on_the_deployment_page(services):
    page = (ROOT / "docs/deployment.md").read_text(encoding="utf-8")
    names = {*services, *services["api"]["environment"], "deploy/compose.yaml", "deploy/Dockerfile"}
    assert {name for name in names if f"`{name}`" not in page} == set()


def resolve(arguments: list[str]) -> click.Context:
    """Parse `accrual ARGUMENTS` as click would, without running it: the subcommand names lead
    (no group of ours takes options), then the command parses its flags and values."""
    command: click.Command = main
    rest = list(arguments)
    while isinstance(command, click.Group):
        name = rest.pop(0)
        assert name in command.commands, f"accrual has no command {name!r}"
        command = command.commands[name]
    return command.make_context(command.name or "", rest)


@pytest.mark.parametrize("service", ACCRUAL_SERVICES)
def test_every_command_is_one_accrual_accepts(services, service):
    command = services[service]["command"]
    assert command[0] == "accrual"
    resolve(command[1:])  # raises click's usage error on an unknown command or flag


def test_the_image_holds_the_packages_the_examples_and_both_drivers():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\S+) \S+$", dockerfile, re.MULTILINE))
    assert {"dsl", "engine", "api", "playground", "rules_examples"} <= copied
    assert re.search(r"pip install .*-e '\.\[postgres,redis\]'", dockerfile)
    assert re.search(r'^CMD \["accrual", "serve", "--host", "0\.0\.0\.0"', dockerfile, re.MULTILINE)


def test_a_stopping_worker_is_given_the_time_to_finish_its_tasks(services):
    grace = services["worker"]["stop_grace_period"]
    assert grace.endswith("s") and float(grace[:-1]) > WorkerOptions().shutdown_timeout_s
