"""The admin's own pages are marked for translation (issue 26 item 9): no user-visible English
left outside Django's gettext in the admin modules (enrollments/admin/, apikeys/admin.py, the
template tags) and their templates (enrollments/, apikeys/ and config/ templates; not the API's
GraphiQL page). A lint, so a string added later unmarked fails here rather than showing up in
English on a German page.

1. Templates: each is read with Django's own template `Lexer`, so what a user sees is told from
   what the template language does. The text between tags (outside `{% comment %}`,
   `{% blocktranslate %}` and the blocks that are not text, NOT_TEXT_BLOCKS; <style>, <script>,
   HTML tags, comments and entities taken out) must hold no letters; the attributes people
   read (title, aria-label, placeholder, alt, the preview cards' data-label, a button's value)
   must be `{% translate %}` or a variable, never literal words; and a literal handed on as
   words (`{% firstof "Why" %}`, an include's `with heading="..."`, `|default:"..."`,
   `|yesno:"..."`) is refused too.
2. Python: an `ast` walk finds a plain str literal or f-string containing letters in a
   user-facing position: messages (`messages.*(request, ...)`, `message_user`), the admin's
   display and action descriptions, form labels, help texts and errors (`ValidationError`,
   `add_error`), verbose names, list filters' titles and choices, page titles and words handed
   to the templates; a call to `gettext`/`ngettext`/`pgettext` (lazy or not) is marked. A msgid
   must also be a literal (never an f-string, a concatenation or a `.format()`): a translator
   must see the whole sentence.

Real exceptions are in ALLOWED_TEMPLATE_TEXT / ALLOWED_PYTHON, each with why. The tests' own
checks are shown to catch an unmarked string (test_the_lint_*), so a lint that silently passes
everything would fail here.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType

from tests.translation import GETTEXT_FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent.parent

TEMPLATE_DIRS = ("enrollments/templates", "apikeys/templates", "config/templates")
#: The API's GraphiQL page, not the admin's (its words are GraphiQL's own).
NOT_ADMIN_TEMPLATES = {"enrollments/templates/enrollments/graphiql.html"}
PYTHON_FILES = ("enrollments/admin/*.py", "apikeys/admin.py", "enrollments/templatetags/*.py")

#: Blocks whose content is not words: CSS (`page_style` fills a <style> element of the page it
#: extends) and the <body>'s CSS classes (`bodyclass`, Django's admin block).
NOT_TEXT_BLOCKS = {"page_style", "bodyclass"}

#: Literal template text that is not words to translate: (template, text).
ALLOWED_TEMPLATE_TEXT: set[tuple[str, str]] = {
    # Data keys handed to an include, not words: the preview table's kind is its CSS class and
    # the key that picks its last column (preview_table.html).
    ("enrollments/templates/admin/enrollments/enrollment/includes/plan_preview.html", "changed"),
    ("enrollments/templates/admin/enrollments/enrollment/includes/plan_preview.html", "skipped"),
}

#: Python strings in a user-facing position that are not words: (file, the string). None so
#: far: every such string of the admin is marked.
ALLOWED_PYTHON: set[tuple[str, str]] = set()

GETTEXT = GETTEXT_FUNCTIONS
#: Keyword arguments whose value people read (Django's, and the project's own page words).
USER_KEYWORDS = {
    "description",
    "short_description",
    "label",
    "help_text",
    "verbose_name",
    "verbose_name_plural",
    "title",
    "empty_label",
    "empty_value_display",
    "search_help_text",
    "intro",
    "button",
    "heading",
    "header",
    "will",
    "will_heading",
    "unchanged",
    "done",
    "done_one",
    "subtitle",
}
#: Class attributes people read.
USER_ATTRIBUTES = {
    "title",
    "short_description",
    "empty_value_display",
    "search_help_text",
    "site_header",
    "site_title",
    "index_title",
}
#: Context keys people read (a page's title, subtitle, intro, button).
USER_CONTEXT_KEYS = {"title", "subtitle", "intro", "button"}
MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error"}
#: Calls whose nth positional argument is words: the project's own constructors of words.
POSITIONAL_WORDS = {"zoned": 1, "Offer": 0, "ValidationError": 0, "add_error": 1}

LETTERS = re.compile(r"[A-Za-z]")


# -- templates ------------------------------------------------------------------------------


def _templates() -> list[Path]:
    found = []
    for folder in TEMPLATE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.html")):
            if path.relative_to(ROOT).as_posix() not in NOT_ADMIN_TEMPLATES:
                found.append(path)
    return found


MARK = "\x00"  # a template tag or variable: not literal text


def template_stream(text: str) -> tuple[str, list[str]]:
    """The template as a user would see its literal text: every tag, variable and comment
    replaced by MARK, the text of `{% comment %}`, `{% blocktranslate %}` and NOT_TEXT_BLOCKS
    too. Also the literal arguments of tags that pass words on (firstof, include's `with`,
    default and yesno)."""
    out: list[str] = []
    literals: list[str] = []
    skipping: str | None = None  # the end tag awaited
    for token in Lexer(text).tokenize():
        content = token.contents.strip()
        if token.token_type == TokenType.BLOCK:
            name = content.split()[0] if content else ""
            if skipping is not None:
                if name == skipping:
                    skipping = None
                out.append(MARK)
                continue
            if name == "comment":
                skipping = "endcomment"
            elif name in {"blocktranslate", "blocktrans"}:
                skipping = "endblocktranslate" if name == "blocktranslate" else "endblocktrans"
            elif name == "block" and content.split()[1:2] and content.split()[1] in NOT_TEXT_BLOCKS:
                skipping = "endblock"
            literals.extend(_passed_literals(content))
            out.append(MARK)
        elif token.token_type == TokenType.VAR:
            if skipping is None:
                literals.extend(_passed_literals(content))
            out.append(MARK)
        elif token.token_type == TokenType.TEXT and skipping is None:
            out.append(token.contents)
        else:
            out.append(MARK)
    return "".join(out), literals


_QUOTED = r"(?:\"([^\"]*)\"|'([^']*)')"


def _passed_literals(content: str) -> Iterator[str]:
    """The literal strings a tag or variable hands on as words."""
    name = content.split()[0] if content.split() else ""
    if name in {"translate", "trans", "load", "url", "extends", "block", "static"}:
        return
    if name == "firstof":
        for match in re.finditer(_QUOTED, content):
            yield match.group(1) if match.group(1) is not None else match.group(2)
    if name == "include":
        for match in re.finditer(r"\b\w+=" + _QUOTED, content):
            yield match.group(1) if match.group(1) is not None else match.group(2)
    for match in re.finditer(r"\|(?:default|yesno):" + _QUOTED, content):
        yield match.group(1) if match.group(1) is not None else match.group(2)


#: Attributes whose value people read or hear.
READ_ATTRIBUTES = re.compile(
    r"""\b(title|aria-label|placeholder|alt|data-label)\s*=\s*"([^"]*)\"""", re.IGNORECASE
)
BUTTON_VALUE = re.compile(r"""<input\b[^>]*\btype="(?:submit|button|reset)"[^>]*>""", re.IGNORECASE)


def template_problems(relative: str, text: str) -> list[str]:
    stream, literals = template_stream(text)
    problems = []
    for name, value in READ_ATTRIBUTES.findall(stream):
        if LETTERS.search(value):
            problems.append(f'{relative}: {name}="{value.replace(MARK, "…")}"')
    for tag in BUTTON_VALUE.findall(stream):
        value = re.search(r"""\bvalue="([^"]*)\"""", tag)
        if value and LETTERS.search(value.group(1)):
            problems.append(f'{relative}: button value="{value.group(1)}"')
    visible = re.sub(r"<(style|script)\b.*?</\1>", MARK, stream, flags=re.DOTALL | re.IGNORECASE)
    visible = re.sub(r"<!--.*?-->", MARK, visible, flags=re.DOTALL)
    visible = re.sub(r"<[^>]*>", MARK, visible)
    visible = re.sub(r"&(?:#\d+|#x[0-9a-fA-F]+|\w+);", MARK, visible)
    for piece in visible.split(MARK):
        words = " ".join(piece.split())
        if LETTERS.search(words):
            problems.append(f"{relative}: text {words!r}")
    for literal in literals:
        if LETTERS.search(literal) and (relative, literal) not in ALLOWED_TEMPLATE_TEXT:
            problems.append(f"{relative}: literal {literal!r} passed on as words")
    return problems


def test_every_admin_template_is_marked_for_translation():
    templates = _templates()
    assert len(templates) >= 25, templates  # the walk found the admin's templates
    problems = [
        problem
        for path in templates
        for problem in template_problems(
            path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
        )
    ]
    assert not problems, "unmarked:\n" + "\n".join(problems)


def test_a_template_using_translate_loads_i18n():
    """`{% load i18n %}` is not inherited through `{% extends %}` or `{% include %}`."""
    missing = [
        path.relative_to(ROOT).as_posix()
        for path in _templates()
        if re.search(r"{%\s*(block)?trans(late)?\b", text := path.read_text(encoding="utf-8"))
        and not re.search(r"{%\s*load\b[^%]*\bi18n\b", text)
    ]
    assert missing == []


def test_the_lint_finds_unmarked_template_text():
    sample = (
        "{% load i18n %}{% comment %}Not shown{% endcomment %}<style>.a { color: red; }</style>"
        '<p title="Shown">{% translate "Marked" %} Unmarked &rsaquo; {{ value }}</p>'
        '<input type="submit" value="Save"><td data-label="{% translate "Course" %}">'
        "{% blocktranslate with n=count %}{{ n }} marked{% endblocktranslate %}"
        '{% firstof "Why" as column %}{% include "x.html" with heading="Will be skipped" %}'
        '{{ name|default:"(unnamed)" }}'
    )
    assert template_problems("sample.html", sample) == [
        'sample.html: title="Shown"',
        'sample.html: button value="Save"',
        "sample.html: text 'Unmarked'",
        "sample.html: literal 'Why' passed on as words",
        "sample.html: literal 'Will be skipped' passed on as words",
        "sample.html: literal '(unnamed)' passed on as words",
    ]


# -- Python ---------------------------------------------------------------------------------


def _python_files() -> list[Path]:
    return sorted(path for pattern in PYTHON_FILES for path in ROOT.glob(pattern))


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def unmarked(node: ast.AST | None) -> str | None:
    """The English of `node` when it is literal words people would read unmarked: a str
    literal or f-string with letters, or one built from them; None when it is marked (a
    gettext call), a variable, or holds no letters."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if LETTERS.search(node.value) else None
    if isinstance(node, ast.JoinedStr):
        text = "".join(
            part.value if isinstance(part, ast.Constant) else "{…}" for part in node.values
        )
        return text if LETTERS.search(text.replace("{…}", "")) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return unmarked(node.left) or (
            unmarked(node.right) if isinstance(node.op, ast.Add) else None
        )
    if isinstance(node, ast.IfExp):
        return unmarked(node.body) or unmarked(node.orelse)
    if isinstance(node, ast.BoolOp):
        return next((found for value in node.values if (found := unmarked(value))), None)
    if isinstance(node, ast.Call):
        name = _call_name(node)
        if name in GETTEXT:
            return None
        if (
            isinstance(node.func, ast.Attribute)
            and name in {"format", "join"}
            and isinstance(node.func.value, ast.Constant)
        ):
            return unmarked(node.func.value)
        if name in {"format_html", "mark_safe"} and node.args:
            return _html_words(node.args[0])
        return None
    if isinstance(node, ast.Tuple | ast.List):
        return next((found for element in node.elts if (found := unmarked(element))), None)
    return None


