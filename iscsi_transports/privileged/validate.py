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

"""The checks every root operation makes on its arguments, in the daemon.

The daemon trusts nothing its caller sends: a compromised service user
could send any value.  So each operation accepts only the shapes the
library builds, and anything else is a
:class:`~iscsi_transports.exception.PrivilegedRequestRefused` before a file
is opened or a process started.  Refusals name the argument and the rule,
never a value that could be a secret.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Sequence

from iscsi_transports import base
from iscsi_transports import chap
from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import portal as portal_mod

#: Kernel names of SCSI disks (``sda`` ... ``sdzzz``).
DISK_RE = re.compile(r"^sd[a-z]{1,4}\Z")
_HCTL_PART_RE = re.compile(r"^[0-9]{1,20}\Z")
_TARGET_RE = re.compile(r"^(?i:iqn|eui|naa)\.[A-Za-z0-9.:_-]+\Z")
#: ``addr:port`` or ``[v6]:port``, an optional ``,tpgt``: the -p forms.
#: A link-local v6 address carries its zone (``[fe80::1%eth0]``, a netdev
#: name: at most 15 bytes), which iscsiadm keeps in the record's name.
_PORTAL_RE = re.compile(r"^(?:[0-9A-Za-z][0-9A-Za-z.-]*|"
                        r"\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]{1,15})?\])"
                        r"(?::[0-9]{1,5})?(?:,[0-9]+)?\Z")
_MAP_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}\Z")
_MPATH_DEV_RE = re.compile(r"^/dev/(?:sd[a-z]{1,4}|dm-[0-9]{1,6})\Z")
#: What os-brick's check_valid_device may be asked to read: a disk, a dm
#: map, or a udev link to one (os-brick's encrypted-volume links included).
#: A link name has no ``/``, so no ``..`` can climb out of its directory.
_READ_DEV_RE = re.compile(
    r"^/dev/(sd[a-z]{1,4}|dm-[0-9]{1,6}|"
    r"(?:mapper|disk/by-path|disk/by-id)/[A-Za-z0-9][A-Za-z0-9_.:+-]{0,254})"
    r"\Z")
#: Control characters, and what else Python takes for a line break (a
#: value holding one would read back differently than it was checked).
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: Longest iSCSI name (RFC 3720: 223 bytes).
MAX_TARGET_LEN = 223
#: Keys whose values are secrets: never accepted on a command line.
SECRET_KEY_RE = re.compile(r"\.password(?:_in)?\Z")

_MODES: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    # mode: (options taking a value, switches, -o operations)
    # No -n/-v but an iface's: a node record's settings and a discovery
    # record's CHAP are written by the daemon (write_node_settings,
    # write_discovery_auth, only what the driver sets), never through an
    # iscsiadm -o update a caller could point at any key (a discovery
    # record's use_discoveryd makes iscsid poll the portal forever).
    "node": (frozenset({"-T", "-p", "-I", "-o"}),
             frozenset({"--login", "--logout"}),
             frozenset({"new", "delete", "show"})),
    "iface": (frozenset({"-I", "-o", "-n", "-v"}), frozenset(),
              frozenset({"new", "delete", "update", "show"})),
    "discovery": (frozenset({"-t", "-p", "-I", "-o"}), frozenset(),
                  frozenset()),
    # -o new makes the record write_discovery_auth fills; --discover
    # reads it, -o nonpersistent only.
    "discoverydb": (frozenset({"-t", "-p", "-I", "-o"}),
                    frozenset({"--discover"}), frozenset({"new"})),
}
#: ``-o nonpersistent``: discovery lists targets and writes no node
#: record.  A modifier of the discovery, not an action of its own.
NONPERSISTENT = "nonpersistent"
_ACTIONS = frozenset({"-o", "--login", "--logout", "--discover"})
#: What an action of each mode must name, so that it reaches the one
#: record (or session) the library made for a volume and never all of
#: them: ``-m node --logout`` alone logs every session out.  ``-o show``
#: of a node (a query of its portal groups) needs no iface.
_REQUIRED = {"node": ("-T", "-p", "-I"), "iface": ("-I",),
             "discovery": ("-t", "-p", "-I", NONPERSISTENT),
             "discoverydb": ("-t", "-p", "-I")}


#: A refusal quotes what it refused; past this the reason is cut, so a
#: huge argument cannot make a huge error (sent back and logged).
MAX_REASON = 400


def refuse(operation: str, reason: str) -> exception.PrivilegedRequestRefused:
    if len(reason) > MAX_REASON:
        reason = reason[:MAX_REASON - 3] + "..."
    return exception.PrivilegedRequestRefused(operation, reason)


def byte_length(value: str) -> int | None:
    """``value``'s length in UTF-8 bytes, what open-iscsi counts; None if
    it cannot be encoded (a lone surrogate)."""
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def disk(operation: str, name: object) -> str:
    """A SCSI disk's kernel name, ``sdX`` only."""
    if not isinstance(name, str) or not DISK_RE.match(name):
        raise refuse(operation, "%r is not a SCSI disk name (sdX)" % (name,))
    return name


