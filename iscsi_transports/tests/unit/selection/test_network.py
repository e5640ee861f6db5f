# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Addresses and routes: the static table and the netlink adapter."""

import json
import subprocess
import sys
from unittest import mock

import fixtures

from iscsi_transports.selection import manager
from iscsi_transports.selection import network
from iscsi_transports.tests import base

ADDRESSES = [network.Address("10.1.0.2", 24, "eth1"),
             network.Address("10.1.0.3", 24, "eth1"),
             network.Address("192.168.0.2", 24, "eth0"),
             network.Address("fd00::2", 64, "eth0")]
ROUTES = [network.Route("0.0.0.0/0", "eth0", gateway="192.168.0.1"),
          network.Route("192.168.0.0/24", "eth0", source_ip="192.168.0.2"),
          network.Route("10.1.0.0/24", "eth1"),
          network.Route("10.0.0.0/8", "eth1", gateway="10.1.0.1",
                        metric=100),
          network.Route("10.0.0.0/8", "eth0", gateway="192.168.0.1",
                        metric=50),
          network.Route("::/0", "eth0", gateway="fd00::1")]


class TestStaticNetwork(base.TestCase):

    def setUp(self):
        super().setUp()
        self.net = network.StaticNetwork(ADDRESSES, ROUTES)

    def test_longest_prefix_wins(self):
        route = self.net.route_to("10.1.0.9")
        self.assertEqual(("eth1", None, "10.1.0.2", "10.1.0.9/32"),
                         (route.netdev, route.gateway, route.source_ip,
                          route.destination))

    def test_lowest_metric_breaks_ties(self):
        route = self.net.route_to("10.2.0.9")
        self.assertEqual(("eth0", "192.168.0.1", "192.168.0.2"),
                         (route.netdev, route.gateway, route.source_ip))

    def test_default_route(self):
        route = self.net.route_to("203.0.113.7")
        self.assertEqual("via 192.168.0.1 dev eth0 src 192.168.0.2",
                         route.describe())

    def test_ipv6_uses_ipv6_routes_and_sources(self):
        route = self.net.route_to("2001:db8::1")
        self.assertEqual(("eth0", "fd00::2"), (route.netdev, route.source_ip))

    def test_no_route(self):
        net = network.StaticNetwork(ADDRESSES, ROUTES[1:3])
        self.assertIsNone(net.route_to("203.0.113.7"))

    def test_local_address_goes_over_loopback(self):
        route = self.net.route_to("10.1.0.3")
        self.assertEqual(("lo", "10.1.0.3"), (route.netdev, route.source_ip))

    def test_recorded_lookups_win(self):
        recorded = network.Route("203.0.113.7/32", "eth9",
                                 source_ip="198.51.100.2")
        net = network.StaticNetwork(ADDRESSES, ROUTES,
                                    {"203.0.113.7": recorded})
        self.assertEqual(recorded, net.route_to("203.0.113.7"))

    def test_netdev_of(self):
        self.assertEqual("eth0", self.net.netdev_of("fd00:0::2"))
        self.assertIsNone(self.net.netdev_of("10.9.9.9"))

    def test_round_trip_through_file(self):
        path = self.useFixture(fixtures.TempDir()).join("n")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.net.as_dict()))
        again = network.StaticNetwork.from_file(path)
        self.assertEqual(self.net.as_dict(), again.as_dict())

    def test_from_conf(self):
        self.assertIsInstance(network.from_conf(self.conf),
                              network.NetlinkNetwork)


def _message(attrs, **fields):
    message = mock.MagicMock()
    message.__getitem__.side_effect = fields.__getitem__
    message.get_attr.side_effect = attrs.get
    return message


class TestNetlinkNetwork(base.TestCase):
    """The pyroute2 adapter, on canned rtnetlink messages."""

    def setUp(self):
        super().setUp()
        self.ipr = mock.MagicMock()
        iproute = mock.MagicMock()
        iproute.return_value.__enter__.return_value = self.ipr
        self.useFixture(fixtures.MonkeyPatch(
            "pyroute2.IPRoute", iproute))
        self.ipr.get_links.return_value = [
            _message({"IFLA_IFNAME": "eth0"}, index=2)]

    def test_addresses(self):
        self.ipr.get_addr.return_value = [
            _message({"IFA_ADDRESS": "192.0.2.2"}, index=2, prefixlen=24)]
        self.assertEqual([network.Address("192.0.2.2", 24, "eth0")],
                         network.NetlinkNetwork().addresses())

    def test_routes_skip_unreachable_and_take_first_nexthop(self):
        hop = _message({"RTA_GATEWAY": "192.0.2.1"}, oif=2)
        self.ipr.get_routes.return_value = [
            _message({"RTA_MULTIPATH": [hop]}, type=1, family=2, dst_len=0),
            _message({"RTA_DST": "10.0.0.0"}, type=7, family=2, dst_len=8)]
        self.assertEqual(
            [network.Route("0.0.0.0/0", "eth0", gateway="192.0.2.1")],
            network.NetlinkNetwork().routes())

    def test_route_to_unreachable_is_none(self):
        from pyroute2.netlink.exceptions import NetlinkError
        self.ipr.route.side_effect = NetlinkError(101)
        self.assertIsNone(network.NetlinkNetwork().route_to("10.0.0.1"))

    def test_route_to(self):
        self.ipr.route.return_value = [_message(
            {"RTA_DST": "10.0.0.1", "RTA_OIF": 2, "RTA_PREFSRC": "192.0.2.2",
             "RTA_GATEWAY": "192.0.2.1"}, type=1, family=2, dst_len=32)]
        route = network.NetlinkNetwork().route_to("10.0.0.1")
        self.assertEqual("via 192.0.2.1 dev eth0 src 192.0.2.2",
                         route.describe())
        self.ipr.route.assert_called_once_with("get", dst="10.0.0.1")


class TestLazyImport(base.TestCase):

    def test_pyroute2_is_not_imported_by_the_library(self):
        code = ("import sys; from iscsi_transports.cmd import main; "
                "from iscsi_transports import opts; "
                "from iscsi_transports.selection import manager; "
                "main.build_parser(); "
                "print('pyroute2' in sys.modules)")
        output = subprocess.check_output(
            [sys.executable, "-c", code], text=True)
        self.assertEqual("False", output.strip())


class TestManagerNetwork(base.TestCase):

    def test_injected_network_survives_refresh(self):
        net = network.StaticNetwork(ADDRESSES, ROUTES)
        transports = manager.TransportManager(self.conf, network=net)
        transports.refresh()
        self.assertIs(net, transports.network)

    def test_configured_network_is_read_again_after_refresh(self):
        path = self.useFixture(fixtures.TempDir()).join("network.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(network.StaticNetwork(ADDRESSES, []).as_dict(), handle)
        self.flags(network_file=path)
        transports = manager.TransportManager(self.conf)
        self.assertEqual(4, len(transports.network.addresses()))
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(network.StaticNetwork([], []).as_dict(), handle)
        self.assertEqual(4, len(transports.network.addresses()))
        transports.refresh()
        self.assertEqual([], transports.network.addresses())
