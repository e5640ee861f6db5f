"""Third-party plugins, good and broken, registered by ``fixture.py``."""
