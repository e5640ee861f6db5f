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
iface is gone, so :func:`read_layout` tells the driver what is there:
it refuses to write over such a record, and passes the portal group when
one is known so that its own record goes into the per-iface layout next
to the others.

The records directory is ``/etc/iscsi`` in open-iscsi's default build and
``/var/lib/iscsi`` where a distribution moved it (Debian 13):
:func:`db_root` gives the one the installed iscsiadm was built with.
"""

from __future__ import annotations

import logging
import os
import typing

from oslo_config import cfg

from iscsi_transports import openiscsi
from iscsi_transports import portal as portal_mod
from iscsi_transports.iscsiadm import parse

__all__ = ["RecordLayout", "db_root", "layout_of",
           "nodes_opts", "read_layout", "single_file"]

LOG = logging.getLogger(__name__)

#: The iface of a record that names none (open-iscsi's default).
DEFAULT_IFACE = "default"

nodes_opts = [
    cfg.StrOpt("iscsi_db_path", default="",
               help="open-iscsi's records directory (its ISCSI_DB_ROOT, "
                    "holding nodes, ifaces and send_targets). Empty: the "
                    "one the installed iscsiadm was built with "
                    "(/etc/iscsi on Debian 12, /var/lib/iscsi on Debian "
                    "13). The privsep daemon (use_privsep) never reads "
                    "this: where root reads and writes records is never "
                    "the caller's choice, so set this only with "
                    "use_privsep = false."),
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


def read_layout(root: str, target: str, portal: str) -> RecordLayout:
    """What records ``target`` has at ``portal`` under ``root``.

    Raises OSError when the directory exists but cannot be read (the
    caller is not root; open-iscsi makes it 0700): then
    :func:`layout_of` reads iscsiadm's listing instead.
    """
    target_dir = os.path.join(root, "nodes", target)
    try:
        entries = os.listdir(target_dir)
    except FileNotFoundError:
        return RecordLayout(None, None, ())
    base, prefix = _dir_name(portal)
    tpgts = sorted(int(entry[len(prefix):]) for entry in entries
                   if entry.startswith(prefix) and
                   entry[len(prefix):].isdigit() and
                   os.path.isdir(os.path.join(target_dir, entry)))
    single = os.path.join(target_dir, base)
    if base not in entries or not os.path.isfile(single):
        return RecordLayout(None, None, tuple(tpgts))
    return RecordLayout(single, _iface_of(single), tuple(tpgts))


def layout_of(records: typing.Iterable[parse.NodeRecord],
              single: str) -> RecordLayout:
    """The layout ``iscsiadm -m node -T -p -o show`` describes: a record
    without a portal group (``node.tpgt = -1``) is the single file
    ``single``."""
    records = list(records)
    owners = [record.iface for record in records if record.tpgt < 0]
    return RecordLayout(single if owners else None,
                        owners[0] if owners else None,
                        tuple(sorted({record.tpgt for record in records
                                      if record.tpgt >= 0})))


def _iface_of(record: str) -> str:
    """The ``iface.iscsi_ifacename`` a record file is bound to."""
    with open(record, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            key, sep, value = line.partition("=")
            if sep and key.strip() == "iface.iscsi_ifacename":
                return value.strip() or DEFAULT_IFACE
    return DEFAULT_IFACE
