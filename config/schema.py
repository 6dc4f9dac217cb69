"""The root GraphQL schema (see enrollments.graphql for the API itself)."""

import graphene


class Query(graphene.ObjectType):
    """Placeholder root until the API lands; replaced by enrollments.graphql."""

    api_version = graphene.String(required=True, description="Version of this API")

    @staticmethod
    def resolve_api_version(root, info) -> str:
        return "1"


schema = graphene.Schema(query=Query)
