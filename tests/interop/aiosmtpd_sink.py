#!/usr/bin/python3
"""aiosmtpd sink for ehlo's interop suite: stores every message it accepts, byte-exact.

For message number N it writes <dir>/N.eml (the DATA content exactly as aiosmtpd stores it in
`envelope.original_content`: CRLF line endings kept, dot-stuffing removed per RFC 5321 §4.5.2,
the final ".CRLF" not included) and then <dir>/N.json ({"mail_from", "rcpt_tos", "mail_options",
"rcpt_options", "peer", "eml"}). Both are written to a temporary name and renamed, and the .json
comes last, so a reader that sees N.json can trust N.eml to be complete.

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


class StoreHandler:
    """aiosmtpd handler: accept everything, write each message to disk, answer 250."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        # Continue numbering after whatever an earlier run left, so a restart never overwrites.
        taken = [int(m.group(1)) for m in (re.fullmatch(r"(\d+)\.eml", f) for f in os.listdir(directory)) if m]
        self.next_number = max(taken, default=0) + 1

    def _write_atomic(self, path: str, data: bytes) -> None:
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        n = self.next_number
        self.next_number += 1
        eml = os.path.join(self.directory, f"{n}.eml")
        self._write_atomic(eml, envelope.original_content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options or []),
            "rcpt_options": list(envelope.rcpt_options or []),
            "peer": str(session.peer),
            "eml": eml,
        }
        self._write_atomic(os.path.join(self.directory, f"{n}.json"), json.dumps(meta).encode())
        return f"250 2.0.0 OK stored as {n}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", default="/tmp/ehlo-interop/aiosmtpd")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("aiosmtpd_sink: refusing to listen on a non-loopback address")

    handler = StoreHandler(args.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="aiosmtpd.ehlo.test",
            decode_data=False,  # keep original bytes; no decoding
            enable_SMTPUTF8=True,
        ),
        host=args.host,
        port=args.port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"aiosmtpd_sink listening on {args.host}:{args.port}, storing in {args.dir}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
