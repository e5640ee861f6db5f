"""Choosing a transport: plugins, rules, source-IP derivation, network."""
