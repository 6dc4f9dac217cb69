"""Without Chromium the browser tests skip with the reason, except in CI where they fail."""

import pytest

from tests.browser.conftest import _unavailable


def test_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("PLAYWRIGHT_REQUIRED", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        _unavailable("no Chromium at /usr/bin/chromium")


def test_fails_when_required(monkeypatch):
    monkeypatch.setenv("PLAYWRIGHT_REQUIRED", "1")
    with pytest.raises(pytest.fail.Exception, match="required here .* but no Chromium"):
        _unavailable("no Chromium at /usr/bin/chromium")
