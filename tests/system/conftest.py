import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from q53d import ZONES, Q53d  # noqa: E402


@pytest.fixture
def q53d_factory():
    """Start q53d processes; every one is stopped (by PID) at teardown and
    must exit cleanly (exit 0: no sanitizer report)."""
    started = []

    def start(zones, **kw):
        s = Q53d(zones, **kw)
        started.append(s)
        return s

    yield start
    bad = []
    for s in started:
        rc = s.stop()
        out = s.output()
        s.cleanup()
        if rc != 0:
            bad.append((s.args, rc, out))
    assert not bad, f"q53d exited uncleanly: {bad}"
