"""The fast-path home's registry (enrollments/fastpaths): FASTPATHS_DISABLED turns fast paths off
at run time, and a signature check that fails logs a WARNING and turns its fast path off, while
requests still work on the public path."""

import logging

import pytest
from django.contrib.auth.models import Permission

from apikeys.models import APIKey
from enrollments import fastpaths
from enrollments.models import Enrollment
from tests.factories import EnrollmentFactory, StaffFactory
from tests.subprocesses import run_manage

pytestmark = pytest.mark.django_db

NAMES = ("model_loading", "graphql_short_path")
PAGE = "{ courseMemberships(first: 5) { edges { node { id created_at ended_at } } } }"


@pytest.fixture
def restored():
    """Puts every fast path's check, result and state back as they were."""
    saved = {
        name: (path.check, path.mismatch, path.checked, path.enabled)
        for name, path in fastpaths.REGISTRY.items()
    }
    yield
    for name, (check, mismatch, checked, enabled) in saved.items():
        path = fastpaths.REGISTRY[name]
        path.check, path.mismatch, path.checked = check, mismatch, checked
        path.set_enabled(enabled)


def test_every_fast_path_is_registered_checked_and_on_by_default(settings):
    settings.FASTPATHS_DISABLED = []  # the default, whatever the suite runs with (CI: all)
    assert set(NAMES) <= set(fastpaths.REGISTRY)
    fastpaths.load()  # the DEFERRED ones, as their user's import does
    for name in NAMES:
        path = fastpaths.REGISTRY[name]
        assert path.checked and path.mismatch is None and path.enabled, name


@pytest.mark.parametrize("name", NAMES)
def test_the_setting_turns_one_off_and_back(settings, name):
    settings.FASTPATHS_DISABLED = [name]
    assert not fastpaths.enabled(name)
    assert all(fastpaths.enabled(other) for other in NAMES if other != name)
    settings.FASTPATHS_DISABLED = []
    assert fastpaths.enabled(name)


def test_all_turns_every_one_off(settings):
    settings.FASTPATHS_DISABLED = ["all"]
    assert not any(fastpaths.enabled(name) for name in fastpaths.REGISTRY)


def test_the_environment_variable_is_the_setting(monkeypatch):
    """config/settings.py reads FASTPATHS_DISABLED from the environment, comma-separated."""
    import environ

    monkeypatch.setenv("FASTPATHS_DISABLED", "model_loading,graphql_short_path")
    assert environ.Env().list("FASTPATHS_DISABLED", default=[]) == list(NAMES)


def test_an_unknown_name_is_logged(settings, caplog):
    with caplog.at_level(logging.WARNING, logger="enrollments.fastpaths"):
        settings.FASTPATHS_DISABLED = ["model_loadin"]  # a typo
    assert "FASTPATHS_DISABLED names unknown fast paths: model_loadin" in caplog.text
    assert all(fastpaths.enabled(name) for name in NAMES)


def test_a_failed_check_cannot_be_switched_on(restored):
    path = fastpaths.REGISTRY["model_loading"]
    path.mismatch = "a mismatch"
    with pytest.raises(ValueError, match="model_loading"), fastpaths.switched([path.name], on=True):
        pass


def _rechecked(caplog) -> str:
    with caplog.at_level(logging.WARNING, logger="enrollments.fastpaths"):
        for path in fastpaths.REGISTRY.values():
            path.checked = False
        fastpaths.setup()
    return caplog.text


def test_a_changed_model_state_switches_model_loading_off_with_a_warning(
    restored, monkeypatch, caplog
):
    """Django's ModelState grew an attribute __init__ sets: the instances would differ."""
    from django.db.models import base

    class GrownState(base.ModelState):
        def __init__(self):
            super().__init__()
            self.origin = "loaded"

    monkeypatch.setattr(base, "ModelState", GrownState)
    logged = _rechecked(caplog)
    assert "fast path 'model_loading' switched off: Django's ModelState carries" in logged
    assert not fastpaths.enabled("model_loading")
    monkeypatch.undo()  # Django back as it was; the fast path stays off until checked again
    enrollment = EnrollmentFactory()
    assert Enrollment.objects.get(pk=enrollment.pk).pk == enrollment.pk


def test_a_raising_check_is_a_mismatch(restored, caplog):
    def broken():
        raise AttributeError("module 'django.db.models.base' has no attribute 'x'")

    fastpaths.REGISTRY["model_loading"].check = broken
    logged = _rechecked(caplog)
    assert "fast path 'model_loading' switched off: the check raised AttributeError" in logged
    assert not fastpaths.enabled("model_loading")


def test_requests_work_with_every_check_failed(restored, client, caplog):
    for path in fastpaths.REGISTRY.values():
        path.check = lambda: "a dependency upgraded past what this fast path knows"
    logged = _rechecked(caplog)
    assert all(f"fast path {name!r} switched off" in logged for name in NAMES)
    enrollment = EnrollmentFactory()
    viewer = StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_enrollment"))
    _api_key, raw_key = APIKey.objects.create_key(user=viewer)
    response = client.post(
        "/graphql/",
        {"query": PAGE},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw_key}",
    )
    assert response.status_code == 200
    body = response.json()
    (edge,) = body["data"]["courseMemberships"]["edges"]
    assert edge["node"]["id"] == str(enrollment.pk)
    assert edge["node"]["ended_at"] == enrollment.ended_at.isoformat()


#: Printed by a process of its own: what a command's start-up imported and checked, then the
#: same after importing the web server's entry point (gunicorn config.wsgi).
STARTUP = """
import sys
from enrollments import fastpaths
short_path = fastpaths.REGISTRY["graphql_short_path"]
heavy = ("enrollments.fastpaths.graphql_short_path", "config.schema")
imported = [m for m in heavy if m in sys.modules]
print(short_path.checked, short_path.enabled, imported)
import config.wsgi
print(short_path.checked, short_path.enabled, short_path.mismatch)
"""


def test_a_command_does_not_check_the_graphql_short_path_the_web_server_does():
    """The GraphQL short path is DEFERRED: a command's start-up knows it by name (the setting
    can name it) without importing it or the schema; the web server's start-up imports and
    checks it, so that a mismatch is logged before the first request."""
    # The default setting, whatever the suite runs with (CI's PostgreSQL suite: all off).
    result = run_manage("shell", "--no-imports", "-c", STARTUP, DEBUG="true", FASTPATHS_DISABLED="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["False True []", "True True None"]
