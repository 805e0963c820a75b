"""Every test starts with an empty results cache of its own, so that no test sees another's (or the user's)."""

import pytest


@pytest.fixture(autouse=True)
def _own_results_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
