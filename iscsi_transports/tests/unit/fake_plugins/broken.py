"""Plugins that fail in every way a vendor plugin can."""

from iscsi_transports.plugins import tcp


class NotATransport:
    """Registered as a transport but does not subclass base.Transport."""

    name = "notatransport"

    def __init__(self, conf=None):
        self.conf = conf


class ShadowTcpTransport(tcp.TcpTransport):
    """Tries to replace the in-tree tcp plugin."""


class ExplodingInitTransport(tcp.TcpTransport):
    """Raises when constructed."""

    name = "explodinginit"

    def __init__(self, conf=None):
        raise RuntimeError("cannot construct without its card")


class ExplodingDetectTransport(tcp.TcpTransport):
    """Raises during detection."""

    name = "explodingdetect"

    def detect(self, host):
        raise OSError("vendor bug while probing")
