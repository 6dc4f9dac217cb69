"""The root GraphQL schema (the API itself lives in enrollments.graphql).

`auto_camelcase=False`: every name is spelled as the contract spells it (see
enrollments.graphql.types for the naming rule). Every mutation field is retried on a deadlock or
a serialization failure (enrollments.retry); each one runs in its own transactions
(`ATOMIC_MUTATIONS` is off in settings).

The memberships' root fields are enrollments.graphql.queries / .mutations; webhook management
(enrollments.graphql.webhooks, Healthie's names) and the audit log (enrollments.graphql.audit_log,
Healthie's `auditLog`) are added to them here.
"""

import graphene

from enrollments.graphql import audit_log, webhooks
from enrollments.graphql.mutations import Mutation as MembershipMutation
from enrollments.graphql.queries import Query as MembershipQuery
from enrollments.retry import retry_mutations


class Query(MembershipQuery):
    webhooks = webhooks.webhooks_field()
    audit_log = audit_log.audit_log_field()


class Mutation(MembershipMutation):
    create_webhook = webhooks.create_webhook_field()
    update_webhook = webhooks.update_webhook_field()
    delete_webhook = webhooks.delete_webhook_field()
    send_test_webhook = webhooks.send_test_webhook_field()
    expire_webhook_signature = webhooks.expire_webhook_signature_field()


schema = graphene.Schema(query=Query, mutation=Mutation, auto_camelcase=False)
retry_mutations(schema.graphql_schema)
