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

# The user the emulator runs as; in group dialout to open a serial device passed with
# --device (on the host such devices belong to dialout).
RUN useradd --system --uid 1000 --groups dialout --home-dir /data --create-home whatwatt \
 && mkdir -p /data && chown whatwatt /data

WORKDIR /app
# Dependencies first, in their own layer: a change to the code does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
# Then the code (fixtures/ is data for the tests, not needed in the image).
COPY emulator ./emulator
COPY meter_protocols ./meter_protocols
COPY webui ./webui
RUN pip install --no-cache-dir --no-deps .

USER whatwatt
VOLUME ["/data"]
# Docker lets unprivileged processes bind low ports in a container's network namespace
# (net.ipv4.ip_unprivileged_port_start=0 since Docker 20.10), so port 80 needs no root.
EXPOSE 80
# Alive = the HTTP server answers on the port WHATWATT_HTTP names, with any status below
# 500: 401 while protection is on is an answer too.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os,sys,urllib.request as u,urllib.error as e\nh,_,p=os.environ.get('WHATWATT_HTTP','0.0.0.0:80').rpartition(':')\nh=h.strip('[]') if h.strip('[]') not in ('','0.0.0.0','::') else '127.0.0.1'\nh=f'[{h}]' if ':' in h else h\ntry: s=u.urlopen(f'http://{h}:{p}/api/v1/system',timeout=2).status\nexcept e.HTTPError as x: s=x.code\nexcept OSError: s=599\nsys.exit(s>=500)"]
ENTRYPOINT ["whatwatt-emulator"]
