"""Virtual meters: load model, meter registers, profiles."""
