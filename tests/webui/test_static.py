"""The page's files as the server sends them: every module with a JavaScript type (a
browser refuses a module of another type), the CSS as CSS, all revalidated (no-cache)."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient

from emulator.api import create_app
from tests.emulator.api.conftest import ClientFactory
from tests.support import ManualClock, build_device
from webui import STATIC_DIR


async def test_the_files_are_served_with_their_types(aiohttp_client: ClientFactory,
                                                     tmp_path: Path) -> None:
    client: TestClient = await aiohttp_client(  # type: ignore[type-arg]
        create_app(build_device(tmp_path, ManualClock())))
    modules = sorted(p.name for p in (STATIC_DIR / "js").glob("*.js"))
    assert "main.js" in modules
    expected = {"/": "text/html", "/sd.html": "text/html", "/static/app.css": "text/css",
                **{f"/static/js/{name}": "javascript" for name in modules}}
    for path, kind in expected.items():
        response = await client.get(path)
        assert response.status == 200, path
        assert kind in response.headers["Content-Type"], path
        if path != "/sd.html":
            assert response.headers["Cache-Control"] == "no-cache", path
