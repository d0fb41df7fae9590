"""The Kubernetes manifests and the compose file parse, fit together, name only options the
fleet has, and their shards never share a device id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.fleet.cli import fleet_parser
from emulator.fleet.plan import FleetPlan, ProfileMix, shard_from_hostname
from meter_protocols.simulator.profiles import PROFILES
from tests.conftest import PROJECT_ROOT

K8S = PROJECT_ROOT / "deploy" / "k8s"
COMPOSE = PROJECT_ROOT / "deploy" / "compose.yaml"


def documents() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            assert doc["kind"] not in found, f"two {doc['kind']} in {K8S}"
            found[doc["kind"]] = doc
    return found


def plan_for(env: dict[str, str], shard: int) -> FleetPlan:
    return FleetPlan(devices=int(env["WHATWATT_DEVICES"]), shard=shard,
                     shard_size=int(env["WHATWATT_SHARD_SIZE"]),
                     seed=int(env["WHATWATT_SEED"]),
                     mix=ProfileMix.parse(env["WHATWATT_PROFILES"], frozenset(PROFILES)))


def options() -> set[str]:
    return {o for action in fleet_parser()._actions for o in action.option_strings}


def assert_known(env: dict[str, str]) -> None:
    for name in env:
        assert name.startswith("WHATWATT_"), name
        option = "--" + name.removeprefix("WHATWATT_").lower().replace("_", "-")
        assert option in options(), f"{name}: the fleet has no {option}"


def test_the_manifests_fit_together() -> None:
    docs = documents()
    assert set(docs) == {"ConfigMap", "Service", "StatefulSet"}
    service, sts, config = docs["Service"], docs["StatefulSet"], docs["ConfigMap"]
    assert service["spec"]["clusterIP"] == "None"  # headless
    assert sts["spec"]["serviceName"] == service["metadata"]["name"]
    labels = sts["spec"]["template"]["metadata"]["labels"]
    assert sts["spec"]["selector"]["matchLabels"] == labels
    assert service["spec"]["selector"] == labels
    container = sts["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["fleet"]
    assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["WHATWATT_SHARD"] == "hostname"  # the pod ordinal selects the shard
    assert_known(env)
    assert_known(config["data"])
    index_port = int(env["WHATWATT_HTTP"].rpartition(":")[2])
    assert service["spec"]["ports"][0]["targetPort"] == index_port
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    requests = container["resources"]["requests"]
    assert {"cpu", "memory"} <= set(requests)


def test_the_statefulset_shards_never_share_an_id() -> None:
    docs = documents()
    sts, env = docs["StatefulSet"], docs["ConfigMap"]["data"]
    name = sts["metadata"]["name"]
    # The replicas the manifest asks for, and a fleet scaled out to 100,000 devices.
    for replicas in (sts["spec"]["replicas"], 200):
        seen: set[str] = set()
        for ordinal in range(replicas):
            plan = plan_for(env, shard_from_hostname(f"{name}-{ordinal}"))
            ids = {m.device_id for m in plan.members()}
            assert len(ids) == plan.devices
            assert not ids & seen, f"pod {ordinal} repeats ids of another pod"
            seen |= ids
        assert len(seen) == replicas * int(env["WHATWATT_DEVICES"])


def test_the_compose_shards_never_share_an_id() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    shards = compose["services"]
    assert len(shards) >= 2
    seen: set[str] = set()
    for service in shards.values():
        env = service["environment"]
        assert_known(env)
        assert service["command"] == ["fleet"]
        ids = {m.device_id for m in plan_for(env, int(env["WHATWATT_SHARD"])).members()}
        assert not ids & seen
        seen |= ids
    brokers = [s for s in shards.values() if s["environment"].get("WHATWATT_MQTT_BROKER")]
    assert len(brokers) == 1  # one broker, every other shard publishes to it


def test_the_checks_can_fail(tmp_path: Path) -> None:
    # Two shards whose ranges overlap (a shard size below the device count) are caught.
    with pytest.raises(ValueError, match="do not fit"):
        plan_for({"WHATWATT_DEVICES": "600", "WHATWATT_SHARD_SIZE": "500",
                  "WHATWATT_SEED": "1", "WHATWATT_PROFILES": "ensor-ers"}, 0)
    with pytest.raises(AssertionError, match="no --nope"):
        assert_known({"WHATWATT_NOPE": "1"})
