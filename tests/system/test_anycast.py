"""q53d --anycast on a local 3-node cluster, inside a user + network
namespace the test creates (tests/system/anycast_scenario.py says what is
checked): the addresses go on that namespace's lo only."""
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def namespaces_work():
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    p = subprocess.run(["unshare", "-rn", "ip", "link", "set", "lo", "up"],
                       capture_output=True, timeout=10)
    return p.returncode == 0


@pytest.mark.skipif(not namespaces_work(),
                    reason="unprivileged user + network namespaces unavailable")
def test_anycast_withdraws_when_cut_off():
    p = subprocess.run(["unshare", "-rn", sys.executable,
                        os.path.join(HERE, "anycast_scenario.py")],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ))
    assert p.returncode == 0, p.stdout[-8000:] + p.stderr[-3000:]
    print(p.stdout)
