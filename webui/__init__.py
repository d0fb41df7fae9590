"""The device's web UI: static files served at /, no build step, no CDN."""

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
