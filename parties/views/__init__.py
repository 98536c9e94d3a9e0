"""Pages of the parties app, one module per area."""
