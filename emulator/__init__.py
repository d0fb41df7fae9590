"""The whatwatt Go emulator: the device, its meter link, its API and its services."""

__version__ = "0.1.0"
