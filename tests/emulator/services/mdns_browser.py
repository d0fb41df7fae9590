"""A DNS-SD browser in its own process (the tests' stand-in for a client on the network):
`python mdns_browser.py TYPE...` browses on 127.0.0.1 only and prints one JSON line per
event: {"event": "ready"}, then "added" (with the resolved name, server, port, addresses
and TXT) and "removed". It runs until it is terminated."""

from __future__ import annotations

import asyncio
import json
import sys

from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


async def resolve(zc: Zeroconf, type_: str, name: str) -> None:
    info = AsyncServiceInfo(type_, name)
    if not await info.async_request(zc, 3000):
        emit(event="unresolved", type=type_, name=name)
        return
    txt = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
    emit(event="added", type=type_, name=name, server=info.server, port=info.port,
         addresses=info.parsed_addresses(), txt=txt)


async def main(types: list[str]) -> None:
    azc = AsyncZeroconf(interfaces=["127.0.0.1"])
    tasks: set[asyncio.Task[None]] = set()

    def changed(zeroconf: Zeroconf, service_type: str, name: str,
                state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Added:
            task = asyncio.ensure_future(resolve(zeroconf, service_type, name))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        elif state_change is ServiceStateChange.Removed:
            emit(event="removed", type=service_type, name=name)

    browser = AsyncServiceBrowser(azc.zeroconf, types, handlers=[changed])
    emit(event="ready")
    try:
        await asyncio.Event().wait()
    finally:
        await browser.async_cancel()
        await azc.async_close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
