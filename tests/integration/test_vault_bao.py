"""The rendered Vault resources of dev-1 on a real server: OpenBao, Vault's open-source
fork with the same HTTP API, running as a dev server on loopback.

Tokens issued under each tenant's policy show that a tenant reads and writes its own KV
and uses its own transit key, and gets 403 on every path of another tenant, including
tenants whose ids share a prefix.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions
import pytest

from tenancy import vaultapply
from tenancy.render import Render

ROOT_TOKEN = "root-token-for-tests"  # noqa: S105 - a dev server's throwaway root token
STARTUP_SECONDS = 30
PAIRS = [("acme", "acme-corp"), ("acme-corp", "acme"), ("globex", "acme")]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def bao_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `bao server -dev` on a free loopback port; stop it afterwards."""
    binary = Path(sys.executable).parent / "bao"
    if not binary.is_file():
        pytest.fail(f"{binary} not found: install the dev extras (make test does)", pytrace=False)
    port = free_port()
    log = tmp_path_factory.mktemp("bao") / "server.log"
    environment = {**os.environ, "HOME": str(log.parent), "BAO_ADDR": f"http://127.0.0.1:{port}"}
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                str(binary),
                "server",
                "-dev",
                f"-dev-root-token-id={ROOT_TOKEN}",
                f"-dev-listen-address=127.0.0.1:{port}",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"bao exited early:\n{log.read_text()[-3000:]}", pytrace=False)
            try:
                if hvac.Client(url=url, token=ROOT_TOKEN).sys.is_initialized():
                    break
            except Exception:
                time.sleep(0.2)
        else:
            pytest.fail(f"bao did not answer within {STARTUP_SECONDS} s", pytrace=False)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def applied(bao_url: str, dev_cell: Render) -> hvac.Client:
    root = hvac.Client(url=bao_url, token=ROOT_TOKEN)
    vaultapply.apply(dev_cell, root)
    return root


def tenant_client(root: hvac.Client, url: str, tenant_id: str) -> hvac.Client:
    token = root.auth.token.create(policies=[f"tenant-{tenant_id}"], no_default_policy=True)
    return hvac.Client(url=url, token=token["auth"]["client_token"])


def encrypt(client: hvac.Client, tenant_id: str, text: bytes) -> Any:
    return client.secrets.transit.encrypt_data(
        name="data",
        plaintext=base64.b64encode(text).decode(),
        mount_point=f"tenants/{tenant_id}/transit",
    )


def test_every_vault_resource_applies(applied: hvac.Client, dev_cell: Render) -> None:
    mounts = applied.sys.list_mounted_secrets_engines()["data"]

    for tenant_id in ("acme", "acme-corp", "globex"):
        assert mounts[f"tenants/{tenant_id}/kv/"]["options"] == {"version": "2"}
        assert mounts[f"tenants/{tenant_id}/transit/"]["type"] == "transit"
        assert f"tenant-{tenant_id}" in applied.sys.list_policies()["data"]["policies"]


def test_transit_key_not_exportable(applied: hvac.Client) -> None:
    key = applied.secrets.transit.read_key(name="data", mount_point="tenants/acme/transit")["data"]

    assert key["exportable"] is False
    assert key["deletion_allowed"] is False
    assert key["type"] == "aes256-gcm96"
    assert key["auto_rotate_period"] == 30 * 24 * 3600


def test_auth_role_stored(applied: hvac.Client) -> None:
    role = applied.auth.kubernetes.read_role(name="tenant-acme")

    assert role["bound_service_account_names"] == ["fastmcp"]
    assert role["bound_service_account_namespaces"] == ["tenant-acme"]
    assert role["token_policies"] == ["tenant-acme"]
    assert role["token_ttl"] == 900


@pytest.mark.parametrize("tenant_id", ["acme", "acme-corp", "globex"])
def test_tenant_uses_own_kv_and_transit(applied: hvac.Client, bao_url: str, tenant_id: str) -> None:
    client = tenant_client(applied, bao_url, tenant_id)
    mount = f"tenants/{tenant_id}/kv"

    client.secrets.kv.v2.create_or_update_secret(
        path="app", secret={"k": tenant_id}, mount_point=mount
    )
    stored = client.secrets.kv.v2.read_secret_version(
        path="app", mount_point=mount, raise_on_deleted_version=True
    )
    ciphertext = encrypt(client, tenant_id, b"hello")["data"]["ciphertext"]
    plain = client.secrets.transit.decrypt_data(
        name="data", ciphertext=ciphertext, mount_point=f"tenants/{tenant_id}/transit"
    )

    assert stored["data"]["data"] == {"k": tenant_id}
    assert base64.b64decode(plain["data"]["plaintext"]) == b"hello"


@pytest.mark.parametrize(("owner", "other"), PAIRS)
def test_tenant_denied_other_kv(applied: hvac.Client, bao_url: str, owner: str, other: str) -> None:
    applied.secrets.kv.v2.create_or_update_secret(
        path="app", secret={"k": other}, mount_point=f"tenants/{other}/kv"
    )
    client = tenant_client(applied, bao_url, owner)

    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version(
            path="app", mount_point=f"tenants/{other}/kv", raise_on_deleted_version=True
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.create_or_update_secret(
            path="app", secret={"k": owner}, mount_point=f"tenants/{other}/kv"
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.list_secrets(path="", mount_point=f"tenants/{other}/kv")


@pytest.mark.parametrize(("owner", "other"), PAIRS)
def test_tenant_denied_other_transit(
    applied: hvac.Client, bao_url: str, owner: str, other: str
) -> None:
    ciphertext = encrypt(applied, other, b"secret")["data"]["ciphertext"]
    client = tenant_client(applied, bao_url, owner)

    with pytest.raises(hvac.exceptions.Forbidden):
        encrypt(client, other, b"x")
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.transit.decrypt_data(
            name="data", ciphertext=ciphertext, mount_point=f"tenants/{other}/transit"
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.transit.read_key(name="data", mount_point=f"tenants/{other}/transit")


def test_tenant_cannot_touch_policies_or_mounts(applied: hvac.Client, bao_url: str) -> None:
    client = tenant_client(applied, bao_url, "acme")

    with pytest.raises(hvac.exceptions.Forbidden):
        client.sys.create_or_update_policy(
            name="tenant-acme", policy='path "*" { capabilities = ["sudo"] }'
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        client.sys.enable_secrets_engine(backend_type="kv", path="tenants/acme/extra")
