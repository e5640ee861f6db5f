"""cxgb3i: Chelsio T3 offload on the cxgb3 NIC; iface.ipaddress is optional."""

from iscsi_transports.plugins import cxgb3i
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestCxgb3i(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = cxgb3i.Cxgb3iTransport
    name = "cxgb3i"
    module = "cxgb3i"
    model = 'Chelsio T3B20'
    absent_words = "no Chelsio T3 adapter found"
    requires_ipaddress = False
    records_ipaddress = True
    needs_iscsiuio = False
