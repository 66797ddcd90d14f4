"""Every rendered Kubernetes manifest is valid for Kubernetes 1.31, strictly."""

from __future__ import annotations

import kubernetes_validate
import pytest

from tenancy.render import Render

KUBERNETES_VERSION = "1.31"


def test_every_manifest_validates_strictly(dev_cell: Render) -> None:
    manifests = [r for r in dev_cell.resources if r.custom and r.type.startswith("kubernetes:")]
    failures = []

    for resource in manifests:
        try:
            kubernetes_validate.validate(resource.inputs, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{resource.urn}: {'.'.join(map(str, error.path))}: {error.message}")

    assert len(manifests) > 40
    assert failures == []


def test_validator_rejects_unknown_field(dev_cell: Render) -> None:
    namespace = next(r for r in dev_cell.resources if r.type == "kubernetes:core/v1:Namespace")
    broken = {**namespace.inputs, "metadata": {**namespace.inputs["metadata"], "lables": {}}}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
