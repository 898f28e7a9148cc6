"""Helpers shared by the tests (and the benchmarks in bench/), one room per job:

- factories: model factories, the small city, crew members, the `World` with its incidents driven
  through the real services, incidents written as rows for the statistics;
- figures, dashboard_day: hand-built incident sets whose figures the tests work out by hand;
- concurrency: racing threads (`race`), an async scenario in a thread of its own (`run`);
- api: the HTTP API of a live server (`Api`), DRF's in-process client (`api`);
- ws: a patrol app's socket against a live daphne, the consumers in-process;
- procs: real processes (daphne, Celery, redis-server) and manage.py in a fresh process;
- marks: the marks of tests whose servers share the test database;
- browser: Playwright and the live daphne of the browser tests;
- pages: reading rendered HTML.

Test modules import helpers from here only, never from another test module or another package's
conftest.py; fixtures come from the conftest.py files (tests/conftest.py for the shared ones).
"""
