"""The root GraphQL schema (the API itself lives in enrollments.graphql).

`auto_camelcase=False`: every name is spelled as the contract spells it (see
enrollments.graphql.types for the naming rule).
"""

import graphene

from enrollments.graphql.mutations import Mutation
from enrollments.graphql.queries import Query

schema = graphene.Schema(query=Query, mutation=Mutation, auto_camelcase=False)
