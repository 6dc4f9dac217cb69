"""Nothing people read is left out of the catalogue (issue 26 item 9, part B): an `ast` lint of
the management commands and their helpers, the e-mails, the models and the user admin.

A text is "marked" when it is an argument of Django's gettext family (`_`, `gettext`,
`gettext_lazy`, `ngettext`, `pgettext`, ...), or the `%` formatting of such a call. A "literal
text" is a str constant with a word in it (two letters in a row), an f-string with a word in
its literal parts (or in a branch of an expression inside it), or a `+`, `%` or conditional
expression over such pieces. Each check below fails on a literal text where people read it:

- commands (enrollments/management/**, apikeys/management/**, lms/management/**,
  lms/command_options.py): `<anything>.write(<text>)` (self.stdout, self.stderr, a progress
  bar), `CommandError(<text>)`, `argparse.ArgumentTypeError(<text>)`, `help=<text>`,
  `add_argument_group(<text>)`, a class or module attribute named `help` / `*_help` /
  `*_HELP`, a failed row's reason (`RowFailure(...)`, `.failure(<text>)`, `problem=<text>`),
  and `return <text>` from a helper (the labels and phrases the lines are built from), except
  the few functions that return machine text (RETURNS_MACHINE_TEXT);
- e-mails: every literal text inside the functions that write a subject or body
  (EMAIL_FUNCTIONS), dictionary keys, comparisons and format specs aside;
- models: `verbose_name=`, `verbose_name_plural=`, `help_text=`, a field's verbose name given
  as its first argument, a `Meta.verbose_name`, and the label of each TextChoices member;
- the user admin and the language page (lms/admin.py, lms/language.py): `label=`,
  `help_text=`, `description=`, `title=`, `empty_label=`, `verbose_name(_plural)=` and such
  class attributes, `ValidationError(<text>)`, `format_html` arguments, fieldset titles and the
  `(value, label)` pairs of choices.
- the core's words the admin and the commands show (CORE_FILES: the operations, the rules, the
  errors, the webhook URL checks, the privacy module): the text given to an error people read
  (a DomainError, ErasureRefused, a webhook target's refusal, a `Phrase`), its message or its
  operator detail, marked with gettext_noop (the value stays the API's and the logs' English;
  the door translates it); the reasons `targets.refusal` returns; the privacy module's LABELS.

Machine-readable output is not text to translate and never reaches these positions: JSON
(export_learner's document), CSV rows and their column names (access_report's `COLUMNS`,
written by `csv_writer`), ids, fingerprints and command lines (`manage.py jobs show RUN`).
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.translation import GETTEXT_FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent

MARKING = GETTEXT_FUNCTIONS
WORD = re.compile(r"[A-Za-z]{2}")
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
OPTION = re.compile(r"--[a-z][a-z-]*")

COMMAND_FILES = sorted(
    {
        *ROOT.glob("enrollments/management/**/*.py"),
        *ROOT.glob("apikeys/management/**/*.py"),
        *ROOT.glob("lms/management/**/*.py"),
        ROOT / "lms" / "command_options.py",
    }
)
#: Helpers whose return value is machine text: a command line to paste, a command's name.
RETURNS_MACHINE_TEXT = {
    "enrollments/management/run_options.py": {"resume_command"},
    # A CSV cell: ISO 8601, or `indefinite` as the report's readers parse it.
    "enrollments/management/output.py": {"machine_instant"},
}
#: The functions that write an e-mail's subject or body.
EMAIL_FUNCTIONS = {
    "enrollments/reminders.py": {"reminder_text"},
    "enrollments/events/delivery.py": {"disabled_mail", "warning_mail", "_expired_reason", "_days"},
}
MODEL_FILES = ["enrollments/models.py", "apikeys/models.py", "lms/models.py"]
ADMIN_FILES = ["lms/admin.py", "lms/language.py"]

ADMIN_KEYWORDS = {
    "label",
    "help_text",
    "description",
    "short_description",
    "title",
    "empty_label",
    "verbose_name",
    "verbose_name_plural",
    "empty_value_display",
}
ADMIN_ATTRIBUTES = ADMIN_KEYWORDS - {"label", "help_text", "description", "empty_label"}


def _name(node: ast.AST) -> str:
    """The called name: `gettext` of `gettext(...)`, `write` of `self.stdout.write(...)`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def is_marked(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):
        return _name(node.func) in MARKING
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return is_marked(node.left)
    return False


