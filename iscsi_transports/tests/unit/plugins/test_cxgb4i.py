"""cxgb4i: Chelsio T4/T5/T6 offload on cxgb4; the NIC's own IP address is used."""

from iscsi_transports.plugins import cxgb4i
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestCxgb4i(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = cxgb4i.Cxgb4iTransport
    name = "cxgb4i"
    module = "cxgb4i"
    model = 'Chelsio T520-CR'
    absent_words = "no Chelsio T4/T5/T6 adapter found"
    requires_ipaddress = False
    records_ipaddress = False
    needs_iscsiuio = False
