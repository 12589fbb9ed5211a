"""Exit 0 when the named local service answers on its usual port, 1 otherwise.

Used by the Makefile and the test suite to tell "not installed here" from "broken"."""

import socket
import sys

PORTS = {"postgres": 5432, "redis": 6379}


def is_up(name: str, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", PORTS[name]), timeout=timeout):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if is_up(sys.argv[1]) else 1)
