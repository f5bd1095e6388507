#!/usr/bin/python3
"""aiosmtpd behind the PROXY protocol for ehlo's interop suite: records the PROXY source.

Every connection must open with a HAProxy PROXY header, v1 or v2 (aiosmtpd 1.4's
`proxy_protocol_timeout`); the banner comes only after a valid one, and a connection without one
is closed. For message number N it writes <dir>/N.eml (the DATA content as received) and then
<dir>/N.json ({"proxy": {"version", "src_addr", "src_port", "dst_addr", "dst_port"},
"mail_from", "rcpt_tos", "peer", "eml"}), each to a temporary name and renamed, .json last, so a
reader that sees N.json can trust N.eml to be complete.

Run with Debian's /usr/bin/python3 (python3-aiosmtpd is installed for that interpreter only).
Listens on loopback only; stops cleanly on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import sys

from aiosmtpd.smtp import SMTP


class ProxyStoreHandler:
    """Accept any valid PROXY header and every message; store each with the PROXY addresses."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        taken = [int(m.group(1)) for m in (re.fullmatch(r"(\d+)\.eml", f) for f in os.listdir(directory)) if m]
        self.next_number = max(taken, default=0) + 1

    def _write_atomic(self, path: str, data: bytes) -> None:
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)

    async def handle_PROXY(self, server, session, envelope, proxy_data):  # noqa: N802
        return proxy_data.valid

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        n = self.next_number
        self.next_number += 1
        eml = os.path.join(self.directory, f"{n}.eml")
        self._write_atomic(eml, envelope.original_content)
        p = session.proxy_data
        meta = {
            "proxy": {
                "version": p.version,
                "src_addr": str(p.src_addr),
                "src_port": p.src_port,
                "dst_addr": str(p.dst_addr),
                "dst_port": p.dst_port,
            },
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "peer": str(session.peer),
            "eml": eml,
        }
        self._write_atomic(os.path.join(self.directory, f"{n}.json"), json.dumps(meta).encode())
        return f"250 2.0.0 OK stored as {n}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8027)
    parser.add_argument("--dir", default="/tmp/ehlo-interop/aiosmtpd-proxy")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("aiosmtpd_proxy: refusing to listen on a non-loopback address")

    handler = ProxyStoreHandler(args.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="aiosmtpd-proxy.ehlo.test",
            decode_data=False,
            proxy_protocol_timeout=5.0,
        ),
        host=args.host,
        port=args.port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"aiosmtpd_proxy listening on {args.host}:{args.port}, storing in {args.dir}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
