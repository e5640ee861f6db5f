"""Benchmark 3: parsing ``iscsiadm -m session`` output with many sessions.

Lines mix every transport prefix, IPv4 and IPv6 portals and ``iqn.``,
``eui.`` and ``naa.`` names, as a busy compute host with offload cards
prints them.  The baseline is os-brick's ``_get_iscsi_sessions_full`` on the
same text (it splits on white space and validates nothing, so it is the
floor of what parsing can cost).  Goal: 4096 sessions under 20 ms, linear.
"""

from __future__ import annotations

import functools
import itertools

import _common

from iscsi_transports.iscsiadm import parse

SIZES = (16, 256, 4096)
GOAL_4096_S = 0.020
TRANSPORTS = ("tcp", "iser", "cxgb4i", "bnx2i", "qla4xxx", "be2iscsi",
              "qedi", "ocs", "cxgb3i")


def session_line(sid: int, transport: str) -> str:
    if sid % 5 == 0:
        portal = "[fd00::%x]:3260" % sid
    else:
        portal = "10.%d.%d.%d:3260" % (sid >> 16 & 255, sid >> 8 & 255,
                                       sid & 255)
    target = ("iqn.2010-10.org.openstack:volume-%08d" % sid,
              "eui.%016x" % sid, "naa.%032x" % sid)[sid % 7 % 3]
    return "%s: [%d] %s,1 %s (%s)" % (transport, sid, portal, target,
                                      "flash" if sid % 11 == 0 else "non-flash")


def session_output(count: int) -> str:
    kinds = itertools.cycle(TRANSPORTS)
    return "\n".join(session_line(sid, next(kinds))
                     for sid in range(1, count + 1)) + "\n"


def os_brick_parser(text: str):
    """os-brick's own parser on ``text``, without running iscsiadm."""
    from os_brick.initiator.connectors import iscsi

    connector = iscsi.ISCSIConnector.__new__(iscsi.ISCSIConnector)
    connector._run_iscsi_session = lambda: (text, "")
    return connector._get_iscsi_sessions_full


def main() -> dict:
    brick = _common.have_os_brick()
    results: dict = {"ours_s": {}, "os_brick_s": {}}
    rows = []
    for count in SIZES:
        text = session_output(count)
        if len(parse.parse_sessions(text)) != count:
            raise SystemExit("the generated output did not parse")
        ours = _common.best_of(functools.partial(parse.parse_sessions, text),
                               repeat=15)
        results["ours_s"][count] = ours
        row = [count, _common.ms(ours), "%.2f us" % (ours / count * 1e6)]
        if brick:
            theirs = _common.best_of(os_brick_parser(text), repeat=15)
            results["os_brick_s"][count] = theirs
            row += [_common.ms(theirs), "%.2fx" % (ours / theirs)]
        rows.append(row)
    headers = ["sessions", "ours", "ours per line"]
    if brick:
        headers += ["os-brick (split only)", "ours vs os-brick"]
    ours_4096 = results["ours_s"][4096]
    _common.report("parsing", "Parsing scale (iscsiadm -m session)", headers,
                   rows, {**results, "goal_4096_s": GOAL_4096_S,
                          "goal_met": ours_4096 < GOAL_4096_S})
    return results


if __name__ == "__main__":
    main()
