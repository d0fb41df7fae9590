"""The kamstrup-omnipower profile: registered, pull, TTL, 9600 8N2, and a working meter."""

from __future__ import annotations

from meter_protocols.kmp import OMNIPOWER_POLL, KmpResponder
from meter_protocols.kmp.codec import Message
from meter_protocols.kmp.commands import get_serial_request, parse_serial
from meter_protocols.kmp.framer import KmpFramer
from meter_protocols.line import LineSettings
from meter_protocols.readings import Interface, MeterProtocol
from meter_protocols.simulator.meter import VirtualMeter
from meter_protocols.simulator.profiles import PROFILES, get_profile
from meter_protocols.simulator.profiles_kmp import OMNIPOWER_MODEL

from .wire import T0


def test_profile_is_registered_with_kmp_settings() -> None:
    profile = get_profile("kamstrup-omnipower")
    assert PROFILES["kamstrup-omnipower"] is profile
    assert profile.protocol is MeterProtocol.KMP
    assert profile.interface is Interface.TTL
    assert profile.mode == "pull"
    assert profile.line == LineSettings.parse("9600 8N2")
    assert profile.interval == 4.0
    assert profile.encoder is None
    assert (profile.identity.vendor, profile.identity.prefix) == ("Kamstrup", "KMP")
    assert profile.identity.model == OMNIPOWER_MODEL.meter_type.model_text
    assert profile.identity.meter_id.isdigit()
    assert len(profile.identity.meter_id) == 8
    # The meter has every register the gateway polls, so an OMNIPOWER cycle is complete.
    assert set(OMNIPOWER_POLL) <= set(OMNIPOWER_MODEL.registers)


def test_virtual_meter_answers_through_the_profile_responder() -> None:
    profile = get_profile("kamstrup-omnipower")
    meter = VirtualMeter(profile, seed=1, start=T0)
    assert meter.next_push_at() is None  # a pull meter never speaks first
    assert isinstance(profile.responder and profile.responder(profile), KmpResponder)
    (answer,) = KmpFramer().feed(meter.receive(get_serial_request(), T0 + 1))
    assert isinstance(answer, Message)
    assert parse_serial(answer.data) == int(profile.identity.meter_id)
    meter.silent = True
    assert meter.receive(get_serial_request(), T0 + 2) == b""
