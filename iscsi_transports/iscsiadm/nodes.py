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

"""Where open-iscsi keeps a target's node records, read before ``-o new``.

open-iscsi (``usr/idbm.c``, ``idbm_rec_write`` and ``idbm_add_node``, the
same from 2.1.8 to master) stores a node record in one of two layouts under
its record directory (``ISCSI_DB_ROOT``):

* ``nodes/<target>/<address>,<port>,<tpgt>/<iface>``, one file per iface,
  when the target portal group tag is known (discovery knows it, and
  ``-o new -p <address>:<port>,<tpgt>`` gives it);
* the older single file ``nodes/<target>/<address>,<port>``, whatever the
  iface, when it is not (a static ``-o new -p <address>:<port>``).

Writing a record looks for that single file first, for any iface: without
a portal group ``-o new`` deletes and rewrites it, with one it deletes it
and uses the per-iface layout.  Either way a single-file record of another
iface is gone, so the root daemon's ``read_node_layout``
(:mod:`iscsi_transports.privileged.records`) tells the driver what is there:
it refuses to write over such a record, and passes the portal group when
one is known so that its own record goes into the per-iface layout next
to the others.

The records directory is ``/etc/iscsi`` in open-iscsi's default build and
``/var/lib/iscsi`` where a distribution moved it (Debian 13):
:func:`db_root` gives the one the installed iscsiadm was built with.
"""

from __future__ import annotations

import os
import typing

from oslo_config import cfg

from iscsi_transports import openiscsi
from iscsi_transports import portal as portal_mod

__all__ = ["RecordLayout", "db_root", "nodes_opts", "single_file"]

nodes_opts = [
    cfg.StrOpt("iscsi_db_path", default="",
               help="open-iscsi's records directory (its ISCSI_DB_ROOT, "
                    "holding nodes, ifaces and send_targets). Empty: the "
                    "one the installed iscsiadm was built with "
                    "(/etc/iscsi on Debian 12, /var/lib/iscsi on Debian "
                    "13). Used "
                    "where the library reads records itself (doctor) and "
                    "names them in messages; the privsep daemon always "
                    "reads it from iscsiadm: where root reads and writes records is "
                    "never the caller's choice."),
]


class RecordLayout(typing.NamedTuple):
    """The node records of one target at one portal, as found on disk."""

    #: The single-file record ``nodes/<target>/<address>,<port>``, if any.
    single_file: str | None
    #: The iface that single file is bound to (None without the file).
    single_file_iface: str | None
    #: Target portal group tags of the per-iface directories.
    tpgts: tuple[int, ...]


def db_root(configured: str | None = None) -> str:
    """The records directory: ``configured`` when set, else the one the
    installed iscsiadm was built with (the root daemon's, read the same
    way: :mod:`iscsi_transports.openiscsi`), or
    OpenIscsiBuildUnknown."""
    return configured or openiscsi.installed().db_root


def _dir_name(portal: str) -> tuple[str, str]:
    """open-iscsi's ``<address>,<port>`` for a portal (no brackets)."""
    parsed = portal_mod.parse_portal(portal)
    base = "%s,%d" % (parsed.host, parsed.port)
    return base, base + ","


def single_file(root: str, target: str, portal: str) -> str:
    """Where open-iscsi keeps ``target``'s record at ``portal`` when it
    knows no portal group."""
    return os.path.join(root, "nodes", target, _dir_name(portal)[0])
