"""`python -m bench --fastpaths-off`: every process the benchmark measures (itself, its gunicorn
servers, its bulk worker, which all inherit its environment) runs with FASTPATHS_DISABLED=all,
and the figures say which fast paths were on."""

import os

import pytest

from bench import environment
from bench.__main__ import _fastpaths, _parser

URL = "postgres://postgres@127.0.0.1:5432/bench_flag"


@pytest.fixture
def environ(monkeypatch) -> dict[str, str]:
    """os.environ as a copy for the test: configure's changes go nowhere else."""
    copy = dict(os.environ)
    copy.pop("FASTPATHS_DISABLED", None)
    monkeypatch.setattr(os, "environ", copy)
    return copy


def test_the_flag_is_parsed():
    assert _parser().parse_args(["--fastpaths-off"]).fastpaths_off is True
    assert _parser().parse_args([]).fastpaths_off is False


def test_the_flag_sets_every_fast_path_off_for_every_process(environ):
    values = environment.configure(URL, fastpaths_off=True)
    assert values["FASTPATHS_DISABLED"] == environ["FASTPATHS_DISABLED"] == "all"


def test_without_the_flag_the_environment_decides(environ):
    assert "FASTPATHS_DISABLED" not in environment.configure(URL)
    assert "FASTPATHS_DISABLED" not in environ
    environ["FASTPATHS_DISABLED"] = "graphql_short_path"
    environment.configure(URL)
    assert environ["FASTPATHS_DISABLED"] == "graphql_short_path"


def test_the_figures_say_which_fast_paths_ran(environ, settings):
    environ["FASTPATHS_DISABLED"] = "all"
    settings.FASTPATHS_DISABLED = ["all"]
    found = _fastpaths()
    assert found["disabled"] == "all"
    assert found["enabled"] and not any(found["enabled"].values())
    settings.FASTPATHS_DISABLED = []
    assert all(_fastpaths()["enabled"].values())
