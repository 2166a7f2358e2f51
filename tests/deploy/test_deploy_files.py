"""deploy/ validates without a Docker engine or a cluster: hadolint for the Dockerfile, the
Kubernetes JSON schemas (bundled by kubernetes-validate, offline) for the manifests, systemd's own
verifier for the units, shellcheck for the backup scripts, and our own check that every setting
and command they name is one the server knows. Each check is also shown failing on a bad file."""

from __future__ import annotations

import base64
import copy
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from server.settings import Settings
from tests.deploy.checks import (
    DEPLOY,
    ROOT,
    compose_problems,
    env_file_names,
    k8s_problems,
    known_commands,
    load_yaml_documents,
    pod_spec,
    systemd_problems,
)

BIN = Path(sys.executable).parent
COMPOSE = DEPLOY / "compose" / "compose.yaml"
K8S = sorted(path for path in (DEPLOY / "k8s").glob("*.yaml") if path.name != "kustomization.yaml")
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
# The oldest Kubernetes the manifests promise to fit (the preStop `sleep` action is 1.30+), and the newest bundled.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} comes from the test extras' wheel, which exists for x86_64 Linux only")
    return str(path)


# --- Dockerfile -------------------------------------------------------------------------------


def hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([tool("hadolint"), "--no-color", str(path)], capture_output=True, text=True)


def test_the_dockerfile_passes_hadolint() -> None:
    checked = hadolint(DEPLOY / "Dockerfile")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_hadolint_fails_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN apt-get update && apt-get install curl\nCMD python -m server run\n")
    checked = hadolint(careless)
    assert checked.returncode != 0 and "DL3007" in checked.stdout


