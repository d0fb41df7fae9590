"""A client on another host (run inside its own network namespace by test_netns.py):

    python netns_client.py INTERFACE_ADDRESS

browses `_http._tcp` with zeroconf on INTERFACE_ADDRESS from the start and prints
`ready`; then reads fleet index URLs from stdin (one a line, until EOF), reads each index
(GET /fleet) for the ids it should find, waits until mDNS has shown every one of them
(TXT id=...), and reads /api/v1/report from each device at the address and port mDNS
gave. Prints one JSON object: {"expected": [ids], "found": {id: {address, port,
report_id}}}.

The browser runs before the devices start: the device's advertiser registers its service
under the `_server` subtype, which python-zeroconf answers queries for; a query for the
plain `_http._tcp` is not answered, so a browser hears the devices from their
announcements (see docs/fleet.md)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import aiohttp
from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

HTTP_TYPE = "_http._tcp.local."
LIMIT = 90.0  # seconds: a hang guard


async def first_report(client: aiohttp.ClientSession, url: str) -> int:
    """The id of the device's report, once it has one: a device serves HTTP before its
    meter's first frame is decoded (id 0 until then); a slow machine shows that gap."""
    report_id = 0
    async with asyncio.timeout(30):
        while True:
            async with client.get(url) as response:
                report_id = int((await response.json())["report"]["id"])
            if report_id >= 1:
                return report_id
            await asyncio.sleep(0.25)


async def main(interface: str) -> dict[str, Any]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as client:
        expected: set[str] = set()
        azc = AsyncZeroconf(interfaces=[interface])
        found: dict[str, dict[str, Any]] = {}
        done = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def resolve(zc: Zeroconf, name: str) -> None:
            info = AsyncServiceInfo(HTTP_TYPE, name)
            if not await info.async_request(zc, 5000):
                return
            txt = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
            if txt.get("type") == "100" and txt.get("id"):
                found[txt["id"]] = {"address": info.parsed_addresses()[0], "port": info.port}
                if expected and expected <= set(found):
                    done.set()

        def changed(zeroconf: Zeroconf, service_type: str, name: str,
                    state_change: ServiceStateChange) -> None:
            if state_change is ServiceStateChange.Added:
                task = asyncio.ensure_future(resolve(zeroconf, name))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        browser = AsyncServiceBrowser(azc.zeroconf, [HTTP_TYPE], handlers=[changed])
        print("ready", flush=True)
        indexes = (await asyncio.to_thread(sys.stdin.read)).split()
        for index in indexes:
            async with client.get(index) as response:
                expected |= {d["id"] for d in await response.json()}
        if expected <= set(found):
            done.set()
        try:
            async with asyncio.timeout(LIMIT):
                await done.wait()
        except TimeoutError:
            pass
        finally:
            await browser.async_cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await azc.async_close()
        found = {k: v for k, v in found.items() if k in expected}
        for entry in found.values():
            url = f"http://{entry['address']}:{entry['port']}/api/v1/report"
            entry["report_id"] = await first_report(client, url)
    return {"expected": sorted(expected), "found": found}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))), flush=True)
