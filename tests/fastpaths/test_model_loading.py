"""Fast path `model_loading` (enrollments/fastpaths/model_loading.py): instances loaded without
Model.__init__ behave as Django's own loaded ones. Every test runs with the fast path on and
off (the `fast_paths` fixture): the same instances either way."""

import pytest
from django.db import models

from enrollments.fastpaths.model_loading import FAST_PATH, LoadedWithoutInit, check
from enrollments.models import Enrollment
from lms.models import Course, CourseItem, User
from tests.factories import CourseItemFactory, EnrollmentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_paths")]

MODELS = [Enrollment, Course, CourseItem, User]


def _django_loaded(model, pk):
    """The same row through Django's default from_db (Model.from_db, with __init__)."""
    names = [f.attname for f in model._meta.concrete_fields]
    (row,) = model.objects.filter(pk=pk).values_list(*names)
    return models.Model.from_db.__func__(model, "default", names, row)


@pytest.fixture
def enrollment():
    item = CourseItemFactory()
    return EnrollmentFactory(course=item.course)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_models_read_in_bulk_use_the_mixin(model):
    assert issubclass(model, LoadedWithoutInit)
    assert model.from_db.__func__ is LoadedWithoutInit.from_db.__func__


def test_the_signature_check_passes_on_the_installed_django():
    assert check() is None
    assert FAST_PATH.mismatch is None


def test_off_it_is_djangos_own_from_db(enrollment, monkeypatch):
    """Off, every row goes through Model.__init__ (seen by counting its calls)."""
    calls = []
    original = models.Model.__init__

    def counting(self, *args, **kwargs):
        calls.append(type(self))
        original(self, *args, **kwargs)

    monkeypatch.setattr(models.Model, "__init__", counting)
    Enrollment.objects.get(pk=enrollment.pk)
    assert calls == ([] if FAST_PATH.enabled else [Enrollment])


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_loaded_row_equals_djangos_own_instance(enrollment, model):
    pk = {
        Enrollment: enrollment.pk,
        Course: enrollment.course_id,
        CourseItem: CourseItem.objects.filter(course=enrollment.course).first().pk,
        User: enrollment.user_id,
    }[model]
    ours = model.objects.get(pk=pk)
    theirs = _django_loaded(model, pk)
    assert type(ours) is model
    assert {k: v for k, v in vars(ours).items() if k != "_state"} == {
        k: v for k, v in vars(theirs).items() if k != "_state"
    }
    assert (ours._state.adding, ours._state.db) == (False, "default")
    assert ours.get_deferred_fields() == set()


def test_deferred_columns_are_absent_and_load_when_read(enrollment):
    loaded = Course.objects.only("title").get(pk=enrollment.course_id)
    assert loaded.get_deferred_fields() == {
        f.attname for f in Course._meta.concrete_fields if f.name not in ("id", "title")
    }
    assert loaded.slug == enrollment.course.slug  # one query, as with Django's own instances


def test_a_loaded_instance_saves_as_an_update_and_refreshes(enrollment):
    loaded = Enrollment.objects.get(pk=enrollment.pk)
    loaded.total_paused_duration = 42
    loaded.save(update_fields=["total_paused_duration"])
    assert Enrollment.objects.count() == 1
    loaded.refresh_from_db()
    assert loaded.total_paused_duration == 42


def test_related_rows_joined_by_select_related_are_cached(enrollment, django_assert_num_queries):
    with django_assert_num_queries(1):
        loaded = Enrollment.objects.select_related("course", "user").get(pk=enrollment.pk)
        assert (loaded.course.title, loaded.user.email) == (
            enrollment.course.title,
            enrollment.user.email,
        )
        assert loaded.user.name  # a property of the model reads the loaded columns
