"""tests/services/services.sh, which `make test` sources: the throwaway Redis it starts keeps
nothing on disk, answers on loopback, and is gone with its directory once stopped."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "tests/services/services.sh"


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_the_throwaway_redis_persists_nothing_and_is_removed_when_stopped():
    script = f"""
        set -euo pipefail
        . {SCRIPT}
        redis_start
        echo "$TEST_REDIS_URL"
        echo "$REDIS_TMP"
        redis-cli -u "$TEST_REDIS_URL" ping
        redis-cli -u "$TEST_REDIS_URL" config get save
        redis-cli -u "$TEST_REDIS_URL" config get appendonly
        redis_stop
        echo "after:${{TEST_REDIS_URL:-unset}}"
    """
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    url, directory, pong, *settings, after = done.stdout.split("\n")[:-1]
    address = urlsplit(url)
    assert (address.scheme, address.hostname, address.path) == ("redis", "127.0.0.1", "/0")
    assert pong == "PONG"
    assert settings == ["save", "", "appendonly", "no"]
    assert after == "after:unset"
    assert not Path(directory).exists()
    with socket.socket() as probe:  # the server is gone: nothing listens on its port any more
        assert probe.connect_ex(("127.0.0.1", address.port)) != 0
