"""The device's long-running faces (MQTT publisher, SD-card logger, actions runner, Modbus
server, mDNS advertiser, embedded broker). Each is a `Service` (base.py); the composition
root owns them in a `ServiceHost` (host.py), which starts them after the HTTP server, stops
them in reverse order and restarts them on a reboot. They reach the device through its
public interface and its ports only."""
