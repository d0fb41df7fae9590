"""The device options of the CI mock: `--scenario FILE` and `--clock manual` (kept apart
from cli.py so the parser module stays small). A scenario that cannot run is a start-up
error (one line, exit status 2) before anything starts."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from emulator.config import AppConfig


def add_mock_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", type=Path, default=os.environ.get("WHATWATT_SCENARIO"),
                   metavar="FILE",
                   help="run this scenario (JSON or YAML: timed control steps) from the "
                        "start; its seed, if it has one, replaces --seed")
    p.add_argument("--clock", choices=["scaled", "manual"],
                   default=os.environ.get("WHATWATT_CLOCK", "scaled"),
                   help="scaled: device time runs at --speed; manual: it moves only when "
                        "POST /emulator/v1/clock with advance_s says so")


def with_mock_options(config: AppConfig, args: argparse.Namespace) -> AppConfig:
    from emulator.api.controls import ACTIONS  # noqa: PLC0415 - only with --scenario
    from emulator.cli import StartupError  # noqa: PLC0415 - a cycle
    from emulator.scenarios.model import ScenarioError, parse_scenario, read_document  # noqa: PLC0415

    config = dataclasses.replace(config, manual_clock=args.clock == "manual")
    if args.scenario is None:
        return config
    try:
        scenario = parse_scenario(read_document(args.scenario), ACTIONS)
    except ScenarioError as exc:
        raise StartupError(f"scenario {args.scenario}: {exc}") from exc
    seed = config.seed if scenario.seed is None else scenario.seed
    return dataclasses.replace(config, scenario=args.scenario, seed=seed)