def test_the_image_runs_the_readme_commands_as_a_user_with_a_health_check() -> None:
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().splitlines()]
    assert 'ENTRYPOINT ["python", "-m", "server"]' in lines
    assert 'CMD ["run"]' in lines  # the API by default; `jobs` for the runner
    assert "run" in known_commands() and "jobs" in known_commands()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^HEALTHCHECK [^\n]*\\\n\s*CMD \[[^\n]*/healthz", text, re.MULTILINE)
    assert "[test]" not in text  # no test extras in the image


def test_the_wheel_the_image_installs_carries_every_template_and_static_file(tmp_path: Path) -> None:
    """The image installs the project as a wheel, not as this checkout: a page template or static
    file left out of package-data would be a 500 in production only."""
    # Built from a copy of what the Dockerfile copies, so that no build/ lands in this checkout.
    context = tmp_path / "context"
    context.mkdir()
    shutil.copy(ROOT / "pyproject.toml", context)
    for folder in ("server", "models", "handlers", "migrations"):
        shutil.copytree(ROOT / folder, context / folder, ignore=shutil.ignore_patterns("__pycache__"))
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)]
    built = subprocess.run([*pip_wheel, str(context)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("gonghui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        str(path.relative_to(ROOT))
        for folder in ("server/templates", "server/static", "migrations")
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert wanted and wanted <= names, sorted(wanted - names)


def test_the_build_context_holds_the_sources_and_no_secrets() -> None:
    rules = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*"  # everything out, then the sources back in by name
    assert {"!server/", "!models/", "!handlers/", "!migrations/", "!pyproject.toml"} <= set(rules)


# --- compose ----------------------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_has_the_services_of_a_deployment() -> None:
    services = compose()["services"]
    commands = {name: service.get("command") for name, service in services.items()}
    assert [name for name, command in commands.items() if command == ["run"]] == ["api-1", "api-2"]
    assert sorted(name for name, command in commands.items() if command and command[0] == "jobs") == [
        "jobs-1",
        "jobs-2",
    ]
    assert commands["migrate"] == ["migrate"] and services["migrate"]["restart"] == "no"
    assert services["postgres"]["image"].startswith("postgres:") and services["redis"]["image"].startswith("redis:")
    for name in ("api-1", "api-2", "jobs-1", "jobs-2"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "ports" not in services[name]  # reached through the proxy only
    for name in ("jobs-1", "jobs-2"):
        assert services[name]["healthcheck"] == {"disable": True}  # no HTTP in a job runner


def test_compose_trusts_the_proxy_alone_and_the_proxy_terminates_tls() -> None:
    services = compose()["services"]
    proxy = services["proxy"]
    address = proxy["networks"]["backend"]["ipv4_address"]
    for name in ("api-1", "api-2"):
        assert services[name]["environment"]["TRUSTED_PROXIES"] == address
    assert set(proxy["ports"]) == {"80:80", "443:443"}
    caddyfile = (DEPLOY / "compose" / "Caddyfile").read_text()
    assert "tls /certs/cert.pem /certs/key.pem" in caddyfile
    assert "reverse_proxy api-1:8000 api-2:8000" in caddyfile and "health_uri /readyz" in caddyfile
    assert "@metrics path /metrics" in caddyfile


def test_compose_names_only_settings_and_commands_the_server_knows() -> None:
    assert compose_problems(compose(), COMPOSE.parent) == []


def test_a_misspelt_setting_or_command_in_compose_fails() -> None:
    broken = copy.deepcopy(compose())
    api = broken["services"]["api-1"]
    api["environment"] = {**api["environment"], "DATABSE_URL": "postgres://x"}  # not the shared anchor
    broken["services"]["jobs-2"]["command"] = ["job", "--name", "jobs-2"]
    assert compose_problems(broken, COMPOSE.parent) == [
        "api-1: unknown setting DATABSE_URL",
        "jobs-2: unknown command 'job --name jobs-2'",
    ]


def test_compose_commits_no_secret() -> None:
    for path in (COMPOSE.parent / "gonghui.env.example", COMPOSE.parent / "dotenv.example"):
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            if not line.startswith("#") and any(word in name for word in ("SECRET", "KEY", "PASSWORD", "TOKEN")):
                assert value == "", line
    assert "${POSTGRES_PASSWORD:?" in COMPOSE.read_text()


# --- Kubernetes -------------------------------------------------------------------------------


def manifests() -> list[dict]:
    return [document for path in K8S for document in load_yaml_documents(path)]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_fits_the_kubernetes_schema(version: str) -> None:
    for document in manifests():
        kubernetes_validate.validate(document, version, strict=True)


def test_the_schema_check_fails_a_misspelt_manifest() -> None:
    deployment = copy.deepcopy(next(d for d in manifests() if d["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_manifests_hold_every_part_of_a_deployment() -> None:
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in manifests())
    assert kinds == [
        "ConfigMap/gonghui",
        "Deployment/gonghui-api",
        "Deployment/gonghui-jobs",
        "HorizontalPodAutoscaler/gonghui-api",
        "Ingress/gonghui",
        "Job/gonghui-migrate-0-1-0",
        "PodDisruptionBudget/gonghui-api",
        "PodDisruptionBudget/gonghui-jobs",
        "Secret/gonghui",
        "Service/gonghui-api",
    ]
    kustomized = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())["resources"]
    assert all((DEPLOY / "k8s" / name).exists() for name in kustomized)
    assert "secret.example.yaml" not in kustomized  # the operator makes the real one
    ingress = next(d for d in manifests() if d["kind"] == "Ingress")
    assert ingress["spec"]["tls"][0]["secretName"]


def test_the_api_is_probed_and_every_pod_is_bounded_and_unprivileged() -> None:
    by_name = {d["metadata"]["name"]: d for d in manifests() if d["kind"] in {"Deployment", "Job"}}
    api = pod_spec(by_name["gonghui-api"])["containers"][0]
    assert api["args"] == ["run"]
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod_spec(by_name["gonghui-jobs"])["containers"][0]["args"][0] == "jobs"
    assert pod_spec(by_name["gonghui-migrate-0-1-0"])["containers"][0]["args"] == ["migrate"]
    for document in manifests():
        spec = pod_spec(document)
        if not spec:
            continue
        assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
        for container in spec["containers"]:
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]) & set(container["resources"]["limits"])
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    hpa = next(d for d in manifests() if d["kind"] == "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "gonghui-api" and hpa["spec"]["minReplicas"] >= 2


def test_the_manifests_name_only_settings_and_commands_the_server_knows() -> None:
    assert k8s_problems(manifests()) == []
    broken = copy.deepcopy(manifests())
    next(d for d in broken if d["kind"] == "ConfigMap")["data"]["REDIS_ULR"] = "redis://x"
    assert k8s_problems(broken) == ["ConfigMap/gonghui: unknown setting REDIS_ULR"]


def test_the_secret_template_holds_placeholders_only() -> None:
    secret = next(d for d in manifests() if d["kind"] == "Secret")
    assert "data" not in secret
    assert all("REPLACE" in value for value in secret["stringData"].values())


# --- systemd ----------------------------------------------------------------------------------


def verify_units(units: list[Path], tmp_path: Path) -> subprocess.CompletedProcess:
    """systemd-analyze checks that ExecStart's program exists: point it at this interpreter."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not on this machine (Debian's systemd package has it)")
    copies = []
    for unit in units:
        copy_path = tmp_path / unit.name
        copy_path.write_text(unit.read_text().replace("/opt/gonghui/.venv/bin/python", sys.executable))
        copies.append(str(copy_path))
    return subprocess.run([analyze, "verify", "--man=no", *copies], capture_output=True, text=True)


def test_systemd_verifies_the_units(tmp_path: Path) -> None:
    checked = verify_units(UNITS, tmp_path)
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr


def test_systemd_verify_reports_a_misspelt_option(tmp_path: Path) -> None:
    bad = tmp_path / "bad" / "gonghui.service"
    bad.parent.mkdir()
    bad.write_text(UNITS[0].read_text().replace("ProtectSystem=strict", "ProtectSystm=strict"))
    checked = verify_units([bad], tmp_path)
    assert "ProtectSystm" in checked.stderr


def test_the_units_are_hardened_and_run_known_commands() -> None:
    for unit in UNITS:
        text = unit.read_text()
        assert systemd_problems(text) == []
        for option in (
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "User=gonghui",
        ):
            assert option in text.splitlines(), (unit.name, option)
    assert systemd_problems("ExecStart=/opt/gonghui/.venv/bin/python -m server serve") != []
    assert "-m server jobs" in (DEPLOY / "systemd" / "gonghui-jobs.service").read_text()


# --- environment templates --------------------------------------------------------------------


def filled(path: Path) -> dict[str, str]:
    """The template with each empty value given a real-looking one of the right form."""
    values = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        if not value:
            seed = base64.b64encode(os.urandom(32)).decode()
            value = {"ID_ENCRYPTION_KEYS": f"k1:{seed}", "MEMBER_CARD_SIGNING_KEY": seed}.get(
                name, os.urandom(24).hex()
            )
        values[name.lower()] = value
    return values


@pytest.mark.parametrize(
    "template", [DEPLOY / "systemd" / "gonghui.env.example", DEPLOY / "compose" / "gonghui.env.example"]
)
def test_a_filled_in_template_starts_in_production_mode(template: Path, tmp_path: Path) -> None:
    """Every secret production refuses to go without is in the template, under a known name."""
    assert [name for name in env_file_names(template) if name.lower() not in Settings.model_fields] == []
    values = {"database_url": "postgres://gonghui:x@db:5432/gonghui", **filled(template), "data_dir": str(tmp_path)}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    assert settings.environment == "production"


# --- backup scripts ---------------------------------------------------------------------------


def test_the_backup_scripts_pass_shellcheck(tmp_path: Path) -> None:
    scripts = [str(DEPLOY / "backup.sh"), str(DEPLOY / "restore.sh")]
    checked = subprocess.run([tool("shellcheck"), *scripts], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
    careless = tmp_path / "careless.sh"
    careless.write_text("#!/bin/sh\nrm -rf $1/*\n")
    assert subprocess.run([tool("shellcheck"), str(careless)], capture_output=True).returncode != 0
