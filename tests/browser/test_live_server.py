"""The browser tests' own server: a connection Chromium drops never leaves a file open."""

from __future__ import annotations

import gc
import socket
import struct
import sys
import time
from urllib.parse import urlsplit


def test_a_dropped_static_download_leaves_no_file_open(live_server, monkeypatch):
    unraisable: list = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    address = urlsplit(live_server)
    for attempt in range(60):
        connection = socket.create_connection((address.hostname, address.port))
        connection.sendall(b"GET /static/css/app.css HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.001 * (attempt % 4))
        # A reset, as a cancelled load: the server's next read fails.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
    time.sleep(0.5)
    gc.collect()
    assert [hook.object for hook in unraisable] == []
