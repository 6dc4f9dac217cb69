"""config/urls.py imports the GraphQL endpoint's view at its first call (graphql_view): what
Django's middleware reads of a view must be on that stand-in as on ApiView's own."""

from django.urls import resolve

from config.urls import api_view, graphql_view
from enrollments.graphql.views import ApiView


def test_the_endpoint_s_stand_in_carries_the_attributes_of_apiview_s_view():
    real = ApiView.as_view()
    # What as_view() adds for the view's own use (its class, its arguments, what it wraps).
    attributes = set(vars(real)) - {"view_class", "view_initkwargs", "__wrapped__"}
    assert attributes == {"csrf_exempt"}  # a new one: the stand-in must carry it too
    assert {name: getattr(graphql_view, name, None) for name in attributes} == {
        name: getattr(real, name) for name in attributes
    }


def test_both_paths_are_the_stand_in_and_it_calls_apiview():
    assert resolve("/graphql/").func is graphql_view
    assert resolve("/graphql").func is graphql_view
    assert api_view().view_class is ApiView
