"""The device core: identity, boot, clock, meter status, settings, reports and the hub."""
