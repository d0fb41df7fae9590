"""Fleets: many complete devices in one process (`whatwatt-emulator fleet`).

plan.py is the arithmetic (ids, shards, addresses, the profile mix), runner.py runs the
devices with what the process shares, index.py serves GET /fleet and passes per-device
requests through, cli.py is the command line.
"""
