"""The root GraphQL schema (the API itself lives in enrollments.graphql).

`auto_camelcase=False`: every name is spelled as the contract spells it (see
enrollments.graphql.types for the naming rule). Every mutation field is retried on a deadlock or
a serialization failure (enrollments.retry); each one runs in its own transactions
(`ATOMIC_MUTATIONS` is off in settings).
"""

import graphene

from enrollments.graphql.mutations import Mutation
from enrollments.graphql.queries import Query
from enrollments.retry import retry_mutations

schema = graphene.Schema(query=Query, mutation=Mutation, auto_camelcase=False)
retry_mutations(schema.graphql_schema)
