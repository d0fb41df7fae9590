"""/api/v1/meter/settings: the line to the meter (manual 6.3 and the newer meter-settings
page, whose wider ranges and extra fields are the newer firmware's)."""

from __future__ import annotations

from emulator.device.settings.fields import Bool, Choice, HexKey, Int, Number, Schema

IF_TYPES = ("auto", "p1", "mbus", "ttl", "mep", "irda", "uart", "p1_adapter", "ttl_push")
PROTOCOLS = ("auto", "dsmr", "hdlc", "kmp", "mep", "mbus", "mbtr")
IF_MODES = ("auto", "push", "pull")
SCALER_SETS = ("default", "lge570", "custom")

METER_SETTINGS = Schema({
    "baudrate": Int(115200, minimum=300, maximum=115200),
    "parity": Choice("none", choices=("none", "odd", "even")),
    "stop_bits": Choice("1", choices=("1", "1.5", "2")),
    "buffer_size": Int(64, minimum=1, maximum=128),
    "method": Choice("Passive Push", choices=("Passive Push",)),
    "encryption": Bool(False),
    "encryption_key": HexKey(),
    "authentication_key": HexKey(),
    "rx_invert": Bool(False),
    "tx_invert": Bool(False),
    "auto_baudrate": Bool(True),
    "if_type": Choice("auto", choices=IF_TYPES),
    "protocol": Choice("auto", choices=PROTOCOLS),
    "if_mode": Choice("auto", choices=IF_MODES),
    "conv_factor": Number(1, minimum=0.001, maximum=1000),
    "time_offset": Int(0),
    "sync_time_offset_with_ntp": Bool(False),
    "scalers_set": Choice("default", choices=SCALER_SETS),
})
