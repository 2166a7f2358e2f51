"""What the deployment files may name: the settings (server/settings.py) and the commands of
`python -m server`; and where each file names them."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GONGHUI_IMAGE = re.compile(r"(^|/)gonghui(:|$)")
# Variables a container sets for its own command line (`$(POD_NAME)`), not settings.
OWN_VARIABLES = {"POD_NAME"}


def known_settings() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


@cache
def known_commands() -> frozenset[str]:
    """The subcommands `python -m server --help` lists, e.g. `{run,migrate,...}`."""
    shown = subprocess.run(
        [sys.executable, "-m", "server", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"\{([a-z,-]+)\}", shown)
    assert found, shown
    return frozenset(found.group(1).split(","))


def env_file_names(path: Path) -> list[str]:
    return [
        line.split("=", 1)[0].strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def compose_problems(compose: dict[str, Any], directory: Path) -> list[str]:
    """Unknown settings and commands in the services that run the Gonghui image."""
    problems = []
    for name, service in compose["services"].items():
        if not GONGHUI_IMAGE.search(str(service.get("image", ""))):
            continue
        environment = service.get("environment", {})
        names = list(environment) if isinstance(environment, dict) else [item.split("=")[0] for item in environment]
        env_files = service.get("env_file", [])
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            names += env_file_names(directory / f"{env_file}.example")
        problems += [
            f"{name}: unknown setting {variable}" for variable in names if variable.upper() not in known_settings()
        ]
        problems += command_problems(name, service.get("command", ["run"]))
    return problems


def command_problems(where: str, arguments: list[str] | str) -> list[str]:
    """`arguments` are what follows `python -m server` (the image's entrypoint)."""
    words = arguments.split() if isinstance(arguments, str) else arguments
    if not words or words[0] not in known_commands():
        return [f"{where}: unknown command {' '.join(words)!r}"]
    return []


def k8s_problems(documents: list[dict[str, Any]]) -> list[str]:
    """Unknown settings in ConfigMaps and Secrets, unknown variables and commands in containers."""
    problems = []
    for document in documents:
        kind, name = document["kind"], document["metadata"]["name"]
        if kind == "ConfigMap":
            keys = list(document.get("data", {}))
        elif kind == "Secret":
            keys = list(document.get("stringData", {}))
        else:
            keys = []
        problems += [f"{kind}/{name}: unknown setting {key}" for key in keys if key.upper() not in known_settings()]
        for container in pod_spec(document).get("containers", []):
            where = f"{kind}/{name}/{container['name']}"
            for variable in container.get("env", []):
                if variable["name"] not in OWN_VARIABLES and variable["name"].upper() not in known_settings():
                    problems.append(f"{where}: unknown setting {variable['name']}")
            problems += command_problems(where, container.get("args", ["run"]))
    return problems


def pod_spec(document: dict[str, Any]) -> dict[str, Any]:
    if document["kind"] in {"Deployment", "Job"}:
        return document["spec"]["template"]["spec"]
    return {}


def systemd_problems(unit: str) -> list[str]:
    problems = []
    for line in unit.splitlines():
        if line.startswith(("ExecStart=", "ExecStartPre=")):
            _, _, arguments = line.partition(" -m server ")
            problems += command_problems(line, arguments)
    return problems


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]