def _html_words(node: ast.AST) -> str | None:
    """The words of an HTML template literal (format_html's), tags and placeholders left out."""
    text = unmarked(node)
    if text is None:
        return None
    words = re.sub(r"<[^>]*>|\{[^}]*\}|&\w+;", " ", text)
    return text if LETTERS.search(words) else None


def _choice_labels(node: ast.AST) -> Iterator[ast.AST]:
    """The labels of `(value, "Label")` pairs in a choices list (or a comprehension of them)."""
    if isinstance(node, ast.List | ast.Tuple):
        for element in node.elts:
            if isinstance(element, ast.Tuple) and len(element.elts) == 2:
                yield element.elts[1]
            elif isinstance(element, ast.Starred):
                yield from _choice_labels(element.value)
            else:
                yield from _choice_labels(element)
    elif isinstance(node, ast.ListComp) and isinstance(node.elt, ast.Tuple):
        if len(node.elt.elts) == 2:
            yield node.elt.elts[1]
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _choice_labels(node.left)
        yield from _choice_labels(node.right)


def python_problems(relative: str, source: str) -> list[str]:
    tree = ast.parse(source)
    found: list[tuple[int, str, str]] = []

    def check(node: ast.AST | None, where: str) -> None:
        text = unmarked(node)
        if text is not None and (relative, text) not in ALLOWED_PYTHON:
            found.append((getattr(node, "lineno", 0), where, text))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "messages"
                and name in MESSAGE_LEVELS | {"add_message"}
            ):
                at = 2 if name == "add_message" else 1
                check(node.args[at] if len(node.args) > at else None, f"messages.{name}")
            if name == "message_user" and len(node.args) > 1:
                check(node.args[1], "message_user")
            if name in POSITIONAL_WORDS and len(node.args) > POSITIONAL_WORDS[name]:
                check(node.args[POSITIONAL_WORDS[name]], name)
            for keyword in node.keywords:
                if keyword.arg in USER_KEYWORDS:
                    check(keyword.value, f"{keyword.arg}=")
                if keyword.arg == "choices":
                    for label in _choice_labels(keyword.value):
                        check(label, "choices")
            if name in GETTEXT and node.args:
                msgid = node.args[0 if not name.startswith(("pgettext", "npgettext")) else 1]
                if isinstance(msgid, ast.JoinedStr | ast.BinOp) or (
                    isinstance(msgid, ast.Call) and _call_name(msgid) == "format"
                ):
                    found.append((node.lineno, f"{name}() of a built string", ast.unparse(msgid)))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                attribute = (
                    target.id
                    if isinstance(target, ast.Name)
                    else target.attr
                    if isinstance(target, ast.Attribute)
                    else None
                )
                if attribute in USER_ATTRIBUTES:
                    check(node.value, attribute)
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.slice, ast.Constant)
                    and target.slice.value in USER_CONTEXT_KEYS
                ):
                    check(node.value, f"[{target.slice.value!r}]")
                if (
                    isinstance(target, ast.Name)
                    and target.id.endswith("_LABELS")
                    and isinstance(node.value, ast.Dict)
                ):
                    for value in node.value.values:
                        check(value, target.id)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in USER_CONTEXT_KEYS:
                    check(value, f"{{{key.value!r}: ...}}")
        elif isinstance(node, ast.FunctionDef) and node.name == "lookups":
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    for label in _choice_labels(inner.value):
                        check(label, "lookups()")
    return [f"{relative}:{line}: {where} {text!r}" for line, where, text in sorted(found)]


