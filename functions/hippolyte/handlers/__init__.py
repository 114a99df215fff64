"""Lambda handlers: one module per state, each a few lines of glue around a workflow step."""