def device_path(operation: str, path: object) -> str:
    """A device path under ``/dev`` that may be read; the part after
    ``/dev/``."""
    match = _READ_DEV_RE.match(path) if isinstance(path, str) else None
    if match is None:
        raise refuse(operation, "%r is not a disk, dm map or udev link of "
                     "one under /dev" % (path,))
    return match.group(1)


def host_number(operation: str, host: object) -> int:
    if isinstance(host, bool) or not isinstance(host, int) or \
            not 0 <= host < 2 ** 31:
        raise refuse(operation, "%r is not a SCSI host number" % (host,))
    return host


def hctl(operation: str, value: object) -> str:
    """``"C T L"``: channel, target and LUN, each a number.  Never the
    ``-`` wildcard: the library scans one LUN of one session's target, and
    a wildcard would make the kernel probe every target and LUN of the
    host."""
    if not isinstance(value, str):
        raise refuse(operation, "%r is not a 'channel target lun' triple"
                     % (value,))
    parts = value.split(" ")
    if len(parts) != 3 or not all(_HCTL_PART_RE.match(p) for p in parts) \
            or any(int(p) >= 2 ** 64 for p in parts):
        raise refuse(operation, "%r is not a 'channel target lun' triple "
                     "of numbers" % (value,))
    return value


