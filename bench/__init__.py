"""The benchmark of issue 6: one million enrollments on PostgreSQL, measured through the project's
own code and its real HTTP stack (gunicorn on 127.0.0.1).

Run it with `python -m bench` (see `python -m bench --help` and docs/benchmarks.md). It builds
its data set in a database of its own (`bench` by default), never in one the app or the tests
use.
"""
