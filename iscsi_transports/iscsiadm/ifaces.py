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

"""Iface records on disk: create ours, validate theirs, never touch theirs.

open-iscsi keeps one file per iface under ``/etc/iscsi/ifaces``; operators
and ``iscsiadm -m iface`` (for offload cards) create them too.  We record
the names of the ifaces *we* created in ``<state_path>/ifaces/`` so that
only those are ever updated or deleted; a record someone else made that
differs from what the plugin wants is an
:class:`~iscsi_transports.exception.IfaceConflict` with both versions shown.
Every change happens under an external lock per iface name, so two
processes (nova-compute and the console script) cannot interleave
``-o new`` and ``-o update``.
"""

from __future__ import annotations

import logging
import os

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import state
from iscsi_transports.iscsiadm import parse
from iscsi_transports.iscsiadm import runner

LOG = logging.getLogger(__name__)

BUILTIN = "builtin"
CREATED = "created"
UNCHANGED = "unchanged"
UPDATED = "updated"
#: What an ownership marker holds (its presence is what counts).
MARKER = b"created by iscsi-transports\n"


class IfaceRecords:
    """The iface records of one iscsiadm, through :class:`Iscsiadm`."""

    def __init__(self, iscsiadm: runner.Iscsiadm) -> None:
        self.iscsiadm = iscsiadm

    @property
    def state_dir(self) -> str:
        return os.path.join(state.directory(self.iscsiadm.conf), "ifaces")

    def _marker(self, name: str) -> str:
        return os.path.join(self.state_dir, iface_mod.validate_name(name))

    def created_by_us(self, name: str) -> bool:
        return os.path.exists(self._marker(name))

    def _mark_ours(self, name: str) -> None:
        """Write the ownership marker, whole or not at all (one line,
        StateDirUnusable or StateWriteFailed, on failure)."""
        state.write_file(self.iscsiadm.conf, "ifaces",
                         iface_mod.validate_name(name), MARKER)

    def _unmark(self, name: str) -> None:
        state.remove_file(self.iscsiadm.conf, "ifaces",
                          iface_mod.validate_name(name))

    def list(self) -> list[iface_mod.Iface]:
        """Every iface iscsiadm knows (``-m iface``), built-ins included."""
        return parse.parse_iface_list(self.iscsiadm.run(["-m", "iface"]))

    def show(self, name: str) -> iface_mod.Iface | None:
        """The record on disk, or None when there is none (exit 6)."""
        args = ["-m", "iface", "-I", iface_mod.validate_name(name), "-o",
                "show"]
        try:
            return parse.parse_iface_record(self.iscsiadm.run(args))
        except exception.IdbmError as error:
            if error.exit_code == 6:
                return None
            raise

    def ensure(self, wanted: iface_mod.Iface) -> str:
        """Make the record match ``wanted``; return what was done.

        Built-in ifaces need nothing.  A missing record is created and
        marked as ours; a matching one is left alone; a differing one is
        updated only if we created it, else ``IfaceConflict`` and nothing
        is modified.
        """
        if wanted.builtin:
            return BUILTIN
        with self.iscsiadm.external_lock("iface-%s" % wanted.name):
            existing = self.show(wanted.name)
            if existing is None:
                self._create(wanted)
                return CREATED
            changes = iface_mod.differences(existing, wanted)
            if not changes:
                return UNCHANGED
            if not self.created_by_us(wanted.name):
                raise exception.IfaceConflict(
                    name=wanted.name, existing=_describe(existing),
                    wanted=_describe(wanted))
            self._update(wanted.name, {key: want for key, (_, want)
                                       in changes.items() if want is not None})
            return UPDATED

    def _create(self, wanted: iface_mod.Iface) -> None:
        LOG.info("Creating iface record %s (%s)", wanted.name,
                 _describe(wanted))
        # Marked before the record exists: a marker that cannot be written
        # stops here, before ``-o new``, instead of leaving a record nobody
        # owns (a foreign conflict on every later attach).  A failed
        # ``-o new`` takes the marker back; a failed update leaves a
        # half-made record that is still ours to fix or delete next time.
        self._mark_ours(wanted.name)
        try:
            self.iscsiadm.run(["-m", "iface", "-I", wanted.name, "-o",
                               "new"])
        except Exception:
            try:
                self._unmark(wanted.name)
            except exception.StateWriteFailed as error:
                # The -o new error is what the caller must see.
                LOG.warning("Iface %s was not created, but its marker "
                            "stays: %s", wanted.name, error)
            raise
        self._update(wanted.name, wanted.settable_fields())

    def _update(self, name: str, fields: dict[str, str]) -> None:
        for key, value in fields.items():
            self.iscsiadm.run(["-m", "iface", "-I", name, "-o", "update",
                               "-n", key, "-v", value])

    def delete(self, name: str) -> bool:
        """Delete an iface we created; refuse (return False) otherwise."""
        if iface_mod.validate_name(name) in iface_mod.BUILTIN_IFACES or \
                not self.created_by_us(name):
            LOG.info("Not deleting iface %s: not created by iscsi-transports",
                     name)
            return False
        with self.iscsiadm.external_lock("iface-%s" % name):
            self.iscsiadm.run(["-m", "iface", "-I", name, "-o", "delete"],
                              (0, 7))
            self._unmark(name)
        return True


def _describe(record: iface_mod.Iface) -> str:
    return ", ".join("%s=%s" % item for item in record.fields().items())
