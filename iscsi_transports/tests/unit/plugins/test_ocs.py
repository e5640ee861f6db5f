"""ocs: Emulex OneConnect through the out-of-tree ocs driver, found by driver."""

from iscsi_transports.plugins import ocs
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestOcs(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = ocs.OcsTransport
    name = "ocs"
    module = "ocs"
    model = 'Emulex OneConnect (Skyhawk)'
    absent_words = "no Emulex OneConnect (ocs driver) adapter found"
    requires_ipaddress = False
    records_ipaddress = True
    needs_iscsiuio = False
