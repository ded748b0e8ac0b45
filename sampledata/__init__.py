"""Sample data for development, the demo and the benchmarks — not part of the running application.

`sampledata.demo` holds each app's demo data (`manage.py seed_demo`, `make demo`); `sampledata.history`
generates months of plausible activity (`seed_demo --history`, the dashboard benchmark). Everything
goes through the apps' models and services; no app imports this package, only management commands,
tests and bench/ do.
"""
