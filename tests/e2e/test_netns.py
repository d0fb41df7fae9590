"""Several hosts on one machine: network namespaces joined by a bridge (in a namespace of
its own, so no traffic touches the machine's own interfaces). A fleet shard runs in each of
two "hosts", started through the command line; from a third, a zeroconf browser finds every
device and a client reads a report from each.

Needs root and iproute2: skipped with the reason otherwise, but a failure under CI=true
(CI runs as root and must run it)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e
CLIENT = Path(__file__).with_name("netns_client.py")
SUBNET = "10.231.77"
SHARD_SIZE = 4
PREFIX = "whatwatt-emulator: fleet index "


def why_not() -> str | None:
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux's"
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs this test as root)"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed (apt-get install iproute2)"
    return None


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@pytest.fixture
def hosts() -> Iterator[list[tuple[str, str]]]:
    """Three namespaces (name, address) on a bridge; all removed afterwards."""
    reason = why_not()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the namespace test must run in CI: {reason}")
        pytest.skip(reason)
    tag = f"ww{os.getpid() % 100000}"
    bridge_ns = f"{tag}br"
    made: list[str] = []
    out: list[tuple[str, str]] = []
    try:
        ip("netns", "add", bridge_ns)
        made.append(bridge_ns)
        ip("-n", bridge_ns, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        ip("-n", bridge_ns, "link", "set", "br0", "up")
        for n in range(3):
            ns, address = f"{tag}h{n}", f"{SUBNET}.{n + 2}"
            ip("netns", "add", ns)
            made.append(ns)
            ip("-n", bridge_ns, "link", "add", f"v{n}", "type", "veth", "peer", "name",
               "eth0", "netns", ns)
            ip("-n", bridge_ns, "link", "set", f"v{n}", "master", "br0", "up")
            ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "set", "lo", "up")
            # mDNS is multicast: its packets leave by eth0 (there is no default route).
            ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
            out.append((ns, address))
        yield out
    finally:
        for ns in reversed(made):
            with contextlib.suppress(RuntimeError):
                ip("netns", "del", ns)


@contextlib.asynccontextmanager
async def shard(ns: str, address: str, number: int, data: Path) -> AsyncIterator[str]:
    """`whatwatt-emulator fleet` inside namespace `ns`; yields its index URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATWATT_")}
    process = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", ns, sys.executable, "-m", "emulator", "fleet",
        "--devices", "3", "--shard", str(number), "--shard-size", str(SHARD_SIZE),
        "--http", f"{address}:8080", "--device-http", f"{address}:8100",
        "--data-dir", str(data), cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stderr is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode().strip()
        if not line.startswith(PREFIX):
            process.kill()
            _, err = await process.communicate()
            raise AssertionError(f"shard {number} did not start: {line!r} {err.decode()}")
        yield line.removeprefix(PREFIX)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_a_client_on_another_host_finds_every_device_and_reads_it(
        hosts: list[tuple[str, str]], tmp_path: Path) -> None:
    (ns_a, addr_a), (ns_b, addr_b), (ns_c, addr_c) = hosts
    client = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", ns_c, sys.executable, str(CLIENT), addr_c, cwd=PROJECT_ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        assert client.stdout is not None
        ready = await asyncio.wait_for(client.stdout.readline(), 60)
        assert ready == b"ready\n", ready
        async with shard(ns_a, addr_a, 0, tmp_path / "a") as index_a, \
                shard(ns_b, addr_b, 1, tmp_path / "b") as index_b:
            assert index_a == f"http://{addr_a}:8080/fleet"
            out, err = await asyncio.wait_for(
                client.communicate(f"{index_a}\n{index_b}\n".encode()), 180)
            assert client.returncode == 0, err.decode()
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()
    result = json.loads(out)
    expected, found = result["expected"], result["found"]
    assert len(expected) == 6  # 3 devices in each shard, no id in both
    assert sorted(found) == expected, err.decode()
    hosts_seen = {entry["address"] for entry in found.values()}
    assert hosts_seen == {addr_a, addr_b}  # each device on its own host's address
    assert {entry["port"] for entry in found.values()} == {8100, 8101, 8102}
    assert all(entry["report_id"] >= 1 for entry in found.values())
