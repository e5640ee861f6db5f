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

"""multipath-tools as the library uses it: commands, answers, configuration.

The one place that builds ``multipath`` and ``multipathd`` argv (the root
daemon, :mod:`iscsi_transports.privileged`, checks and runs them) and reads
what they answer, as :mod:`iscsi_transports.iscsiadm` is for iscsiadm.
Both the attach side (:mod:`iscsi_transports.attach.multipath`: wait for a
map, flush it) and the operator's ``doctor`` use it, so it sits below both.

What multipath-tools 0.9.4 (Debian 12) offers and how it is used here:

- ``multipathd`` listens on the abstract unix socket
  ``@/org/kernel/linux/storage/multipathd`` (systemd's
  ``multipathd.socket`` holds it even before the daemon runs and starts
  the daemon on the first connection).  Whether that socket listens is
  read from ``/proc/net/unix`` with no process at all.
- ``multipathd show config`` answers any user (only ``show``/``list``
  commands are open to non-root clients); it runs through the executor
  anyway, so the argv is checked and killed on timeout like every other
  command.
- ``multipath -a WWID`` adds a WWID to the wwids file, which is what
  ``find_multipaths strict`` (Debian's default) and ``yes`` need before a
  single path of a new LUN becomes a map; ``multipathd add path sdX``
  makes the daemon look at a path now instead of waiting for its uevent.
- ``multipath -f MAP`` disables queueing, suspends and removes a map
  that nothing holds open, and refuses (exit 1, "in use") otherwise.

The client exits 0 even when the daemon answers ``fail``; such answers
are judged here from the text.
"""

from __future__ import annotations

import logging
import os
import re
import typing
from collections.abc import Mapping, Sequence

from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import exception

if typing.TYPE_CHECKING:
    from iscsi_transports.privileged import client

__all__ = ["SOCKET", "ArraySettings", "ConfigSection", "Multipathd",
           "multipathd_opts", "parse_config", "settings_for",
           "socket_listening"]

LOG = logging.getLogger(__name__)

multipathd_opts = [
    cfg.IntOpt(
        "multipath_command_timeout", default=60, min=1, max=3600,
        help="Seconds a multipath or multipathd command may run before it "
             "is killed. A flush of a map whose paths are slow can take "
             "long; a hung one must not hold an attach or detach forever."),
]

#: multipathd's socket in the abstract namespace (``DEFAULT_SOCKET``).
SOCKET = "@/org/kernel/linux/storage/multipathd"
#: ``__SO_ACCEPTCON`` in ``/proc/net/unix`` flags: a listening socket.
_ACCEPTCON = 0x10000
#: multipathd's answers that mean the command did not work.
_FAILED_RE = re.compile(r"^(?:fail|timeout|permission deny.*|"
                        r"ux_socket_connect.*)$", re.I | re.M)


def socket_listening(proc_root: str = "/proc") -> bool:
    """Whether something listens on multipathd's socket (this network
    namespace's ``/proc/net/unix``: abstract sockets are per namespace,
    exactly as the ``multipathd`` client sees them)."""
    try:
        with open(os.path.join(proc_root, "net", "unix"),
                  encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) >= 8 and fields[7] == SOCKET:
            try:
                if int(fields[3], 16) & _ACCEPTCON:
                    return True
            except ValueError:
                continue
    return False


class ConfigSection(typing.NamedTuple):
    """One ``name { ... }`` block of multipath.conf syntax."""

    name: str
    #: ``key value`` lines, quotes removed; a repeated key keeps the last.
    values: Mapping[str, str]
    children: tuple[ConfigSection, ...]

    def section(self, name: str) -> ConfigSection | None:
        for child in self.children:
            if child.name == name:
                return child
        return None


def parse_config(text: str) -> ConfigSection:
    """``multipathd show config`` / ``multipath -t`` output as a tree
    (the root is named ``""``).  Unbalanced braces end quietly: the
    output of a real daemon is trusted, a truncated one loses its tail."""
    stack: list[tuple[str, dict[str, str], list[ConfigSection]]] = [
        ("", {}, [])]
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        if line == "}":
            if len(stack) > 1:
                name, values, children = stack.pop()
                stack[-1][2].append(ConfigSection(name, values,
                                                  tuple(children)))
            continue
        if line.endswith("{"):
            stack.append((line[:-1].strip(), {}, []))
            continue
        key, _sep, value = line.partition(" ")
        stack[-1][1][key] = value.strip().strip('"')
    while len(stack) > 1:
        name, values, children = stack.pop()
        stack[-1][2].append(ConfigSection(name, values, tuple(children)))
    return ConfigSection("", stack[0][1], tuple(stack[0][2]))


