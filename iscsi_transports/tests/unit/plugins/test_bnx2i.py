"""bnx2i: NetXtreme II offload; iface.ipaddress required, iscsiuio needed."""

from iscsi_transports.plugins import bnx2i
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestBnx2i(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = bnx2i.Bnx2iTransport
    name = "bnx2i"
    module = "bnx2i"
    model = 'Broadcom BCM57810'
    absent_words = "no Broadcom/QLogic NetXtreme II (bnx2/bnx2x) adapter found"
    requires_ipaddress = True
    records_ipaddress = True
    needs_iscsiuio = True
