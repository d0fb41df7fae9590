# The emulator as a container, for demos and as a CI mock target:
#   docker build -t whatwatt-emulator .
#   docker run -p 8080:80 whatwatt-emulator           # virtual meter
#   docker run -p 8080:80 --device /dev/ttyUSB0 -e WHATWATT_METER=/dev/ttyUSB0 whatwatt-emulator
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WHATWATT_HTTP=0.0.0.0:80 \
    WHATWATT_DATA_DIR=/data \
    WHATWATT_METER=virtual:ensor-ers \
    WHATWATT_LOG_LEVEL=INFO

WORKDIR /app
COPY pyproject.toml README.md ./
COPY emulator ./emulator
COPY meter_protocols ./meter_protocols
COPY webui ./webui
COPY fixtures ./fixtures
RUN pip install --no-cache-dir . \
 && useradd --system --uid 1000 --home-dir /data --create-home whatwatt \
 && mkdir -p /data && chown whatwatt /data

USER whatwatt
VOLUME ["/data"]
# Docker lets unprivileged processes bind low ports in a container's network namespace
# (net.ipv4.ip_unprivileged_port_start=0 since Docker 20.10), so port 80 needs no root.
EXPOSE 80
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1/api/v1/system', timeout=2).status != 200)"
ENTRYPOINT ["whatwatt-emulator"]
