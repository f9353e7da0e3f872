"""The async transport shares SSL contexts between clients (loading a CA bundle costs tens of
milliseconds per client otherwise), and a bundle changed on disk is loaded again."""

from __future__ import annotations

import os
import shutil
import ssl
from pathlib import Path

import certifi

from midil_async._transport import _ssl_context


def test_clients_with_the_same_settings_share_one_context() -> None:
    first = _ssl_context(True, None)
    assert isinstance(first, ssl.SSLContext)
    assert _ssl_context(True, None) is first
    assert _ssl_context(False, None) is False


def test_a_bundle_changed_on_disk_is_loaded_again(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    shutil.copy(certifi.where(), bundle)
    first = _ssl_context(str(bundle), None)
    assert _ssl_context(str(bundle), None) is first
    stat = bundle.stat()
    os.utime(bundle, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = _ssl_context(str(bundle), None)
    assert isinstance(again, ssl.SSLContext) and again is not first
