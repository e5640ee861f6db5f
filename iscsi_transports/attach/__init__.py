"""Attach and detach: the driver, connection properties, disks and the TCP fallback policy."""
