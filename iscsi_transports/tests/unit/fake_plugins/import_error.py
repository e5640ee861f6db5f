"""A plugin module that cannot be imported."""

raise ImportError("vendor SDK libacme.so is missing")
