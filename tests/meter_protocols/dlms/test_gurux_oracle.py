"""gurux-dlms, an independent implementation, reads our virtual meters' ciphered pushes
and finds the same registers our decoder finds."""

from __future__ import annotations

import dataclasses

import pytest

from meter_protocols.dlms import DlmsDecoder, DlmsKeys
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import get_profile
from meter_protocols.simulator.profiles_dlms import encoder_for
from tests.meter_protocols.dlms.gurux import gurux_decode
from tests.meter_protocols.dlms.helpers import readings


@pytest.mark.parametrize("name", ["iskra-am550", "kaifa-ma309"])
def test_gurux_decrypts_and_parses_our_push(name: str) -> None:
    profile = get_profile(name)
    assert profile.keys is not None
    keys = DlmsKeys.from_hex(profile.keys.encryption_key, profile.keys.authentication_key)
    raw_profile = dataclasses.replace(profile,
                                      encoder=lambda p: encoder_for(p, framing="raw"))
    meter = VirtualMeter(raw_profile, seed=2, start=1_735_700_000.0)
    t = meter.next_push_at()
    assert t is not None
    apdu = meter.push(t)

    tree = gurux_decode(apdu, keys)
    # flatten gurux's tree into (logical name, register value) pairs
    leaves: list[object] = []

    def walk(node: object) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
        else:
            leaves.append(node)

    walk(tree)
    theirs = {}
    for index, leaf in enumerate(leaves[:-1]):
        if isinstance(leaf, bytearray) and len(leaf) == 6 and leaf[5] == 0xFF:
            nxt = leaves[index + 1]
            if isinstance(nxt, int):
                theirs[f"{leaf[0]}-{leaf[1]}:{leaf[2]}.{leaf[3]}.{leaf[4]}"] = int(nxt)

    [reading] = readings(DlmsDecoder(keys=keys, framing="raw").feed(apdu))
    ours = {o.logical_name: o.value for o in reading.objects if o.class_id == 3}
    assert len(ours) >= 10
    assert ours == theirs
