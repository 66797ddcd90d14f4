"""Physical names derived from tenant ids fit their providers' limits."""

from __future__ import annotations

import pytest

from tenancy import naming
from tenancy.spec import TENANT_ID_MAX_LENGTH

LONGEST_ID = "a" * (TENANT_ID_MAX_LENGTH - 2) + "-z"


@pytest.mark.parametrize("name", naming.physical_names(LONGEST_ID), ids=lambda name: name.what)
def test_longest_id_fits_limit(name: naming.PhysicalName) -> None:
    assert len(name.value) <= name.limit, f"{name.what}: {name.value!r} exceeds {name.limit}"


def test_names_of_prefixed_ids_differ() -> None:
    acme = {name.what: name.value for name in naming.physical_names("acme")}
    acme_corp = {name.what: name.value for name in naming.physical_names("acme-corp")}

    assert all(acme[what] != acme_corp[what] for what in acme)


def test_namespace_and_alias_names() -> None:
    assert naming.namespace("acme") == "tenant-acme"
    assert naming.kms_alias("acme") == "alias/tenant/acme"
    assert naming.service_account_subject("acme") == "system:serviceaccount:tenant-acme:fastmcp"
