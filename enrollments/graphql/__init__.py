"""The GraphQL API (one endpoint, /graphql/): the contract's types and mutation, membership
queries with keyset cursors, pause/resume and item completion. See docs/api.md.

An adapter: it parses input, checks permissions, calls the operation core
(enrollments.operations; completing an item: enrollments.progress.completing) or the reads
(enrollments.selectors) and renders their results or their domain errors. It decides no
business rule.
"""
