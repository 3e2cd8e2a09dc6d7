"""The credential check through the real engine: several connectors, and refresh noticing a revoked client."""

from __future__ import annotations

import hvac
import pytest

from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.e2e.conftest import PulumiProject

pytestmark = pytest.mark.engine


def test_two_connectors_two_projects_two_regions(
    project: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    a = emulator.backend.add_client("shop-eu", ["view_orders:shop-eu"], secret="secret-a")
    b = emulator.backend.add_client("shop-us", ["manage_my_orders:shop-us:flagship"], secret="secret-b")
    project.init()
    project.run("config", "set", "--secret", "clientSecret-patchworks", stdin="secret-a")
    project.run("config", "set", "--secret", "clientSecret-storefront-us", stdin="secret-b")
    project.write_config(
        {
            "connectors": {
                "patchworks": {
                    "projectKey": "shop-eu",
                    "scopes": ["view_orders:shop-eu"],
                    "clientId": a.id,
                    "vault": {"path": f"{project.uid}/patchworks"},
                    "authUrl": emulator.url,
                    "apiUrl": emulator.url,
                },
                "storefront-us": {
                    "projectKey": "shop-us",
                    "region": "us-central1.gcp",
                    "scopes": "manage_my_orders:shop-us:flagship",
                    "clientId": b.id,
                    "authUrl": emulator.url,
                    "apiUrl": emulator.url,
                    "vault": {"path": f"{project.uid}/storefront/us"},
                },
            }
        }
    )
    project.run("up", "--yes", "--skip-preview")
    docs = project.outputs()["connectors"]
    assert docs["patchworks"]["region"] == "europe-west1.gcp"
    assert docs["storefront-us"]["region"] == "us-central1.gcp"
    assert docs["storefront-us"]["scope"] == "manage_my_orders:shop-us:flagship"
    kv = hvac.Client(url=openbao.url, token=openbao.root_token).secrets.kv.v2
    stored = kv.read_secret_version(
        path=f"{project.uid}/storefront/us", mount_point="secret", raise_on_deleted_version=True
    )
    assert stored["data"]["data"]["clientId"] == b.id
    assert emulator.count("token") >= 2


def test_refresh_notices_a_revoked_client_and_the_next_preview_fails(
    project: PulumiProject, emulator: CommercetoolsEmulator
) -> None:
    client = emulator.backend.add_client("shop-eu", ["view_orders:shop-eu"], secret="secret-a")
    project.init()
    project.run("config", "set", "--secret", "clientSecret-patchworks", stdin="secret-a")
    project.write_config(
        {
            "connectors": {
                "patchworks": {
                    "projectKey": "shop-eu",
                    "scopes": ["view_orders:shop-eu"],
                    "clientId": client.id,
                    "authUrl": emulator.url,
                    "apiUrl": emulator.url,
                    "vault": {"path": f"{project.uid}/patchworks"},
                }
            }
        }
    )
    project.run("up", "--yes", "--skip-preview")

    emulator.backend.delete_api_client("shop-eu", client.id)  # revoked in the Merchant Center
    refresh = project.run("refresh", "--yes", "--skip-preview")
    assert "credential-check" in refresh.stdout and "updated" in refresh.stdout
    state = project.run("stack", "export").stdout
    assert '"patchworks": false' in state  # verified: {patchworks: false}

    preview = project.run("preview", check=False)
    assert preview.returncode != 0
    assert "client ID or secret rejected" in preview.stdout + preview.stderr
