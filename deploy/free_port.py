"""A free loopback port for a server that another process (or a later step) binds.

Port 0 hands out a port from the kernel's ephemeral range (`net.ipv4.ip_local_port_range`), the range it also
takes outgoing connections' source ports from. On a busy machine a client connection can take such a port
between the probe and the server's bind ("address already in use"). Ports below that range are never given
to outgoing connections, so a port probed there stays free unless another server binds it on purpose."""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 10000


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host: str = "127.0.0.1") -> int:
    highest = max(LOWEST + 1, _ephemeral_start() - 1)
    pick = random.SystemRandom()
    for _ in range(200):
        port = pick.randint(LOWEST, highest)
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:   # everything below the range taken: the kernel's choice
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
