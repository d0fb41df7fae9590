"""DSMR P1 telegrams: framing, decoding, encoding."""
