"""gurux-dlms, an independent implementation, parses the plaintext pushes of the Austrian
virtual meters (compact layouts without logical names included) and finds the same
numbers, in the same order, that our decoder reports; and the suite-0 ones it decrypts."""

from __future__ import annotations

import dataclasses

import pytest

from meter_protocols.dlms import DlmsDecoder, DlmsKeys, security
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.simulator.profiles_austria import PROFILES
from meter_protocols.simulator.profiles_dlms import encoder_for
from tests.meter_protocols.dlms.gurux import gurux_decode
from tests.meter_protocols.dlms.helpers import problems, readings

LAYOUTS = {"tinetz-ma309": "named-values", "netznoe-t210d": "netznoe",
           "wienernetze-im350": "wienernetze-compact",
           "netzburgenland-e450": "netzburgenland-e450"}


def _numbers(node: object) -> list[int]:
    if isinstance(node, list):
        return [n for child in node for n in _numbers(child)]
    return [node] if isinstance(node, int) and not isinstance(node, bool) else []


def _in_order(ours: list[int], theirs: list[int]) -> bool:
    it = iter(theirs)
    return all(any(n == t for t in it) for n in ours)


@pytest.mark.parametrize("name", [p.name for p in PROFILES])
def test_gurux_reads_the_same_values_from_our_push(name: str) -> None:
    profile = get_profile(name)
    assert profile.keys is not None
    keys = DlmsKeys.from_hex(profile.keys.encryption_key, profile.keys.authentication_key)
    raw = dataclasses.replace(profile, encoder=lambda p: encoder_for(p, framing="raw"))
    meter = VirtualMeter(raw, seed=3, start=1_735_700_000.0)
    due = meter.next_push_at()
    assert due is not None
    apdu = meter.push(due)
    envelope = security.parse_ciphered(apdu)
    plain, _ = security.decrypt(envelope, keys)

    decoder = DlmsDecoder(keys=keys, framing="raw")
    events = decoder.feed(apdu)
    assert problems(events) == []
    [reading] = readings(events)
    assert reading.layout == LAYOUTS[name]
    ours = [o.value for o in reading.objects if o.class_id == 3]
    assert len(ours) >= 8
    assert all(isinstance(v, int) for v in ours)
    theirs = _numbers(gurux_decode(plain, None))
    assert _in_order(ours, theirs), (ours, theirs)  # type: ignore[arg-type]
    if envelope.security_control & 0x0F == 0:  # gurux deciphers suite 0 itself
        assert _numbers(gurux_decode(apdu, keys)) == theirs
    else:
        assert envelope.security_control == 0x21
