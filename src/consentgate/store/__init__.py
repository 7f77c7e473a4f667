"""The storage layer for every table outside the event chain: the only package besides ``ledger/``
that imports SQLAlchemy (tests/test_architecture.py enforces it).

One small module per table family, each a set of functions or one store class that takes an
``Engine`` and returns domain values: ``apikeys`` (API keys), ``aliases`` (identifier links),
``secrets`` (``service_secrets``), ``runs`` (training runs and exports), ``requests`` (data-subject
requests and their log), ``suppressions`` (the erasure suppression list), ``sources`` (a policy
source's own SQL table, for erasure), ``snapshots`` (the events a snapshot build reads, as Arrow
columns), ``heads`` (the chain heads the decision cache checks per request), ``lineage`` (filter
runs found by their output's fingerprint), ``rates`` (what the consent-rate reports read, and their
rollup tables). ``engine`` and ``errors`` are the helpers the others share.

The schema and its Alembic migrations stay in ``ledger/`` (``ledger/schema.py``,
``ledger/migrations/``): there is one database and one migration history, and the event chain
(``ledger/store.py``, ``records.py``, ``verify.py``) is most of what uses them. Moving them here would
make ``ledger`` import ``store`` while ``store`` imports the ledger's record chain (links and
suppressions are chained records) — a cycle. So the direction is one way: ``store`` may import
``ledger``; ``ledger`` never imports ``store``. Everything above (``auth``, ``pipeline``,
``requests``, ``server``, ``cli``) calls ``store`` functions and never builds a query itself.
"""
