"""A Redis-compatible server in pure Python (fakeredis), for machines without redis-server."""

from __future__ import annotations

import argparse
import logging

from fakeredis import TcpFakeServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = TcpFakeServer((args.host, args.port))
    logging.getLogger(__name__).info("embedded redis listening on %s:%s", args.host, args.port)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
