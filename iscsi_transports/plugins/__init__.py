"""In-tree transport plugins, one module per open-iscsi transport."""
