"""be2iscsi: Emulex OneConnect iSCSI functions carrying their own IP address."""

from iscsi_transports.plugins import be2iscsi
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestBe2iscsi(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = be2iscsi.Be2iscsiTransport
    name = "be2iscsi"
    module = "be2iscsi"
    model = 'Emulex OneConnect (BE3)'
    absent_words = "no Emulex OneConnect iSCSI adapter found"
    requires_ipaddress = False
    records_ipaddress = True
    needs_iscsiuio = False
