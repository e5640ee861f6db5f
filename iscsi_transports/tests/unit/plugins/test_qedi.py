"""qedi: QLogic FastLinQ offload; iface.ipaddress required, iscsiuio needed."""

from iscsi_transports.plugins import qedi
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestQedi(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = qedi.QediTransport
    name = "qedi"
    module = "qedi"
    model = 'QLogic FastLinQ iSCSI'
    absent_words = "no QLogic FastLinQ iSCSI adapter found"
    requires_ipaddress = True
    records_ipaddress = True
    needs_iscsiuio = True
