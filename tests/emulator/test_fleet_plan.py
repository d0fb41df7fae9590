"""The fleet's arithmetic: ids, shards, addresses, the profile mix."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest

from emulator.fleet.plan import (
    ID_SPACE,
    FleetPlan,
    Listen,
    PlanError,
    ProfileMix,
    device_id,
    shard_from_hostname,
)
from meter_protocols.simulator.profiles import PROFILES

KNOWN = frozenset(PROFILES)


def test_ids_are_stable_distinct_and_look_like_an_esp32_mac() -> None:
    ids = [device_id(7, g) for g in range(20_000)]
    assert ids == [device_id(7, g) for g in range(20_000)]  # same seed, same ids
    assert len(set(ids)) == len(ids)
    # the last six digits (mDNS name, MQTT client id ESP32_XXXXXX) differ too
    assert len({i[-6:] for i in ids}) == len(ids)
    assert all(i.startswith("A842E3") and len(i) == 12 for i in ids)
    assert int(ids[0], 16) != int(ids[1], 16) - 1  # neighbours are scattered
    assert device_id(8, 0) != device_id(7, 0)


def test_the_id_is_a_bijection_of_the_global_index() -> None:
    # x -> x*M + c mod 2^24 with M odd: checked over a window crossing the wrap-around.
    window = range(ID_SPACE - 50_000, ID_SPACE)
    assert len({device_id(3, g) for g in window}) == len(window)
    with pytest.raises(PlanError):
        device_id(3, ID_SPACE)


def test_shards_of_one_fleet_never_share_an_id() -> None:
    shards = [FleetPlan(devices=300, shard=k, shard_size=500, seed=11) for k in range(8)]
    seen: dict[str, int] = {}
    for k, plan in enumerate(shards):
        for member in plan.members():
            assert member.device_id not in seen, (member, seen.get(member.device_id))
            seen[member.device_id] = k
    assert len(seen) == 8 * 300
    assert shards[2].members()[0].global_index == 1000


def test_a_shard_is_the_same_devices_after_a_restart() -> None:
    a = FleetPlan(devices=50, shard=3, shard_size=100, seed=5)
    b = FleetPlan(devices=50, shard=3, shard_size=100, seed=5)
    assert a.members() == b.members()
    assert len({m.seed for m in a.members()}) == 50  # every meter its own values


def test_more_devices_than_the_shard_holds_is_refused() -> None:
    with pytest.raises(PlanError, match="do not fit"):
        FleetPlan(devices=101, shard_size=100)
    with pytest.raises(PlanError, match="at least one"):
        FleetPlan(devices=0)


def test_the_mix_holds_its_proportions_even_in_a_small_fleet() -> None:
    mix = ProfileMix.parse("ensor-ers:70,lg-e570:30", KNOWN)
    cycle = mix.cycle()
    assert Counter(cycle) == {"ensor-ers": 70, "lg-e570": 30}
    assert 2 <= Counter(cycle[:10])["lg-e570"] <= 4  # mixed from the start
    plan = FleetPlan(devices=1000, mix=mix)
    assert Counter(m.profile for m in plan.members()) == {"ensor-ers": 700, "lg-e570": 300}


@pytest.mark.parametrize(("text", "why"), [
    ("nope:3", "unknown profile"), ("ensor-ers:x", "whole weight"),
    ("ensor-ers:0", "above 0"), ("ensor-ers,ensor-ers", "twice"), (" , ", "no profile"),
    ("ensor-ers:20000", "more than"),
])
def test_a_bad_mix_says_why(text: str, why: str) -> None:
    with pytest.raises(PlanError, match=why):
        ProfileMix.parse(text, KNOWN)


def test_a_bare_name_weighs_one() -> None:
    assert ProfileMix.parse("ensor-ers, lg-e570", KNOWN).weights == (
        ("ensor-ers", 1), ("lg-e570", 1))


def test_listeners_from_a_base_port_or_an_address_range() -> None:
    ports = Listen.parse("0.0.0.0:9000")
    assert [ports.address(i) for i in range(3)] == [
        ("0.0.0.0", 9000), ("0.0.0.0", 9001), ("0.0.0.0", 9002)]
    free = Listen.parse("127.0.0.1:0")
    assert free.address(5) == ("127.0.0.1", 0)
    hosts = Listen.parse("127.0.1.0/24:80")
    assert hosts.network == ipaddress.ip_network("127.0.1.0/24")
    assert [hosts.address(i) for i in (0, 253)] == [("127.0.1.1", 80), ("127.0.1.254", 80)]
    assert hosts.capacity() == 254
    with pytest.raises(PlanError, match="room for 254"):
        FleetPlan(devices=255, listen=hosts)
    with pytest.raises(PlanError, match="room for"):
        FleetPlan(devices=10, listen=Listen.parse("127.0.0.1:65530"))


@pytest.mark.parametrize("text", ["nothing", "1.2.3.4:99999", "300.1.0.0/24:80", ":x"])
def test_a_bad_listener_is_refused(text: str) -> None:
    with pytest.raises(PlanError):
        Listen.parse(text)


def test_a_statefulset_pod_name_gives_the_shard() -> None:
    assert shard_from_hostname("whatwatt-fleet-0") == 0
    assert shard_from_hostname("whatwatt-fleet-17") == 17
    with pytest.raises(PlanError, match="NAME-ORDINAL"):
        shard_from_hostname("laptop")
