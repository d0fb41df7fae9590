"""The command line: `whatwatt-emulator [OPTIONS]`, `... meter`, `... profiles`.

Every option of the device has an environment variable (WHATWATT_HTTP, WHATWATT_DATA_DIR,
...) so a container can be configured without a command line. A value that cannot be used
(on the command line, in the environment, or found at start-up: a busy port, a data dir
that cannot be written) ends the program with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emulator import __version__
from emulator.cli_mock import add_mock_options, with_mock_options
from emulator.config import AppConfig, AuthMode, License, default_data_dir
from emulator.device.clock import ScaledClock
from emulator.meter.source import MeterSource, SourceError
from emulator.scenarios.model import ScenarioError
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import DEFAULT_PROFILE, PROFILES, get_profile

_LOG = logging.getLogger("emulator")

#: The exit status of a usage or start-up error (as argparse's).
USAGE_ERROR = 2
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class StartupError(Exception):
    """The device cannot start; the message is the one line the user sees."""


class Parser(argparse.ArgumentParser):
    """argparse, with errors as one line naming the environment variable that gave the
    value when it came from there."""

    def error(self, message: str) -> NoReturn:
        option = message.removeprefix("argument ").split(":", 1)[0].split("/")[-1]
        if option.startswith("--"):
            name = option[2:].upper().replace("-", "_")
            if f"WHATWATT_{name}" in os.environ:
                message += f" (from WHATWATT_{name})"
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"WHATWATT_{name}", default)


def _env_flag(name: str) -> bool:
    return (_env(name) or "").lower() in ("1", "true", "yes", "on")


def host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def meter_source(text: str) -> MeterSource:
    try:
        return MeterSource.parse(text)
    except SourceError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def port_number(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port 0..65535, got {text!r}")
    return int(text)


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from exc
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from exc


def time_zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise argparse.ArgumentTypeError(
            f"unknown time zone {text!r} (an IANA name such as Europe/Zurich)") from exc
    return text


def device_id(text: str) -> str:
    if len(text) != 12 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise argparse.ArgumentTypeError(f"expected 12 hex digits, got {text!r}")
    return text.upper()


def log_level(text: str) -> str:
    level = text.upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(LOG_LEVELS)} (any case), got {text!r}")
    return level


def auth_mode(text: str) -> AuthMode:
    try:
        return AuthMode(text.lower())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(AuthMode)}, got {text!r}") from exc


def license_type(text: str) -> License:
    try:
        return License(text.lower())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(License)}, got {text!r}") from exc


def instant(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 time, got {text!r}") from exc
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give the time zone, e.g. 2025-01-22T11:54:00+01:00")
    return moment.timestamp()


def device_parser() -> argparse.ArgumentParser:
    # String defaults (from the environment) go through each option's type, as the command
    # line does: a bad WHATWATT_... value is a usage error, not a crash.
    p = Parser(
        prog="whatwatt-emulator",
        description="Run an emulated whatwatt Go: reads a meter, serves the device's API.",
        epilog="Subcommands: 'whatwatt-emulator meter --help' runs only a virtual meter on a "
               "pty or TCP; 'whatwatt-emulator profiles' lists the virtual meters. Every "
               "option has an environment variable WHATWATT_<OPTION> (e.g. WHATWATT_HTTP).",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--http", type=host_port, default=_env("HTTP", "127.0.0.1:8080"),
                   metavar="HOST:PORT", help="where to serve HTTP (now %(default)s)")
    p.add_argument("--data-dir", type=Path,
                   default=str(_env("DATA_DIR") or default_data_dir()),
                   help="settings, identity and SD card (created if missing; now "
                        "%(default)s)")
    p.add_argument("--meter", type=meter_source,
                   default=_env("METER", f"virtual:{DEFAULT_PROFILE}"), metavar="SOURCE",
                   help="virtual:PROFILE, a serial device such as /dev/ttyUSB0, "
                        "socket://HOST:PORT, or replay:FILE (now %(default)s)")
    p.add_argument("--device-id", type=device_id, default=_env("DEVICE_ID"), metavar="HEX12",
                   help="fixed device id (default: generated once, kept in the data dir)")
    p.add_argument("--no-sdcard", action="store_true", default=_env_flag("NO_SDCARD"),
                   help="behave as if no microSD card were inserted")
    p.add_argument("--no-mdns", action="store_true", default=_env_flag("NO_MDNS"),
                   help="do not advertise the device over mDNS (_http._tcp, _modbus._tcp)")
    p.add_argument("--ethernet", action="store_true", default=_env_flag("ETHERNET"),
                   help="simulate an Ethernet cable plugged in (the link comes up while "
                        "Ethernet is enabled in /api/v1/eth/settings)")
    p.add_argument("--speed", type=positive, default=_env("SPEED", "1"),
                   metavar="FACTOR",
                   help="run the device's clock this many times faster (now %(default)s)")
    p.add_argument("--seed", type=integer, default=_env("SEED", "1"),
                   help="seed of the virtual meter's values (now %(default)s)")
    p.add_argument("--timezone", type=time_zone, default=_env("TIMEZONE", "Europe/Zurich"),
                   help="the device's local time zone (now %(default)s)")
    p.add_argument("--start-time", type=instant, default=_env("START_TIME"),
                   metavar="ISO8601", help="start the device's clock at this instant")
    p.add_argument("--auth", type=auth_mode, default=_env("AUTH", "both"),
                   help="HTTP authentication when protection is on: digest, basic or both "
                        "(now %(default)s)")
    p.add_argument("--license", type=license_type, default=_env("LICENSE", "plus"),
                   help="licence type: free, plus or pro (now %(default)s)")
    p.add_argument("--control-api", choices=["auto", "on", "off"],
                   default=_env("CONTROL_API", "auto"),
                   help="the emulator's steering routes under /emulator/v1/ (meter faults, "
                        "values, clock): auto = on only when HTTP is bound to loopback")
    p.add_argument("--control-token", default=_env("CONTROL_TOKEN", ""), metavar="TOKEN",
                   help="turn the steering routes on, for requests carrying the header "
                        "X-Emulator-Token: TOKEN")
    p.add_argument("--mqtt-broker", type=port_number, default=_env("MQTT_BROKER") or None,
                   metavar="PORT", help="run an MQTT broker in the process on the HTTP "
                   "host at PORT (0: a free port), for the device's MQTT client to use")
    p.add_argument("--log-level", type=log_level, default=_env("LOG_LEVEL", "INFO"),
                   help="DEBUG, INFO, WARNING or ERROR, any case (now %(default)s)")
    add_mock_options(p)
    return p


def meter_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="whatwatt-emulator meter",
        description="Run only a virtual meter, at the other end of a pty or TCP connection.")
    p.add_argument("--profile", default=_env("PROFILE", DEFAULT_PROFILE),
                   choices=sorted(PROFILES), help="the meter to emulate")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--pty", action="store_true",
                       help="create a pty, print its path, serve telegrams on it")
    where.add_argument("--tcp", type=host_port, metavar="HOST:PORT",
                       help="serve telegrams to TCP clients (like ser2net or a P1 dongle)")
    p.add_argument("--link", type=Path, metavar="PATH",
                   help="with --pty: also make a symlink PATH to the pty, so the reader "
                        "finds it again after this process restarts")
    p.add_argument("--seed", type=integer, default=_env("SEED", "1"))
    p.add_argument("--speed", type=positive, default=_env("SPEED", "1"))
    p.add_argument("--timezone", type=time_zone, default=_env("TIMEZONE", "Europe/Zurich"))
    p.add_argument("--start-time", type=instant, default=_env("START_TIME"), metavar="ISO8601")
    p.add_argument("--log-level", type=log_level, default=_env("LOG_LEVEL", "INFO"))
    return p


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        # The embedded broker logs every client's connection at INFO.
        for chatty in ("amqtt", "transitions"):
            logging.getLogger(chatty).setLevel(logging.WARNING)


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_device(config: AppConfig) -> None:
    from emulator.app import EmulatorApp  # noqa: PLC0415 - keeps `profiles` start-up light

    try:
        app = EmulatorApp(config)
    except OSError as exc:
        raise StartupError(f"cannot use the data dir {config.data_dir}: {_why(exc)}") from exc
    try:
        await app.start()
    except ScenarioError as exc:
        await app.stop()
        raise StartupError(f"scenario {config.scenario}: {exc}") from exc
    except OSError as exc:
        await app.stop()
        if exc.filename:
            raise StartupError(f"cannot use the data dir {config.data_dir}: "
                               f"{_why(exc)}") from exc
        raise StartupError(f"cannot serve HTTP on {config.http_host}:{config.http_port}: "
                           f"{_why(exc)}{_hint(exc, config.http_port)}") from exc
    print(f"whatwatt-emulator: serving {app.url}", flush=True)
    try:
        await _until_signalled()
    finally:
        await app.stop()


def _check_port(config: AppConfig) -> None:
    """Whether the HTTP port can be had, before anything is made or logged, so a busy port
    is the only line printed (the server binds it again when it starts)."""
    if config.http_port == 0:
        return
    try:
        probe = socket.create_server((config.http_host, config.http_port))
    except OSError as exc:
        raise StartupError(f"cannot serve HTTP on {config.http_host}:{config.http_port}: "
                           f"{_why(exc)}{_hint(exc, config.http_port)}") from exc
    probe.close()


def _why(exc: OSError) -> str:
    what = (os.strerror(exc.errno) if exc.errno else exc.strerror or str(exc)).lower()
    return f"{what} ({exc.filename})" if exc.filename else what


def _hint(exc: OSError, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return " (another program uses the port: choose another with --http HOST:PORT)"
    if exc.errno == errno.EACCES and port < 1024:
        return (" (ports below 1024 need root or CAP_NET_BIND_SERVICE: use e.g. "
                "--http 0.0.0.0:8080)")
    return ""


async def run_meter(args: argparse.Namespace) -> None:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from emulator.meter.serve import LinkInUse, PtyMeterServer, TcpMeterServer  # noqa: PLC0415

    clock = ScaledClock(args.speed, args.start_time)
    meter = VirtualMeter(get_profile(args.profile), seed=args.seed, start=clock.time(),
                         zone=ZoneInfo(args.timezone))
    server: PtyMeterServer | TcpMeterServer
    if args.pty:
        server = PtyMeterServer(meter, clock, args.link)
        try:
            path = await server.start()
        except (OSError, LinkInUse) as exc:
            raise StartupError(str(exc)) from exc
        print(path, flush=True)
        _LOG.info("virtual meter %s on %s", args.profile, path)
    else:
        host, port = args.tcp
        server = TcpMeterServer(meter, clock)
        try:
            port = await server.start(host, port)
        except OSError as exc:
            raise StartupError(f"cannot serve the meter on {host}:{port}: {_why(exc)}"
                               f"{_hint(exc, port)}") from exc
        print(f"tcp://{host}:{port}", flush=True)
        _LOG.info("virtual meter %s on tcp %s:%d", args.profile, host, port)
    try:
        await _until_signalled()
    finally:
        await server.stop()


def list_profiles() -> None:
    for name, profile in sorted(PROFILES.items()):
        print(f"{name:20} {profile.protocol.value:5} {profile.interface.value:5} "
              f"{profile.line!s:14} every {profile.interval:g} s  {profile.title}")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except StartupError as exc:
        print(f"whatwatt-emulator: error: {exc}", file=sys.stderr, flush=True)
        return USAGE_ERROR


def _main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["profiles"]:
        list_profiles()
        return 0
    if args_list[:1] == ["record"]:
        from emulator.record_cli import main as record  # noqa: PLC0415 - loads the device
        return record(args_list[1:])
    if args_list[:1] == ["fleet"]:
        from emulator.fleet.cli import main as fleet_main  # noqa: PLC0415
        return fleet_main(args_list[1:])
    if args_list[:1] == ["meter"]:
        margs = meter_parser().parse_args(args_list[1:])
        _setup_logging(margs.log_level)
        asyncio.run(run_meter(margs))
        return 0
    parser = device_parser()
    args = parser.parse_args(args_list)
    _setup_logging(args.log_level)
    http, meter, start_time = args.http, args.meter, args.start_time
    mqtt_broker = args.mqtt_broker
    config = AppConfig(
        http_host=http[0], http_port=http[1], data_dir=args.data_dir, meter=meter,
        device_id=args.device_id, sdcard=not args.no_sdcard, mdns=not args.no_mdns,
        speed=args.speed, seed=args.seed, timezone=args.timezone, start_time=start_time,
        auth=AuthMode(args.auth), license=License(args.license), ethernet=args.ethernet,
        control_api={"auto": None, "on": True, "off": False}[args.control_api],
        control_token=args.control_token,
        mqtt_broker=mqtt_broker,
    )
    config = with_mock_options(config, args)
    _check_port(config)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_device(config))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
