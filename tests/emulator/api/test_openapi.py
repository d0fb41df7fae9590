"""The served OpenAPI document: valid OpenAPI 3.1, and in step with the router."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from emulator.api import create_app
from emulator.api.openapi import operations_of_document, operations_of_router
from emulator.device.core import Device
from emulator.device.settings import sections

# Operations the document may describe before the router has them (none today: every
# route is described and every description routed, checked both ways below).
NOT_YET_ROUTED: set[tuple[str, str]] = set()


async def _document(client: TestClient) -> dict[str, Any]:  # type: ignore[type-arg]
    response = await client.get("/emulator/v1/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    document: dict[str, Any] = await response.json()
    return document


async def test_the_served_document_is_valid_openapi_3_1(
        client: TestClient) -> None:  # type: ignore[type-arg]
    document = await _document(client)
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises OpenAPIValidationError with the path of the fault


async def test_every_route_is_described_and_every_description_routed(
        client: TestClient) -> None:  # type: ignore[type-arg]
    document = await _document(client)
    routed = operations_of_router(client.app)
    described = operations_of_document(document)
    undescribed = sorted(routed - described)
    assert not undescribed, f"routes the document does not describe: {undescribed}"
    unrouted = described - routed
    # Routes of the contract this branch does not serve yet are allowed, and only those;
    # once they are routed they must leave NOT_YET_ROUTED (checked too).
    assert sorted(unrouted - NOT_YET_ROUTED) == [], "described but not routed"
    assert sorted(NOT_YET_ROUTED & routed) == [], "routed now: remove from NOT_YET_ROUTED"


async def test_the_device_errors_are_text_html_as_the_device_sends_them(
        client: TestClient) -> None:  # type: ignore[type-arg]
    document = await _document(client)
    not_found = document["components"]["responses"]["NotFound"]
    assert list(not_found["content"]) == ["text/html"]
    report = document["paths"]["/api/v1/report"]["get"]["responses"]
    assert report["404"] == {"$ref": "#/components/responses/NotFound"}  # License required
    sd = document["paths"]["/sdcard/{path}"]["get"]["responses"]
    assert sd["503"] == {"$ref": "#/components/responses/ServiceUnavailable"}


async def test_settings_schemas_come_from_the_field_tables(
        client: TestClient, device: Device) -> None:  # type: ignore[type-arg]
    document = await _document(client)
    item = document["paths"]["/api/v1/meter/settings"]
    answer = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    public = device.settings.public(sections.METER)
    assert sorted(answer["properties"]) == sorted(public)  # secrets left out, as GET does
    assert "encryption_key" not in answer["properties"]
    request = item["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert request["properties"]["baudrate"] == {"type": "integer", "minimum": 300,
                                                 "maximum": 115200}
    assert request["properties"]["encryption_key"]["pattern"] == "^[0-9A-Fa-f]{32}$"


async def test_the_document_is_served_to_a_fresh_app_the_same(device: Device,
                                                               aiohttp_client: Any) -> None:
    first = await _document(await aiohttp_client(create_app(device)))
    second = await _document(await aiohttp_client(create_app(device)))
    assert first == second