def literal_text(node: ast.AST | None, *, through_calls: bool = True) -> bool:
    """Whether `node` is (or builds from) a literal text that is not marked. `through_calls`:
    a text handed to a helper counts too (`self.style.SUCCESS("Done.")`)."""
    if node is None or is_marked(node):
        return False

    def inner(child: ast.AST | None) -> bool:
        return literal_text(child, through_calls=through_calls)

    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and has_words(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(inner(part) for part in node.values)
    if isinstance(node, ast.FormattedValue):
        return inner(node.value)  # not its format spec (`%Y-%m-%d`, `:g`)
    if isinstance(node, ast.BinOp):
        return inner(node.left) or inner(node.right)
    if isinstance(node, ast.IfExp):
        return inner(node.body) or inner(node.orelse)
    if isinstance(node, ast.BoolOp):
        return any(inner(value) for value in node.values)
    if isinstance(node, ast.Call) and through_calls:
        return any(inner(arg) for arg in node.args)
    return False


def has_words(text: str) -> bool:
    """Whether `text` has a word in a language: option names (`--user`) are not."""
    return bool(WORD.search(OPTION.sub("", text)))


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _where(path: Path, node: ast.AST) -> str:
    return f"{_shown(path)}:{node.lineno}: {ast.unparse(node)[:110]}"


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


# -- the commands -----------------------------------------------------------------------------


def command_offences(path: Path) -> list[str]:
    tree = _parse(path)
    found: list[str] = []
    relative = _shown(path)

    def check(node: ast.AST | None, at: ast.AST, *, through_calls: bool = True) -> None:
        if literal_text(node, through_calls=through_calls):
            found.append(_where(path, at))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = _name(node.func)
            if called in ("write", "CommandError", "ArgumentTypeError", "add_argument_group"):
                check(node.args[0] if node.args else None, node)
            if called in ("RowFailure", "failure"):
                for arg in (*node.args, *(keyword.value for keyword in node.keywords)):
                    check(arg, node)
            for keyword in node.keywords:
                if keyword.arg in ("help", "problem"):
                    check(keyword.value, node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                name = _name(target)
                if name == "help" or name.lower().endswith("_help"):
                    check(node.value, node)
    machine = RETURNS_MACHINE_TEXT.get(relative, set())
    for function in _functions(tree):
        if function.name in machine:
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Return):  # its own text, not a helper's arguments
                check(node.value, node, through_calls=False)
    return found


@pytest.mark.parametrize("path", COMMAND_FILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_line_a_command_writes_for_people_is_marked(path):
    assert command_offences(path) == []


# -- the e-mails ------------------------------------------------------------------------------


def email_offences(path: Path, names: set[str]) -> list[str]:
    tree = _parse(path)
    docstrings = _docstrings(tree)
    found: list[str] = []
    seen: set[str] = set()

    def visit(node: ast.AST) -> None:
        if is_marked(node):
            return
        if isinstance(node, ast.Dict):
            for value in node.values:
                visit(value)
            return
        if isinstance(node, ast.Compare | ast.Subscript):
            return
        if isinstance(node, ast.FormattedValue):
            visit(node.value)
            return
        if (
            isinstance(node, ast.Constant)
            and id(node) not in docstrings
            and isinstance(node.value, str)
            and has_words(node.value)
        ):
            found.append(f"{_shown(path)}:{node.lineno}: {node.value!r}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    for function in _functions(tree):
        if function.name in names:
            seen.add(function.name)
            for statement in function.body:
                visit(statement)
    assert seen == names, f"{path}: no function named {sorted(names - seen)}"
    return found


@pytest.mark.parametrize("path", sorted(EMAIL_FUNCTIONS))
def test_every_sentence_of_an_e_mail_is_marked(path):
    assert email_offences(ROOT / path, EMAIL_FUNCTIONS[path]) == []


# -- the models -------------------------------------------------------------------------------


def _is_choices(node: ast.ClassDef) -> bool:
    return any(_name(base) in ("TextChoices", "IntegerChoices") for base in node.bases)


def model_offences(path: Path) -> list[str]:
    tree = _parse(path)
    found: list[str] = []

    def check(node: ast.AST | None, at: ast.AST) -> None:
        if literal_text(node):
            found.append(_where(path, at))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in ("verbose_name", "verbose_name_plural", "help_text"):
                    check(keyword.value, node)
            called = _name(node.func)
            relation = called in ("ForeignKey", "OneToOneField", "ManyToManyField")
            if called.endswith("Field") and not relation and node.args:
                check(node.args[0], node)
        elif isinstance(node, ast.ClassDef) and _is_choices(node):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple):
                    for label in statement.value.elts[1:]:
                        check(label, statement)
        elif isinstance(node, ast.ClassDef) and node.name == "Meta":
            for statement in node.body:
                if isinstance(statement, ast.Assign) and any(
                    _name(target) in ("verbose_name", "verbose_name_plural")
                    for target in statement.targets
                ):
                    check(statement.value, statement)
    return found


@pytest.mark.parametrize("path", MODEL_FILES)
def test_model_names_help_texts_and_choices_are_marked(path):
    assert model_offences(ROOT / path) == []


def test_every_name_the_admin_shows_of_a_model_is_marked():
    """Each project app's name, each model's names and each field's name, as the admin shows
    them (app list, titles, breadcrumbs, form labels, column headings, filters), are lazy
    translations: a field without a verbose name is labelled with its English attribute name in
    every language. Fields Django makes (an automatic primary key) and Django's own (the
    password, the groups) keep Django's."""
    from django.apps import apps
    from django.utils.functional import Promise

    unmarked = []
    for label in ("lms", "enrollments", "apikeys"):
        config = apps.get_app_config(label)
        if not isinstance(config.verbose_name, Promise):
            unmarked.append(f"{label}: the app's verbose_name")
        for model in config.get_models():
            meta = model._meta
            for option in ("verbose_name", "verbose_name_plural"):
                if not isinstance(getattr(meta, option), Promise):
                    unmarked.append(f"{meta.label}: Meta.{option}")
            for field in meta.get_fields():
                if field.auto_created or not getattr(field, "concrete", False):
                    continue
                if not isinstance(field.verbose_name, Promise):
                    unmarked.append(f"{meta.label}.{field.name}: {field.verbose_name!r}")
    assert unmarked == []


# -- the user admin and the language page -------------------------------------------------------


def admin_offences(path: Path) -> list[str]:
    tree = _parse(path)
    found: list[str] = []

    def check(node: ast.AST | None, at: ast.AST) -> None:
        if literal_text(node):
            found.append(_where(path, at))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in ADMIN_KEYWORDS:
                    check(keyword.value, node)
            called = _name(node.func)
            if called in ("ValidationError", "message_user"):
                check(node.args[0] if node.args else None, node)
            if called == "format_html":
                for arg in node.args[1:]:
                    check(arg, node)
            if _name(getattr(node.func, "value", None)) == "messages" and len(node.args) > 1:
                check(node.args[1], node)
        elif isinstance(node, ast.Assign):
            if any(_name(target) in ADMIN_ATTRIBUTES for target in node.targets):
                check(node.value, node)
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2:
            first, second = node.elts
            if isinstance(second, ast.Dict):  # (title, {"fields": ...})
                check(first, node)
            elif _is_str(first) and not (_is_identifier(first) and _is_identifier(second)):
                check(second, node)  # (value, label), not a pair of field names
    return found


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_identifier(node: ast.AST) -> bool:
    """A field or option name ("first_name"), not a choice's value."""
    return _is_str(node) and bool(IDENTIFIER.fullmatch(node.value))


@pytest.mark.parametrize("path", ADMIN_FILES)
def test_the_user_admin_and_the_language_page_are_marked(path):
    assert admin_offences(ROOT / path) == []


# -- the language page's template ---------------------------------------------------------------

#: The templates of lms (the language page); the admin's own are part A's lint's
#: (tests/admin/test_admin_marked_for_translation.py).
LMS_TEMPLATES = sorted((ROOT / "lms" / "templates").rglob("*.html"))
TAG = re.compile(r"<[^>]*>")
ENTITY = re.compile(r"&[a-zA-Z]+;|&#\d+;")
WORDS_ATTRIBUTE = re.compile(r'\b(?:title|aria-label|placeholder|alt)="([^"{]*[A-Za-z]{2}[^"{]*)"')


def template_offences(path: Path) -> list[str]:
    """Literal words outside `{% translate %}` and variables: the text between tags (comments
    left out) and the words of title, aria-label, placeholder and alt attributes."""
    from django.template.base import Lexer, TokenType

    text = path.read_text(encoding="utf-8")
    found = [f"{_shown(path)}: {value!r}" for value in WORDS_ATTRIBUTE.findall(text)]
    stream, in_comment = [], False
    for token in Lexer(text).tokenize():
        content = token.contents.strip()
        if token.token_type == TokenType.BLOCK:
            in_comment = content == "comment" or (in_comment and content != "endcomment")
            stream.append("\x00")  # a tag: no literal text of its own
        elif token.token_type == TokenType.TEXT and not in_comment:
            stream.append(token.contents)
        else:
            stream.append("\x00")
    visible = ENTITY.sub("", TAG.sub("", "".join(stream)))
    found += [
        f"{_shown(path)}: {words!r}"
        for words in re.findall(r"[^\x00<>]+", visible)
        if WORD.search(words)
    ]
    return found


@pytest.mark.parametrize("path", LMS_TEMPLATES, ids=lambda path: path.name)
def test_the_language_pages_template_is_marked(path):
    assert template_offences(path) == []


# -- the core's words the admin and the commands show --------------------------------------------

CORE_FILES = sorted(
    {
        *ROOT.glob("enrollments/operations/*.py"),
        *ROOT.glob("enrollments/privacy/*.py"),
        ROOT / "enrollments" / "rules.py",
        ROOT / "enrollments" / "errors.py",
        ROOT / "enrollments" / "events" / "targets.py",
        ROOT / "enrollments" / "events" / "endpoints.py",
    }
)
#: Files whose every `return <text>` is words for people (the reasons of a webhook URL refusal).
RETURNS_WORDS = {"enrollments/events/targets.py"}


def words_classes() -> set[str]:
    """The exceptions whose message or detail people read, and the Phrase that carries words to
    the door that translates them."""
    from enrollments import errors
    from enrollments.events import targets
    from enrollments.privacy import ErasureRefused

    found = {"Phrase", ErasureRefused.__name__}
    for base in (errors.DomainError, targets.TargetError):
        pending = [base]
        while pending:
            kind = pending.pop()
            found.add(kind.__name__)
            pending.extend(kind.__subclasses__())
    return found


def core_offences(path: Path, classes: set[str], *, returns_words: bool = False) -> list[str]:
    """`returns_words`: every `return <text>` of the file is words too (RETURNS_WORDS)."""
    tree = _parse(path)
    found: list[str] = []

    def check(node: ast.AST | None, at: ast.AST) -> None:
        if literal_text(node):
            found.append(_where(path, at))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in classes:
            for arg in node.args:
                check(arg, node)
            for keyword in node.keywords:
                if keyword.arg in ("detail", "reason", "message"):
                    check(keyword.value, node)
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign | ast.AnnAssign):
                    targets = (
                        statement.targets
                        if isinstance(statement, ast.Assign)
                        else [statement.target]
                    )
                    if any(_name(target) == "message" for target in targets):
                        check(statement.value, statement)
        elif isinstance(node, ast.Assign) and any(
            _name(target) == "LABELS" for target in node.targets
        ):
            if isinstance(node.value, ast.Dict):
                for value in node.value.values:
                    check(value, node)
        elif isinstance(node, ast.Return) and returns_words:
            check(node.value, node)
    return found


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_the_cores_words_shown_by_the_admin_and_the_commands_are_marked(path):
    returns_words = _shown(path) in RETURNS_WORDS
    assert core_offences(path, words_classes(), returns_words=returns_words) == []


def test_the_core_lint_knows_the_error_classes():
    classes = words_classes()
    assert {"InvalidWebhookUrl", "UnsafeTarget", "ErasureRefused", "BatchNotFound"} <= classes
    assert len(CORE_FILES) >= 20


# -- the lint itself --------------------------------------------------------------------------


def test_the_lint_finds_what_is_unmarked_and_passes_what_is_marked(tmp_path):
    """Each rule catches a real unmarked text and lets its marked form through, so a green run
    means something."""

    def _offences_of(source: str, check) -> list[str]:
        path = tmp_path / "sample.py"
        path.write_text(source, encoding="utf-8")
        return check(path)

    unmarked_command = """
from django.core.management.base import CommandError
class Command:
    help = "Do it."
    def handle(self, n, dry):
        self.stdout.write(f"Queued {n} reminders.")
        self.stdout.write(self.style.SUCCESS("Done."))
        self.stdout.write(("would " if dry else "") + _("remove"))
        raise CommandError(f"--user {n!r}: no user with that e-mail", returncode=2)
def label(email, slug):
    return f"{email} in {slug}"
"""
    marked_command = """
from django.core.management.base import CommandError
class Command:
    help = _("Do it.")
    def handle(self, n, options):
        self.stdout.write(ngettext("Queued %(n)d one.", "Queued %(n)d ones.", n) % {"n": n})
        self.stdout.write(self.style.SUCCESS(gettext("Done.")))
        self.stdout.write(options["dry_run"])
        raise CommandError(gettext("--user %(v)r: no user") % {"v": n}, returncode=2)
def label(email, slug):
    return gettext("%(email)s in %(slug)s") % {"email": email, "slug": slug}
"""
    assert len(_offences_of(unmarked_command, command_offences)) == 6
    assert _offences_of(marked_command, command_offences) == []
    unmarked_models = """
class Kind(models.TextChoices):
    LESSON = "lesson", "Lesson"
class Thing(models.Model):
    name = models.CharField("name", max_length=9, help_text="What it is.")
    class Meta:
        verbose_name = "thing"
"""
    assert len(_offences_of(unmarked_models, model_offences)) == 4
    marked_models = unmarked_models.replace('"Lesson"', '_("Lesson")').replace(
        '"name", max_length=9, help_text="What it is."', '_("name"), max_length=9'
    )
    marked_models = marked_models.replace('verbose_name = "thing"', 'verbose_name = _("thing")')
    assert _offences_of(marked_models, model_offences) == []
    unmarked_mail = """
def write(day):
    \"\"\"Its docstring is no e-mail.\"\"\"
    when = f"{day} at noon"
    if day != "UTC":
        return {"subject": gettext("Hello")}, "Your access ends " + when
"""
    assert len(_offences_of(unmarked_mail, lambda path: email_offences(path, {"write"}))) == 2
    unmarked_admin = """
class A:
    verbose_name = "course role"
    fieldsets = (("Personal info", {"fields": ("a",)}),)
    choices = [("", "Not chosen yet"), ("lesson", "Lesson")]
    fields = ("first_name", "last_name")
    field = forms.ChoiceField(label="Language")
    def show(self):
        return format_html("<a>{}</a>", "Every grant")
"""
    assert len(_offences_of(unmarked_admin, admin_offences)) == 6
    template = tmp_path / "page.html"
    template.write_text(
        "{% load i18n %}{% comment %}Words here are notes.{% endcomment %}"
        '<a href="/" title="Go home">{% translate "Home" %}</a> &rsaquo; Your language',
        encoding="utf-8",
    )
    assert len(template_offences(template)) == 2
    unmarked_core = """
class Refused(DomainError):
    message = "No."
LABELS = {"kept": "rows kept", "gone": gettext_noop("rows deleted")}
def check(key, days):
    if not key:
        raise UserNotFound(f"no learner with e-mail {key}")
    raise UnsafeTarget(Phrase("The URL has no host."))
def refusal(address):
    return "a private address"
"""
    classes = {"DomainError", "UserNotFound", "UnsafeTarget", "Phrase"}
    core = tmp_path / "core.py"
    core.write_text(unmarked_core, encoding="utf-8")
    # message, a label, the f-string detail, the Phrase (twice: in the error's call, and its
    # own), and the refusal's return.
    assert len(core_offences(core, classes, returns_words=True)) == 6
    assert len(core_offences(core, classes)) == 5
    marked_core = unmarked_core.replace('"No."', 'gettext_noop("No.")')
    marked_core = marked_core.replace('"rows kept"', 'gettext_noop("rows kept")')
    marked_core = marked_core.replace(
        'f"no learner with e-mail {key}"',
        'Phrase(gettext_noop("no learner with e-mail %(email)s"), email=key)',
    )
    marked_core = marked_core.replace('("The URL has no host.")', '(gettext_noop("x y"))')
    marked_core = marked_core.replace('"a private address"', 'gettext_noop("a private address")')
    core.write_text(marked_core, encoding="utf-8")
    assert core_offences(core, classes, returns_words=True) == []
