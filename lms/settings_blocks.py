"""Values built from a block of settings (settings.RATE_LIMIT, settings.IDEMPOTENCY,
settings.GRAPHQL_LIMITS, ...): read once per process, forgotten when one of those settings
changes.

Why one helper: each such reader used to pair `functools.cache` with a `setting_changed`
receiver of its own that cleared it, the same dozen lines in every module. Settings do not
change in a running server, so reading them once saves the look-ups and the parsing per request;
they do change in tests (`override_settings`, pytest-django's `settings` fixture), which send
Django's `setting_changed` signal, and the value must then be built again from the new settings
rather than kept stale.
"""

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed

T = TypeVar("T")


def read_once(*setting_names: str) -> Callable[[Callable[[], T]], Callable[[], T]]:
    """Decorator of a function without arguments whose result depends only on the settings
    named: the result is computed on the first call, kept, and computed again on the call after
    any of `setting_names` changed."""
    if not setting_names:
        raise ValueError("read_once needs the names of the settings the value is built from")

    def decorate(build: Callable[[], T]) -> Callable[[], T]:
        cached = functools.cache(build)

        def forget(*, setting: str, **_kwargs: Any) -> None:
            if setting in setting_names:
                cached.cache_clear()

        # A strong reference: the receiver is a closure nothing else holds, which a weak one
        # (the default) would let the garbage collector disconnect.
        setting_changed.connect(forget, weak=False)
        return cached

    return decorate


def settings_block(name: str) -> Callable[[Callable[[Mapping[str, Any]], T]], Callable[[], T]]:
    """Decorator of a function that builds a value from the block `settings.<name>` (a dict),
    given as its one argument. What it makes takes no argument and returns the value, read
    once (read_once) and again after `settings.<name>` changed: the setting is named once."""

    def decorate(build: Callable[[Mapping[str, Any]], T]) -> Callable[[], T]:
        def read() -> T:
            return build(getattr(settings, name))

        for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
            setattr(read, attribute, getattr(build, attribute))
        return read_once(name)(read)

    return decorate
