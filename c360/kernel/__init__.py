"""The kernel: helpers every app shares (text and parameter parsing, API plumbing, roles, settings
history, task leases). It imports no app and none of the project's wiring (DESIGN.md, layers);
`make lint` checks that with import-linter."""
