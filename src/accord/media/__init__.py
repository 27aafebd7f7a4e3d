"""Media probing and decoding (PyAV, soundfile) and point-cloud readers."""
