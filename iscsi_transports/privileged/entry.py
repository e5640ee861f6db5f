"""The privsep entry points: what crosses into the root daemon.

Each is a thin shell around the function that checks and does the work, so
the same checks run in the daemon and in process
(:class:`~iscsi_transports.privileged.client.InProcessExecutor`).  Only
plain values cross the socket: strings, numbers, lists, dicts.
"""

from __future__ import annotations

from iscsi_transports.privileged import commands
from iscsi_transports.privileged import context
from iscsi_transports.privileged import records
from iscsi_transports.privileged import scsi


def _plain(result: commands.CommandResult) -> tuple[int, str, str]:
    return result.exit_code, result.stdout, result.stderr


@context.entrypoint
def iscsiadm(args: list[str], timeout: int) -> tuple[int, str, str]:
    return _plain(commands.iscsiadm(args, timeout))


@context.entrypoint
def multipath(args: list[str], timeout: int) -> tuple[int, str, str]:
    return _plain(commands.multipath(args, timeout))


@context.entrypoint
def multipathd(args: list[str], timeout: int) -> tuple[int, str, str]:
    return _plain(commands.multipathd(args, timeout))


@context.entrypoint
def scan_host(host: int, hctl: str) -> None:
    scsi.scan_host(host, hctl)


@context.entrypoint
def rescan_disk(name: str) -> None:
    scsi.rescan_disk(name)


@context.entrypoint
def delete_disk(name: str) -> bool:
    return scsi.delete_disk(name)


@context.entrypoint
def flush_disk(name: str) -> bool:
    return scsi.flush_disk(name)


@context.entrypoint
def read_block(path: str) -> None:
    scsi.read_block(path)


@context.entrypoint
def read_initiator_file() -> str:
    return records.read_initiator_file()


@context.entrypoint
def write_node_settings(target: str, portal: str, iface: str,
                        settings: dict[str, str]) -> None:
    records.write_node_settings(target, portal, iface, settings)


@context.entrypoint
def write_discovery_auth(portal: str, settings: dict[str, str]) -> None:
    records.write_discovery_auth(portal, settings)


@context.entrypoint
def read_node_layout(target: str, portal: str
                     ) -> tuple[list[int], str | None]:
    return records.read_node_layout(target, portal)
