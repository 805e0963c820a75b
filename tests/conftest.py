"""Every test starts with an empty results cache of its own, so that no test sees another's (or the user's)."""

import pytest


@pytest.fixture(autouse=True)
def _own_results_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    # Nor asks a `loadlint server --serve-checks` of the user's (its sockets are in the runtime folder).
    for name in ("XDG_RUNTIME_DIR", "LOADLINT_NO_SERVER", "LOADLINT_SERVER_DEBUG"):
        monkeypatch.delenv(name, raising=False)
