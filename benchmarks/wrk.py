"""HTTP load from wrk (Debian's package), so that the client is never the bottleneck.

A Python client on the same two cores measures itself as much as the server; wrk, written in C
with an event loop per thread, drives a Sanic worker to its limit with one thread. `ensure_wrk`
installs it when missing (apt, as the Makefile installs Chromium); `run_wrk` runs one endpoint
and reads wrk's own report: requests per second, the latency distribution, errors.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

WRK = "wrk"

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class WrkError(RuntimeError):
    """wrk could not be installed or run, or its report could not be read."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def clean(self) -> bool:
        return self.non_2xx == 0 and self.socket_errors == 0


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package first when it is not there."""
    found = shutil.which(WRK)
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        [*sudo, "apt-get", "update", "-qq"],
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", WRK],
    ):
        done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
        if done.returncode != 0:
            raise WrkError(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")
    found = shutil.which(WRK)
    if not found:
        raise WrkError("wrk is still missing after installing Debian's package")
    return found


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise WrkError(f"unreadable duration in wrk's report: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_report(report: str) -> WrkResult:
    """Read wrk's `--latency` report."""
    try:
        done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", report)
        rate = re.search(r"Requests/sec:\s+([\d.]+)", report)
        p50 = re.search(r"^\s+50%\s+(\S+)\s*$", report, re.MULTILINE)
        p99 = re.search(r"^\s+99%\s+(\S+)\s*$", report, re.MULTILINE)
        assert done and rate and p50 and p99
    except AssertionError:
        raise WrkError("wrk's report lacks a figure:\n" + report) from None
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report)
    return WrkResult(
        requests=int(done.group(1)),
        seconds=_milliseconds(done.group(2) + done.group(3)) / 1000,
        requests_per_second=float(rate.group(1)),
        p50_ms=_milliseconds(p50.group(1)),
        p99_ms=_milliseconds(p99.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(value) for value in socket.groups()) if socket else 0,
    )


def run_wrk(
    url: str,
    *,
    connections: int = 64,
    seconds: float = 10.0,
    threads: int = 1,
    headers: dict[str, str] | None = None,
    timeout_s: float = 10.0,
    script: str | None = None,
) -> WrkResult:
    """Load one URL for `seconds` and return wrk's figures: GET requests, or whatever the Lua
    `script` (a file path) makes of each request (method, headers, body)."""
    command = [
        ensure_wrk(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    if script is not None:
        command += ["--script", script]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=False, timeout=seconds + 60)
    if done.returncode != 0:
        raise WrkError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse_report(done.stdout)
