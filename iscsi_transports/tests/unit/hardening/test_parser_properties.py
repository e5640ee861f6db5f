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

"""Property tests for every iscsiadm output parser.

The contract (see :mod:`iscsi_transports.iscsiadm.parse`): any input either
parses or raises :class:`~iscsi_transports.exception.IscsiadmParseError`,
never anything else, because the driver decides on fallback by exception
type.  Inputs are arbitrary text and, more usefully, lines assembled from
pieces of real output with some pieces replaced by junk.  Valid lines are
also generated from values and must parse back to those values.
"""

from __future__ import annotations

import ipaddress
import os

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import portal
from iscsi_transports.iscsiadm import parse
from iscsi_transports.tests import base

#: HARDENING_EXAMPLES=5000 for a longer hunt than CI's.
settings.register_profile(
    "hardening", max_examples=int(os.environ.get("HARDENING_EXAMPLES", 300)),
    deadline=None, derandomize=True)
PROFILE = settings.get_profile("hardening")

JUNK = st.text(max_size=12)
TRANSPORTS = st.sampled_from(["tcp", "iser", "cxgb4i", "bnx2i", "qla4xxx",
                              "be2iscsi", "qedi", "ocs", "cxgb3i"])
IPV4 = st.ip_addresses(v=4).map(str)
IPV6 = st.ip_addresses(v=6).map(str)
HOSTS = st.one_of(IPV4, IPV6, st.from_regex(
    r"\A[a-z]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z][a-z0-9]{0,5}){0,2}\Z"))
PORTS = st.integers(min_value=1, max_value=65535)
TARGETS = st.one_of(
    st.from_regex(r"\Aiqn\.20[0-9]{2}-[01][0-9]\.org\.[a-z]{1,8}"
                  r"(:[a-z0-9.:-]{1,20})?\Z"),
    st.from_regex(r"\Aeui\.[0-9a-f]{16}\Z"),
    st.from_regex(r"\Anaa\.([0-9a-f]{16}|[0-9A-F]{32})\Z"))


def portal_text(host: str, port: int) -> str:
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def maybe_junk(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(strategy, strategy, JUNK)


NODE_LINE = st.builds("{},{} {}".format,
                      maybe_junk(st.builds(portal_text, HOSTS, PORTS)),
                      maybe_junk(st.integers(-2, 2 ** 33).map(str)),
                      maybe_junk(TARGETS))
FIELD = st.one_of(st.just("<empty>"), JUNK,
                  st.from_regex(r"\A([0-9a-f]{2}:){5}[0-9a-f]{2}\Z"), IPV4,
                  IPV6)
IFACE_LINE = st.builds("{} {},{},{},{},{}".format,
                       st.one_of(st.from_regex(r"\A[a-z0-9][a-z0-9.:_-]{0,70}\Z"),
                                 JUNK),
                       maybe_junk(TRANSPORTS), FIELD, FIELD, FIELD, FIELD)
RECORD_LINE = st.one_of(
    st.builds("iface.{} = {}".format,
              st.sampled_from(["iscsi_ifacename", "transport_name",
                               "hwaddress", "ipaddress", "net_ifacename",
                               "initiatorname", "vlan_id", "mtu", "x y"]),
              FIELD),
    st.sampled_from(["# BEGIN RECORD 2.1.8", "# END RECORD", ""]), JUNK)


def text_of(line: st.SearchStrategy) -> st.SearchStrategy:
    joiners = st.sampled_from(["\n", "\r\n", "\n\n", "\x0b", "\u2028"])
    return st.one_of(st.builds(lambda lines, sep: sep.join(lines),
                               st.lists(line, max_size=6), joiners),
                     st.text())


class ParserContract(base.TestCase):
    """Helpers asserting the parse-or-IscsiadmParseError contract."""

    def assert_parses_or_raises(self, parser, text) -> object:
        try:
            return parser(text)
        except exception.IscsiadmParseError as error:
            self.assertIn("Cannot parse iscsiadm", str(error))
            return None


class TestArbitraryInput(ParserContract):

    @PROFILE
    @given(text_of(NODE_LINE))
    def test_nodes_and_discovery(self, text: str) -> None:
        self.assert_parses_or_raises(parse.parse_targets, text)
        self.assert_parses_or_raises(parse.parse_discovery, text)

    @PROFILE
    @given(text_of(IFACE_LINE))
    def test_iface_list(self, text: str) -> None:
        for record in self.assert_parses_or_raises(
                parse.parse_iface_list, text) or ():
            self.assertEqual(record.name,
                             iface_mod.validate_name(record.name))

    @PROFILE
    @given(text_of(RECORD_LINE))
    def test_iface_record(self, text: str) -> None:
        self.assert_parses_or_raises(parse.parse_iface_record, text)

    @PROFILE
    @given(st.one_of(st.none(), st.integers(), st.binary(max_size=8)))
    def test_not_text(self, value: object) -> None:
        for parser in (parse.parse_targets,
                       parse.parse_iface_list, parse.parse_iface_record):
            self.assertRaises(exception.IscsiadmParseError, parser, value)

    @PROFILE
    @given(text_of(RECORD_LINE))
    def test_iface_files_raise_only_typed_input_errors(self, text) -> None:
        # The on-disk format has no iscsiadm around it, so a record without
        # a name is an InvalidInput rather than a parse error: still typed.
        try:
            iface_mod.parse_record(text)
        except (exception.InvalidInput, exception.IscsiadmParseError):
            pass

    @PROFILE
    @given(st.one_of(st.text(max_size=40),
                     st.builds(portal_text, HOSTS, st.integers())))
    def test_portals_raise_only_invalid_portal(self, text: str) -> None:
        try:
            portal.parse_portal(text)
        except exception.InvalidPortal:
            pass


class TestValidLinesRoundTrip(ParserContract):

    @PROFILE
    @given(HOSTS, PORTS, st.integers(-1, 65535), TARGETS)
    def test_node_line(self, host, port, tpgt, target) -> None:
        (node,) = parse.parse_targets("%s,%d %s" % (portal_text(host, port),
                                                    tpgt, target))
        self.assertEqual((_canonical(host), port, tpgt, target),
                         (node.portal.host, node.portal.port, node.tpgt,
                          node.name))


def _canonical(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host
