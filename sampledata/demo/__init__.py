"""The demo data, one module per app (`members`, `courses` …), loaded in layer order by `load`."""
