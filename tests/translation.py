"""What the translation lints (tests/test_marked_for_translation.py for the commands, e-mails,
models and core phrases; tests/admin/test_admin_marked_for_translation.py for the admin) share:
the names of Django's gettext functions, whose call marks a string for the catalogue."""

#: A call to one of these (as imported by the project: `_` is `gettext`) marks its strings.
GETTEXT_FUNCTIONS = frozenset(
    {
        "_",
        "gettext",
        "gettext_lazy",
        "gettext_noop",
        "ngettext",
        "ngettext_lazy",
        "pgettext",
        "pgettext_lazy",
        "npgettext",
        "npgettext_lazy",
    }
)