class ArraySettings(typing.NamedTuple):
    """What multipathd will do for one array model, and where it comes
    from (``overrides``, ``devices``, ``defaults`` or ``built-in``)."""

    vendor: str
    product: str
    find_multipaths: str
    no_path_retry: str | None
    no_path_retry_from: str
    features: str
    polling_interval: int | None

    @property
    def queues_forever(self) -> bool:
        """I/O of a map with no path left waits until a path returns:
        every opener hangs meanwhile, a detach must not remove its paths."""
        return self.no_path_retry == "queue" or (
            self.no_path_retry is None and
            "queue_if_no_path" in self.features)

    @property
    def queueing(self) -> str:
        """What I/O does when the map has no path left, in words."""
        retry = self.no_path_retry
        if self.queues_forever:
            return "queued until a path returns (forever)"
        if retry is None or retry == "fail":
            return "failed at once"
        if retry.isdigit():
            seconds = (" (about %d s)" % (int(retry) * self.polling_interval)
                       if self.polling_interval else "")
            return "queued for %s path checks%s, then failed" % (retry,
                                                                 seconds)
        return "no_path_retry %s" % retry


def _matches(pattern: str | None, value: str) -> bool:
    """multipath-tools matches hwtable entries with POSIX extended
    regular expressions, unanchored (``regexec``)."""
    if pattern is None:
        return True
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return pattern == value


def settings_for(conf: ConfigSection, vendor: str,
                 product: str) -> ArraySettings:
    """The settings that decide failover for disks of ``vendor`` /
    ``product`` (the SCSI INQUIRY strings, blanks stripped).

    The precedence is multipath-tools': ``overrides``, then the
    ``devices`` entries that match (later entries win: the printed table
    lists the built-in ones first, the configuration's after them), then
    ``defaults``.  Per-WWID ``multipaths`` entries are not considered.
    """
    defaults = conf.section("defaults")
    default_values: Mapping[str, str] = defaults.values if defaults else {}
    retry, retry_from = None, "built-in"
    features = default_values.get("features", "0")
    if "no_path_retry" in default_values:
        retry, retry_from = default_values["no_path_retry"], "defaults"
    devices = conf.section("devices")
    for device in devices.children if devices else ():
        values = device.values
        if device.name != "device" or not (
                _matches(values.get("vendor"), vendor) and
                _matches(values.get("product"), product)):
            continue
        if "no_path_retry" in values:
            retry = values["no_path_retry"]
            retry_from = "devices (%s %s)" % (values.get("vendor", "*"),
                                              values.get("product", "*"))
        features = values.get("features", features)
    overrides = conf.section("overrides")
    if overrides and "no_path_retry" in overrides.values:
        retry, retry_from = overrides.values["no_path_retry"], "overrides"
    if overrides and "features" in overrides.values:
        features = overrides.values["features"]
    interval = default_values.get("polling_interval", "")
    return ArraySettings(
        vendor=vendor, product=product,
        find_multipaths=default_values.get("find_multipaths", "strict"),
        no_path_retry=retry, no_path_retry_from=retry_from,
        features=features,
        polling_interval=int(interval) if interval.isdigit() else None)


class Multipathd:
    """``multipath`` and ``multipathd`` through the root executor."""

    def __init__(self, conf: cfg.ConfigOpts, executor: client.Executor,
                 proc_root: str = "/proc") -> None:
        config.register(conf, multipathd_opts)
        self.timeout: int = conf.iscsi_transports.multipath_command_timeout
        self.executor = executor
        self.proc_root = proc_root

    def listening(self) -> bool:
        """Whether multipathd's socket listens (no process run)."""
        return socket_listening(self.proc_root)

    def _checked(self, argv: Sequence[str],
                 result: client.CommandResult) -> str:
        text = (result.stdout + result.stderr).strip()
        if result.exit_code != 0 or (argv[0] != "multipath" and
                                     _FAILED_RE.search(result.stdout)):
            raise exception.MultipathCommandFailed(
                cmd=" ".join(argv), exit_code=result.exit_code,
                reason=text.splitlines()[-1] if text else "no output")
        return result.stdout

    def multipathd(self, *args: str) -> str:
        """Run ``multipathd args``; its answer, or MultipathCommandFailed."""
        result = self.executor.multipathd(list(args), self.timeout)
        return self._checked(["multipathd", *args], result)

    def multipath(self, *args: str) -> str:
        """Run ``multipath args``; its output, or MultipathCommandFailed."""
        result = self.executor.multipath(list(args), self.timeout)
        return self._checked(["multipath", *args], result)

    def config(self) -> ConfigSection:
        """The running daemon's configuration (``show config``: the
        built-in hardware table merged with multipath.conf)."""
        return parse_config(self.multipathd("show", "config"))

    def add_wwid(self, wwid: str) -> None:
        """``multipath -a``: allow a map for ``wwid`` (wwids file)."""
        self.multipath("-a", wwid)

    def add_path(self, name: str) -> None:
        """``multipathd add path``: look at disk ``name`` now."""
        self.multipathd("add", "path", name)

    def flush(self, map_name: str) -> None:
        """``multipath -f``: remove a map nothing holds open."""
        self.multipath("-f", map_name)

    def resize(self, map_name: str) -> None:
        """``multipathd resize map``: take the paths' new size into the
        map (its paths were rescanned first)."""
        self.multipathd("resize", "map", map_name)
