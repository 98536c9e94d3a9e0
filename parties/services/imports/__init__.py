"""Source-file imports: reading files, mapping columns, running jobs, reporting."""
