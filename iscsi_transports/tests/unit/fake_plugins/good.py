"""A well-behaved out-of-tree transport."""

from iscsi_transports import base
from iscsi_transports import iface


class FakeVendorTransport(base.Transport):
    """A vendor transport that is always usable (for tests)."""

    name = "fakevendor"
    offload = True
    kernel_modules = ("fakevendor_iscsi",)

    def detect(self, host):
        port = base.Port(transport=self.name, hwaddress="00:11:22:33:44:55",
                         iface_name="fakevendor.00:11:22:33:44:55")
        return base.Detection(transport=self.name, usable=True,
                              reason="fake card ready", module_loaded=True,
                              ports=(port,))

    def generate_iface(self, hwaddress=None, ipaddress=None, name=None):
        return iface.Iface(name=name or iface.offload_name(self.name, hwaddress),
                           transport_name=self.name, hwaddress=hwaddress)
