"""qla4xxx: QLogic iSCSI HBAs carrying their own IP address."""

from iscsi_transports.plugins import qla4xxx
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestQla4xxx(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = qla4xxx.Qla4xxxTransport
    name = "qla4xxx"
    module = "qla4xxx"
    model = 'QLogic ISP8324'
    absent_words = "no QLogic ISP4xxx/ISP8xxx iSCSI adapter found"
    requires_ipaddress = False
    records_ipaddress = True
    needs_iscsiuio = False
