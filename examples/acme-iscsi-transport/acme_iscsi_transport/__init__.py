"""Example out-of-tree transport plugin for iscsi-transports."""
