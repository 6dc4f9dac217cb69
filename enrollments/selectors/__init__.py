"""Reads: every function that reads enrollment state (and the users and courses it names) for a
door or for the core. Nothing here writes.

- access.py       access state of one enrollment, and its SQL twin for querysets
- by_id.py        one row by the id an API argument carries, or the contract's not-found error
- by_key.py       users and courses by what an operator types (id, e-mail address, slug)
- memberships.py  the membership queryset: progress annotations, next items, stale progress
- expiry.py       the access report's and the expiry reminders' queries
- batches.py      the enrollments of an audit batch (what an undo selects)
- audit_log.py    the audit trail (access changes) in a scope, filtered, in keyset pages:
                  the admin's list and the API's auditLog
"""
