"""Operator support: the doctor checklist and host snapshots."""
