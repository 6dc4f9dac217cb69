"""Stand-ins for steps of graphql-core's ExecutionContext, for the tests of the code that leans
on them (the GraphQL short path's check, the response-size limit's check)."""


def reshaped_step(self, *args, incremental_data_record=None):
    """A step of graphql-core 3.3's shape (its execution gained deferred and streamed parts):
    never called, the checks read its signature."""
    raise AssertionError("not called")


def reversing_lists(context_class):
    """A complete_list_value answering each list `context_class` completes, reversed: the same
    parameters, another behaviour."""
    original = context_class.complete_list_value

    def reversed_lists(self, return_type, field_nodes, info, path, result):
        return original(self, return_type, field_nodes, info, path, result)[::-1]

    return reversed_lists
