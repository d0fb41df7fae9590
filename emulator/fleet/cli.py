"""`whatwatt-emulator fleet`: N devices in one process, and the fleet's index.

Every option has an environment variable (WHATWATT_DEVICES, WHATWATT_SHARD, ...), so a
Kubernetes StatefulSet configures it from a ConfigMap; `--shard hostname` takes the shard
from the pod's name (`whatwatt-fleet-3` is shard 3).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import resource
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from aiohttp import web

from emulator.cli import (
    USAGE_ERROR,
    Parser,
    StartupError,
    _env,
    _env_flag,
    _hint,
    _setup_logging,
    _until_signalled,
    _why,
    host_port,
    integer,
    license_type,
    log_level,
    port_number,
    positive,
    time_zone,
)
from emulator.config import AppConfig, AuthMode, License, default_data_dir
from emulator.fleet.plan import FleetPlan, Listen, PlanError, ProfileMix, shard_from_hostname
from emulator.fleet.runner import BrokerFailed, Fleet, MqttTarget
from meter_protocols.simulator.profiles import PROFILES

_LOG = logging.getLogger("emulator.fleet")
#: Descriptors a device holds with MQTT to an in-process broker, and a few clients.
DESCRIPTORS_PER_DEVICE = 8


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}")
    return int(text)


def _shard(text: str) -> int:
    if text == "hostname":
        try:
            return shard_from_hostname(socket.gethostname())
        except PlanError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a shard number or 'hostname', got {text!r}")
    return int(text)


def _listen(text: str) -> Listen:
    try:
        return Listen.parse(text)
    except PlanError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _mix(text: str) -> ProfileMix:
    try:
        return ProfileMix.parse(text, frozenset(PROFILES))
    except PlanError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def fleet_parser() -> argparse.ArgumentParser:
    p = Parser(prog="whatwatt-emulator fleet",
               description="Run many emulated whatwatt Go devices in one process.",
               epilog="Every option has an environment variable WHATWATT_<OPTION>.")
    p.add_argument("--devices", type=_count, default=_env("DEVICES", "10"),
                   help="how many devices in this process (now %(default)s)")
    p.add_argument("--http", type=host_port, default=_env("HTTP", "127.0.0.1:8080"),
                   metavar="HOST:PORT", help="the fleet index, GET /fleet (0: a free port)")
    p.add_argument("--device-http", type=_listen,
                   default=_env("DEVICE_HTTP", "127.0.0.1:0"),
                   metavar="HOST:PORT|NET/PREFIX:PORT",
                   help="devices listen on consecutive ports from PORT (0: free ports), or "
                        "one address each from NET/PREFIX on PORT, e.g. 127.0.1.0/24:80")
    p.add_argument("--profiles", type=_mix, default=_env("PROFILES", "ensor-ers"),
                   metavar="MIX", help="virtual meters, e.g. ensor-ers:70,lg-e570:30")
    p.add_argument("--seed", type=integer, default=_env("SEED", "1"),
                   help="the fleet seed: device ids and meter values follow from it")
    p.add_argument("--shard", type=_shard, default=_env("SHARD", "0"),
                   help="this process's shard: a number, or 'hostname' for a StatefulSet "
                        "pod's ordinal; devices of shard K are K*SIZE .. K*SIZE+N-1")
    p.add_argument("--shard-size", type=_count, default=_env("SHARD_SIZE"),
                   help="devices per shard in the id arithmetic (default: --devices)")
    p.add_argument("--data-dir", type=Path,
                   default=str(_env("DATA_DIR") or default_data_dir() / "fleet"),
                   help="each device keeps its state in DATA_DIR/<id>/")
    p.add_argument("--mqtt", default=_env("MQTT"), metavar="URL",
                   help="every device publishes to this broker (mqtt://HOST:PORT)")
    p.add_argument("--mqtt-topic", default=_env("MQTT_TOPIC", "whatwatt/{id}"),
                   help="the publish topic; {id} is the device id (now %(default)s)")
    p.add_argument("--mqtt-interval", type=_count, default=_env("MQTT_INTERVAL"),
                   metavar="SECONDS", help="seconds between MQTT publications")
    p.add_argument("--mqtt-broker", type=port_number, default=_env("MQTT_BROKER") or None,
                   metavar="PORT", help="run one MQTT broker in the process (0: a free "
                   "port); devices publish to it unless --mqtt names another")
    p.add_argument("--no-mdns", action="store_true", default=_env_flag("NO_MDNS"))
    p.add_argument("--no-sdcard", action="store_true", default=_env_flag("NO_SDCARD"))
    p.add_argument("--speed", type=positive, default=_env("SPEED", "1"))
    p.add_argument("--timezone", type=time_zone, default=_env("TIMEZONE", "Europe/Zurich"))
    p.add_argument("--license", type=license_type, default=_env("LICENSE", "plus"))
    p.add_argument("--control-api", choices=["auto", "on", "off"],
                   default=_env("CONTROL_API", "auto"))
    p.add_argument("--control-token", default=_env("CONTROL_TOKEN", ""), metavar="TOKEN")
    p.add_argument("--log-level", type=log_level, default=_env("LOG_LEVEL", "WARNING"))
    return p


def raise_fd_limit() -> int:
    """Every device holds descriptors (its listener, its MQTT connection and the broker's
    end of it, its clients'): the soft limit (1024 in many containers) goes up to the hard
    one. Returns the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft


def main(argv: Sequence[str]) -> int:
    args = fleet_parser().parse_args(list(argv))
    _setup_logging(args.log_level)
    limit = raise_fd_limit()
    if limit != resource.RLIM_INFINITY and limit < args.devices * DESCRIPTORS_PER_DEVICE:
        _LOG.warning("the descriptor limit %d is low for %d devices (about %d each): raise "
                     "it (ulimit -n, or the container's nofile limit)", limit, args.devices,
                     DESCRIPTORS_PER_DEVICE)
    try:
        plan = FleetPlan(devices=args.devices, shard=args.shard, shard_size=args.shard_size,
                         seed=args.seed, mix=args.profiles, listen=args.device_http)
    except PlanError as exc:
        raise StartupError(str(exc)) from exc
    base = AppConfig(
        http_host=plan.listen.host, data_dir=args.data_dir, sdcard=not args.no_sdcard,
        mdns=not args.no_mdns, speed=args.speed, timezone=args.timezone,
        auth=AuthMode.BOTH, license=License(args.license),
        control_api={"auto": None, "on": True, "off": False}[args.control_api],
        control_token=args.control_token)
    mqtt = MqttTarget(args.mqtt, args.mqtt_topic, args.mqtt_interval)
    fleet = Fleet(plan, base, mqtt=mqtt, mqtt_broker=args.mqtt_broker)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_fleet(fleet, *args.http))
    return 0


