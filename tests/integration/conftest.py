"""Fixtures that run moto's server on loopback and give tests boto3 clients for it.

moto_server comes with the `moto[server]` dev dependency, so `make test` installs and
starts it like every other test tool. The server listens on 127.0.0.1 only, and every
client names its endpoint, so no request leaves the machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tenancy.awsapply import Clients
from tenancy.render import Render

LOOPBACK = "127.0.0.1"
# dev-1's account, so that ARNs built by moto equal the ARNs in the render.
MOTO_ACCOUNT_ID = "111111111111"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 0.2

# Requests to the server skip any proxy that the environment configures.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    """Return a loopback port that no socket uses right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _responds(endpoint: str) -> bool:
    try:
        with _DIRECT.open(f"{endpoint}/moto-api/config", timeout=1) as response:
            status: int = response.status
            return 200 <= status < 300
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _wait_until_ready(endpoint: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"moto_server exited with status {process.returncode} before it answered "
                f"on {endpoint}; its output:\n{log.read_text(errors='replace')}"
            )
        if _responds(endpoint):
            return
        time.sleep(POLL_INTERVAL_SECONDS)
    pytest.fail(
        f"moto_server did not answer on {endpoint} within {START_TIMEOUT_SECONDS:.0f} s; "
        f"its output:\n{log.read_text(errors='replace')}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start moto_server from this virtualenv on a free loopback port and yield its URL."""
    executable = Path(sys.executable).parent / "moto_server"
    if not executable.is_file():
        pytest.fail(
            f"{executable} not found: install the dev dependencies, which include "
            "moto[server] (make test does)"
        )

    port = _free_port()
    endpoint = f"http://{LOOPBACK}:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    environment = {**os.environ, "MOTO_ACCOUNT_ID": MOTO_ACCOUNT_ID}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(executable), "--host", LOOPBACK, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    try:
        _wait_until_ready(endpoint, process, log)
        yield endpoint
    finally:
        _stop(process)


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Give boto3 dummy credentials and no config files, metadata service or proxy."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("NO_PROXY", LOOPBACK)
    monkeypatch.setenv("no_proxy", LOOPBACK)


@pytest.fixture
def aws(moto_endpoint: str, aws_environment: None, dev_cell: Render) -> Clients:
    """Return clients for dev-1's region on a moto whose state was just reset."""
    reset_url = f"{moto_endpoint}/moto-api/reset"
    request = urllib.request.Request(reset_url, method="POST")  # noqa: S310 - http on loopback
    with _DIRECT.open(request, timeout=10) as response:
        assert response.status == 200, f"resetting moto failed with HTTP {response.status}"

    session: Any = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any credentials
        region_name=dev_cell.cell.region,
    )
    return Clients.from_session(session, endpoint_url=moto_endpoint)
