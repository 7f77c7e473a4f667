"""Who may act, and for whom: the credentials consentgate issues and checks.

* ``tokens`` — subject tokens and visitor ids (signed strings; no I/O);
* ``secrets`` — where the token secrets come from (a setting, else one generated into the database);
* ``apikeys`` — API keys with scopes, and the server's short-lived cache of lookups;
* ``identity`` — identifiers linked to one person (aliases).

Storage goes through ``consentgate.store``; the HTTP layer (401/403, headers) is ``server/auth.py``.
Importing this package loads nothing: ``auth.tokens`` is what the client and a site's backend need,
and it must not pull in a database driver.
"""
