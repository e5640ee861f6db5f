"""The iscsiadm layer: running commands, exit codes, output parsers and iface records on disk."""
