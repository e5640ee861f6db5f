"""Pluggable iSCSI transports (TCP, iSER, offload HBAs) for compute hosts."""