async def run_fleet(fleet: Fleet, host: str, port: int) -> None:
    from emulator.fleet.index import create_index  # noqa: PLC0415

    runner = web.AppRunner(create_index(fleet), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise StartupError(f"cannot serve the fleet index on {host}:{port}: "
                               f"{_why(exc)}{_hint(exc, port)}") from exc
        bound = site._server.sockets[0].getsockname()[1] \
            if isinstance(site._server, asyncio.Server) and site._server.sockets else port
        try:
            with heap_settled_after():
                try:
                    await fleet.start()
                except BrokerFailed as exc:
                    raise StartupError(str(exc)) from exc
            if fleet.serving == 0:
                first = fleet.members[0]
                raise StartupError(f"no device could start; {first.plan.device_id}: "
                                   f"{first.status}")
            print(f"whatwatt-emulator: fleet index http://{_shown(host)}:{bound}/fleet",
                  flush=True)
            collector = asyncio.ensure_future(collect_now_and_then())
            try:
                await _until_signalled()
            finally:
                collector.cancel()
        finally:
            await fleet.stop()
    finally:
        await runner.cleanup()


#: Seconds between the fleet's own collections of reference cycles (see heap_settled_after).
COLLECT_EVERY: Final = 300.0


@contextlib.contextmanager
def heap_settled_after() -> Iterator[None]:
    """Start-up with the cyclic collector off, then one collection and everything that
    lives on (the devices, their settings, the code) frozen out of its scans; the
    collector stays off, and `collect_now_and_then` collects every COLLECT_EVERY seconds.

    Measured on 500 devices: left as it was, the collector spent a fifth of the process's
    CPU time scanning the devices' half a million long-lived objects, and each full
    collection stopped the event loop for up to 0.7 s. Frozen, with automatic young
    collections, it still stopped the loop for 60-110 ms every 10-30 s (collecting
    nothing: a fleet's garbage dies by reference count), which put 1.5 % of reports more
    than 100 ms off their second. Collected every five minutes instead, a fleet's rare
    cycles wait that long (docs/decisions.md)."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.freeze()


async def collect_now_and_then(every: float = COLLECT_EVERY) -> None:
    """The fleet's cyclic garbage collection, on its own schedule (the collector is off)."""
    while True:
        await asyncio.sleep(every)
        gc.collect()


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host


__all__ = ["USAGE_ERROR", "fleet_parser", "main", "run_fleet"]
