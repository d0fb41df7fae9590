"""Scenarios: timed steps of control actions ("at 10 s the meter goes silent; at 30 s the
key changes; at 60 s reboot"), run on the device clock."""
