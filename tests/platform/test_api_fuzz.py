"""Every operation of the OpenAPI document, fuzzed by schemathesis from the document itself:
anonymously, as a worker and as staff. No answer may be a 5xx, every answer must match the
document, and every error must be in the contract's shape.

The run is bounded (a few examples per operation, derandomised so that a failure reproduces) and
uses a server and database of its own: fuzzing as a superadmin approves, rejects and broadcasts
at random, which the demo data other tests rely on would not survive.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from tests.conftest import BACKEND, DEMO_PASSWORD, Stack, running_stack

MAX_EXAMPLES = 15
# Files sent as they are (an .xlsx report to import) are fuzzed as any binary body.
schemathesis.serializer.alias(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream"
)
# Logging out or changing the password would end the session the rest of the run uses.
SESSION_ENDING = r"/(logout|auth/password)$"


@pytest.fixture(scope="module")
async def fuzz_stack(
    sandbox_url: str, tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path
) -> AsyncIterator[Stack]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    log_path = artifacts_dir / f"server-fuzz-{BACKEND}.log"
    # The harness's roomy limits (tests/harness.py) let the fuzzer log in many times a second; a
    # 429 it still meets is checked like any other error (documented, in the contract's shape).
    async with running_stack(BACKEND, sandbox_url, data_dir, log_path) as started:
        yield started


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_stack: Stack) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_stack.base_url}/api/v1/openapi.json")


@pytest.fixture(scope="module")
def worker_headers(fuzz_stack: Stack) -> dict[str, str]:
    code = f"dev:fuzzer:{uuid.uuid4().hex[:8]}"
    answer = httpx.post(f"{fuzz_stack.base_url}/api/v1/auth/wechat-login", json={"code": code}, timeout=20)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.fixture(scope="module")
def staff_headers(fuzz_stack: Stack) -> dict[str, str]:
    answer = httpx.post(
        f"{fuzz_stack.base_url}/api/v1/admin/auth/login",
        json={"username": "admin", "password": DEMO_PASSWORD},
        timeout=20,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@schemathesis.check
def errors_in_the_contract_shape(ctx: object, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """`{"error": {"code", "message", "details"}}` for every 4xx and 5xx."""
    if response.status_code < 400:
        return
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"no error object in {response.text[:200]}"
    assert isinstance(error.get("code"), str) and "." in error["code"], f"code not dotted: {error}"
    assert isinstance(error.get("message"), str) and error["message"], f"no message: {error}"
    assert isinstance(error.get("details"), dict), f"details not an object: {error}"


CHECKS = [
    not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    errors_in_the_contract_shape,
]
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def fuzz(schema: schemathesis.BaseSchema, base_url: str, headers: dict[str, str], skip: str | None = None) -> None:
    """Each operation with data that fits the document and data that does not; every failure
    is collected, so one run names them all."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if skip and re.search(skip, operation.path):
            continue
        for mode in GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @FUZZ
            def run(case: schemathesis.Case) -> None:
                case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                pass  # nothing to get wrong: an operation without parameters or body has no negative data
            except Exception as exc:
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)


# Log in first: the anonymous run spends the per-IP login allowance with made-up credentials.
@pytest.mark.usefixtures("worker_headers", "staff_headers")
def test_anonymous(fuzz_schema: schemathesis.BaseSchema, fuzz_stack: Stack) -> None:
    fuzz(fuzz_schema, fuzz_stack.base_url, {})


def test_as_a_worker(fuzz_schema: schemathesis.BaseSchema, fuzz_stack: Stack, worker_headers: dict[str, str]) -> None:
    fuzz(fuzz_schema, fuzz_stack.base_url, worker_headers, skip=SESSION_ENDING)


def test_as_staff(fuzz_schema: schemathesis.BaseSchema, fuzz_stack: Stack, staff_headers: dict[str, str]) -> None:
    fuzz(fuzz_schema, fuzz_stack.base_url, staff_headers, skip=SESSION_ENDING)