def test_every_admin_module_marks_its_words_for_translation():
    files = _python_files()
    assert len(files) >= 30, files  # the walk found the admin's modules
    problems = [
        problem
        for path in files
        for problem in python_problems(
            path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
        )
    ]
    assert not problems, "unmarked:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('messages.success(request, "Done.")', "messages.success 'Done.'"),
        ('messages.success(request, f"Done {n}.")', "messages.success 'Done {…}.'"),
        ("self.message_user(request, 'Gone', messages.ERROR)", "message_user 'Gone'"),
        ('admin.display(description="when")', "description= 'when'"),
        ('forms.CharField(label=_("Reason"), help_text="Why")', "help_text= 'Why'"),
        ('forms.ValidationError("Bad")', "ValidationError 'Bad'"),
        ("class F:\n    title = 'course'", "title 'course'"),
        ("forms.ChoiceField(choices=[('a', 'Apple')])", "choices 'Apple'"),
        ("def lookups(self, r, m):\n    return [('yes', 'Paused')]", "lookups() 'Paused'"),
        ('{"title": "Jobs"}', "{'title': ...} 'Jobs'"),
        ('messages.info(request, format_html("<a>Restore</a>"))', "messages.info '<a>Restore</a>'"),
        ('_(f"Done {n}")', "_() of a built string"),
    ],
)
def test_the_lint_finds_unmarked_python(source, expected):
    problems = python_problems("sample.py", source)
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize(
    "source",
    [
        'messages.success(request, _("Done."))',
        'messages.success(request, ngettext("%(n)s row", "%(n)s rows", n) % {"n": n})',
        "admin.display(description=gettext_lazy('when'))",
        "messages.info(request, text)",
        'format_html("<span class={}>{}</span>", css, value)',
        "forms.ChoiceField(choices=[('a', _('Apple'))])",
    ],
)
def test_the_lint_passes_marked_python(source):
    assert python_problems("sample.py", source) == []
