"""/emulator/v1/scenario: load a scenario (POST, JSON or YAML), read its progress (GET),
stop it (DELETE). One scenario runs at a time: a new one replaces the one running. The
same runner serves `--scenario FILE` (the composition root calls `start_scenario`)."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from emulator.api.body import read_json
from emulator.api.common import DEVICE, LOG, error_response, json_response, no_content
from emulator.api.control_access import steering
from emulator.api.controls import ACTIONS, NothingToSteer, iso
from emulator.device.errors import SettingsError
from emulator.scenarios.model import MAX_BYTES, Scenario, ScenarioError, parse_scenario, parse_text
from emulator.scenarios.runner import ScenarioRunner

YAML_TYPES: Final = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


class _Slot:
    def __init__(self) -> None:
        self.runner: ScenarioRunner | None = None


SCENARIO: Final = web.AppKey("scenario", _Slot)


def scenario_state(app: web.Application) -> dict[str, Any] | None:
    runner = app[SCENARIO].runner
    return None if runner is None else runner.state()


def check_scenario(app: web.Application, doc: Any) -> Scenario:
    """Parse a document and check every step's body against its action: SettingsError
    (400) naming the step, and nothing starts, when one of them could never run."""
    try:
        scenario = parse_scenario(doc, ACTIONS)
    except ScenarioError as exc:
        raise SettingsError(str(exc)) from exc
    for index, step in enumerate(scenario.steps):
        try:
            if step.do == "clock" and "advance_s" in step.body:
                raise SettingsError("advance_s: a scenario runs on the clock, it does not "
                                    "advance it (set the time with \"time\")")
            ACTIONS[step.do].check(app, dict(step.body))
        except (SettingsError, NothingToSteer) as exc:
            raise SettingsError(f"step {index} (at {step.at_s:g} s, {step.do}): {exc}") \
                from exc
    return scenario


async def start_scenario(app: web.Application, scenario: Scenario) -> ScenarioRunner:
    slot = app[SCENARIO]
    if slot.runner is not None:
        await slot.runner.stop()

    async def dispatch(name: str, body: dict[str, Any]) -> Any:
        return await ACTIONS[name].run(app, body)

    device = app[DEVICE]
    runner = ScenarioRunner(
        scenario, device.clock, dispatch, app[LOG], iso,
        status=lambda: device.meter.status.value,
        watch=lambda listener: device.on_status(lambda status: listener(status.value)))
    slot.runner = runner
    runner.start()
    return runner


async def post_scenario(request: web.Request) -> web.Response:
    if request.content_type in YAML_TYPES:
        raw = await request.content.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            return error_response(413)
        try:
            doc = parse_text(raw, yaml=True)
        except ScenarioError as exc:
            raise SettingsError(str(exc)) from exc
    else:
        doc = await read_json(request)
    scenario = check_scenario(request.app, doc)
    runner = await start_scenario(request.app, scenario)
    return json_response(runner.state(), 201)


async def get_scenario(request: web.Request) -> web.Response:
    state = scenario_state(request.app)
    if state is None:
        return error_response(404, "no scenario loaded")
    return json_response(state)


async def delete_scenario(request: web.Request) -> web.Response:
    runner = request.app[SCENARIO].runner
    if runner is None:
        return error_response(404, "no scenario loaded")
    await runner.stop()
    return no_content()


async def _stop(app: web.Application) -> None:
    runner = app[SCENARIO].runner
    if runner is not None:
        await runner.stop()


def setup(app: web.Application) -> None:
    app[SCENARIO] = _Slot()
    app.router.add_get("/emulator/v1/scenario", get_scenario)
    app.router.add_post("/emulator/v1/scenario", steering(post_scenario))
    app.router.add_delete("/emulator/v1/scenario", steering(delete_scenario))
    app.on_cleanup.insert(0, _stop)