def target(operation: str, value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_TARGET_LEN or \
            not _TARGET_RE.match(value) or ".." in value:
        raise refuse(operation, "%r is not an iSCSI target name" % (value,))
    return value


def portal(operation: str, value: object) -> str:
    if not isinstance(value, str) or not _PORTAL_RE.match(value):
        raise refuse(operation, "%r is not a portal (address:port)"
                     % (value,))
    return value


def iface_name(operation: str, value: object) -> str:
    if isinstance(value, str) and _CONTROL_RE.search(value):
        raise refuse(operation, "the iface name contains a control "
                     "character")
    try:
        return iface_mod.validate_name(value)  # type: ignore[arg-type]
    except exception.InvalidInput as error:
        raise refuse(operation, error.message) from None


def map_name(operation: str, value: object) -> str:
    if not isinstance(value, str) or not _MAP_RE.match(value):
        raise refuse(operation, "%r is not a multipath map name" % (value,))
    return value


def timeout(operation: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or \
            not 1 <= value <= 3600:
        raise refuse(operation, "timeout %r is not 1 to 3600 seconds"
                     % (value,))
    return value


# -- iscsiadm ---------------------------------------------------------------

_DISCOVERY_TYPES = frozenset({"sendtargets"})


def _option_value(operation: str, mode: str, option: str,
                  value: str) -> None:
    """Check the value of one iscsiadm option (``-T``, ``-o``, ...; the
    ``-n``/``-v`` pairs are checked together by :func:`iface_setting`)."""
    if option == "-T":
        target(operation, value)
    elif option == "-p":
        portal(operation, value)
    elif option == "-I":
        iface_name(operation, value)
    elif option == "-t" and value not in _DISCOVERY_TYPES:
        raise refuse(operation, "%r is not an allowed discovery type"
                     % (value,))
    elif option == "-o" and value not in _MODES[mode][2]:
        raise refuse(operation, "-m %s takes no -o %r" % (mode, value))


# -- iface settings ---------------------------------------------------------

#: IFNAMSIZ (linux/if.h) is 16 with the NUL.
MAX_NETDEV_LEN = 15
#: ISCSI_TRANSPORT_NAME_MAXLEN (open-iscsi usr/config.h) is 16 with the NUL.
MAX_TRANSPORT_LEN = 15
_TRANSPORT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\Z")


@functools.lru_cache(maxsize=1)
def transport_names() -> frozenset[str]:
    """The open-iscsi transport names of the installed transport plugins.

    ``iface.transport_name`` is never free text: at the next discovery or
    login through the iface, root iscsiadm loads the kernel module of that
    name.  Only plugins installed on the host (by root) name one, each
    checked the way the plugin manager checks it (a
    :class:`~iscsi_transports.base.Transport` whose ``name`` is its entry
    point's); read once per daemon.
    """
    from stevedore import extension
    manager: extension.ExtensionManager[object] = \
        extension.ExtensionManager(
            base.ENTRY_POINT_GROUP, invoke_on_load=False,
            on_load_failure_callback=lambda *_: None)
    return frozenset(
        ext.name for ext in manager
        if isinstance(ext.plugin, type) and
        issubclass(ext.plugin, base.Transport) and
        getattr(ext.plugin, "name", None) == ext.name)


def _transport(value: str) -> bool:
    return len(value) <= MAX_TRANSPORT_LEN and \
        bool(_TRANSPORT_RE.match(value)) and value in transport_names()


def _hwaddress(value: str) -> bool:
    return iface_mod.is_hwaddress(value) and value != "00:00:00:00:00:00"


def _address(value: str) -> bool:
    """An IPv4 or IPv6 address in the canonical form the library writes
    (no zone: open-iscsi's ``iface.ipaddress`` has none)."""
    try:
        return str(ipaddress.ip_address(value)) == value and "%" not in value
    except ValueError:
        return False


def _netdev(value: str) -> bool:
    """A network interface name the kernel accepts (``dev_valid_name``):
    1 to 15 bytes, not ``.`` or ``..``, no ``/``, ``:`` or white space."""
    size = byte_length(value)
    return size is not None and 0 < size <= MAX_NETDEV_LEN and \
        value not in (".", "..") and \
        not re.search(r"[/:\s]", value)


def _initiator_name(value: str) -> bool:
    size = byte_length(value)
    return size is not None and size <= MAX_TARGET_LEN and \
        portal_mod.is_target_name(value)


#: The iface keys the plugins set (:meth:`iscsi_transports.iface.Iface.
#: settable_fields`), each with its grammar and what the refusal says.
IFACE_SETTINGS: dict[str, tuple[Callable[[str], bool], str]] = {
    "iface.transport_name": (_transport, "the transport name of an "
                             "installed transport plugin"),
    "iface.hwaddress": (_hwaddress, "a MAC address in lower-case colon "
                        "form"),
    "iface.ipaddress": (_address, "an IPv4 or IPv6 address in canonical "
                        "form"),
    "iface.net_ifacename": (_netdev, "a network interface name (1 to %d "
                            "bytes, no '/', ':' or white space)"
                            % MAX_NETDEV_LEN),
    "iface.initiatorname": (_initiator_name, "an iSCSI name (iqn., eui. "
                            "or naa.) of at most %d bytes" % MAX_TARGET_LEN),
}


def iface_key(operation: str, key: object) -> str:
    if not isinstance(key, str) or key not in IFACE_SETTINGS:
        raise refuse(operation, "%r is not an iface setting the library "
                     "writes (%s)" % (key, ", ".join(sorted(IFACE_SETTINGS))))
    return key


def iface_setting(operation: str, key: str, value: object) -> str:
    """One ``-n key -v value`` pair of an iface update; the refusal names
    the key and its rule, never the value."""
    check, rule = IFACE_SETTINGS[iface_key(operation, key)]
    if not isinstance(value, str) or _CONTROL_RE.search(value) or \
            not check(value):
        raise refuse(operation, "%s must be %s" % (key, rule))
    return value


def iscsiadm_args(args: Sequence[object]) -> list[str]:
    """iscsiadm's arguments, if they have a shape the library builds.

    ``-m MODE`` first, then options of that mode each with a checked value
    (``-n``/``-v`` pairs only after ``-o update``, secrets never), at most
    one action (``-o``, ``--login``, ``--logout``, ``--discover``), and
    each action bound to one record by the options :data:`_REQUIRED`
    names.  Without an action only the listings ``-m node`` and ``-m
    iface`` are allowed.  As strict as the rootwrap filter this replaces:
    the daemon runs whatever passes as root.
    """
    operation = "run iscsiadm"
    if not isinstance(args, (list, tuple)) or \
            not all(isinstance(a, str) for a in args):
        raise refuse(operation, "arguments must be a list of strings")
    argv = list(args)  # type: ignore[arg-type]
    if len(argv) < 2 or argv[0] != "-m" or argv[1] not in _MODES:
        raise refuse(operation, "arguments must start with -m and one of "
                     "%s" % ", ".join(sorted(_MODES)))
    mode = argv[1]
    options, switches, _ = _MODES[mode]
    seen: list[str] = []
    operations: list[str] = []
    key: str | None = None
    rest = argv[2:]
    while rest:
        word = rest.pop(0)
        if word in switches:
            seen.append(word)
            continue
        if word not in options or not rest:
            raise refuse(operation, "%r is not an allowed iscsiadm %s "
                         "option" % (word, mode))
        value = rest.pop(0)
        if word == "-o" and value == NONPERSISTENT and \
                mode in ("discovery", "discoverydb"):
            seen.append(NONPERSISTENT)
            continue
        if word == "-o" and mode == "discovery":
            raise refuse(operation, "-m discovery takes only -o %s"
                         % NONPERSISTENT)
        if word == "-o" and mode == "node" and value == "update":
            raise refuse(operation, "-m node -o update: node settings "
                         "are written into the record by the daemon, never "
                         "passed to iscsiadm")
        if word == "-n":
            key = iface_key(operation, value)
        elif word == "-v":
            if key is None:
                raise refuse(operation, "-v must follow -n")
            iface_setting(operation, key, value)
            key = None
        else:
            _option_value(operation, mode, word, value)
        seen.append(word)
        if word == "-o":
            operations.append(value)
    _check_structure(operation, seen, operations == ["update"])
    _check_required(operation, mode, seen, operations)
    if mode == "discoverydb" and \
            (NONPERSISTENT in seen) != ("--discover" in seen):
        raise refuse(operation, "--discover goes only with -o %s (a "
                     "discovery that writes no node record), and -o %s only "
                     "with --discover" % (NONPERSISTENT, NONPERSISTENT))
    return argv


def _check_structure(operation: str, seen: list[str],
                     is_update: bool) -> None:
    """Each option once (``-n``/``-v`` pairs aside), one action at most,
    pairs only and always with ``-o update``."""
    singles = [w for w in seen if w not in ("-n", "-v")]
    if len(singles) != len(set(singles)):
        raise refuse(operation, "an option is given twice")
    if len([w for w in seen if w in _ACTIONS]) > 1:
        raise refuse(operation, "more than one action")
    pairs = [w for w in seen if w in ("-n", "-v")]
    if pairs != ["-n", "-v"] * (len(pairs) // 2) or len(pairs) % 2:
        raise refuse(operation, "-n and -v must come in pairs")
    if bool(pairs) != is_update:
        raise refuse(operation, "-o update needs -n/-v pairs, and only it "
                     "takes them")


def _check_required(operation: str, mode: str, seen: list[str],
                    operations: list[str]) -> None:
    """Each action names its one record; no action, no option (a
    listing)."""
    acts = [w for w in seen if w in _ACTIONS]
    if not acts and mode in ("node", "iface"):
        if seen:
            raise refuse(operation, "-m %s without an action takes no "
                         "options" % mode)
        return
    if not acts and mode == "discoverydb":
        raise refuse(operation, "-m discoverydb needs an action")
    needed = _REQUIRED[mode]
    if mode == "node" and operations == ["show"]:
        needed = ("-T", "-p")
    missing = [w for w in needed if w not in seen]
    if missing:
        action = ("-o " + operations[0] if operations else
                  " ".join(acts) or "sendtargets")
        raise refuse(operation, "-m %s %s needs %s" % (
            mode, action,
            ", ".join("-o " + w if w == NONPERSISTENT else w
                      for w in missing)))


# -- multipath --------------------------------------------------------------

def multipath_args(args: Sequence[object]) -> list[str]:
    """``-f MAP`` (flush a map), ``-a WWID`` (let multipathd build a map
    for it), ``-c DEV``, ``-ll [MAP|DEV]`` or ``-r``."""
    operation = "run multipath"
    argv = _strings(operation, args)
    if argv in (["-r"], ["-ll"]):
        return argv
    if len(argv) == 2 and argv[0] in ("-f", "-a"):
        map_name(operation, argv[1])
        return argv
    if len(argv) == 2 and argv[0] == "-c" and _MPATH_DEV_RE.match(argv[1]):
        return argv
    if len(argv) == 2 and argv[0] == "-ll" and (
            _MPATH_DEV_RE.match(argv[1]) or _MAP_RE.match(argv[1])):
        return argv
    raise refuse(operation, "%r is not an allowed multipath command"
                 % " ".join(argv))


def multipathd_args(args: Sequence[object]) -> list[str]:
    """``add path sdX``, ``del path sdX``, ``resize map MAP``, ``show maps``,
    ``show paths``, ``show config`` or ``reconfigure``."""
    operation = "run multipathd"
    argv = _strings(operation, args)
    if argv in (["show", "maps"], ["show", "paths"], ["show", "config"],
                ["reconfigure"]):
        return argv
    if len(argv) == 3 and argv[:2] in (["add", "path"], ["del", "path"]):
        disk(operation, argv[2])
        return argv
    if len(argv) == 3 and argv[:2] == ["resize", "map"]:
        map_name(operation, argv[2])
        return argv
    raise refuse(operation, "%r is not an allowed multipathd command"
                 % " ".join(argv))


def _strings(operation: str, args: Sequence[object]) -> list[str]:
    if not isinstance(args, (list, tuple)) or \
            not all(isinstance(a, str) for a in args):
        raise refuse(operation, "arguments must be a list of strings")
    return [str(a) for a in args]


# -- CHAP settings ----------------------------------------------------------

#: The auth keys of each record kind, as ``-o update -n`` names them.
AUTH_FIELDS = ("authmethod", "username", "password", "username_in",
               "password_in")
NODE_AUTH_PREFIX = "node.session.auth."
DISCOVERY_AUTH_PREFIX = "discovery.sendtargets.auth."


#: The node-record settings the daemon writes besides CHAP (what the driver
#: sets on the records it makes), each with the values it may take: a
#: choice of words open-iscsi accepts, or a decimal count of seconds or
#: attempts.
_COUNT_RE = re.compile(r"^[0-9]{1,9}\Z")
NODE_SETTINGS: dict[str, frozenset[str] | re.Pattern[str]] = {
    # Only what the driver sets: a caller that could make a record start
    # at boot, or scan every LUN, would reach beyond its volume.
    "node.startup": frozenset({"manual"}),
    "node.session.scan": frozenset({"manual"}),
    "node.conn[0].timeo.login_timeout": _COUNT_RE,
    "node.session.initial_login_retry_max": _COUNT_RE,
    "node.session.timeo.replacement_timeout": _COUNT_RE,
    "node.conn[0].timeo.noop_out_interval": _COUNT_RE,
    "node.conn[0].timeo.noop_out_timeout": _COUNT_RE,
}


def node_settings(operation: str, settings: object) -> dict[str, str]:
    """Node-record settings other than CHAP: only :data:`NODE_SETTINGS`'s
    keys, each with a value of its shape (open-iscsi would otherwise read
    back a default, or a number ``strtoul`` made of text)."""
    if not isinstance(settings, dict):
        raise refuse(operation, "node settings must be a mapping")
    for key, value in settings.items():
        allowed = NODE_SETTINGS.get(key) if isinstance(key, str) else None
        if allowed is None:
            raise refuse(operation, "%r is not a node setting the daemon "
                         "writes (%s, or node.session.auth.*)"
                         % (key, ", ".join(sorted(NODE_SETTINGS))))
        if not isinstance(value, str) or not (
                value in allowed if isinstance(allowed, frozenset)
                else allowed.match(value)):
            raise refuse(operation, "%s must be %s" % (
                key, " or ".join(sorted(allowed))
                if isinstance(allowed, frozenset) else
                "a number of at most 9 digits"))
    return dict(settings)


def auth(operation: str, prefix: str, settings: object) -> dict[str, str]:
    """CHAP settings for one record: full key names under ``prefix``.

    ``authmethod`` is required (``CHAP`` or ``None``); every other value
    must be one open-iscsi stores and reads back unchanged
    (:func:`iscsi_transports.chap.problem`: at most 255 UTF-8 bytes, no
    control character, no surrounding white space).  Messages name the
    key, never the value.
    """
    if not isinstance(settings, dict) or not settings:
        raise refuse(operation, "CHAP settings must be a non-empty mapping")
    allowed = {prefix + field for field in AUTH_FIELDS}
    for key, value in settings.items():
        if key not in allowed:
            raise refuse(operation, "%r is not one of %s" % (
                key, ", ".join(sorted(allowed))))
        if key != prefix + "authmethod" and chap.problem(value):
            raise refuse(operation, "%s %s" % (key, chap.problem(value)))
    if settings.get(prefix + "authmethod") not in ("CHAP", "None"):
        raise refuse(operation, "%sauthmethod must be CHAP or None" % prefix)
    return dict(settings)
