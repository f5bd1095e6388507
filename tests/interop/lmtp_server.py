#!/usr/bin/python3
"""LMTP listener on a UNIX-domain socket for ehlo's `--socket` interop test (aiosmtpd's LMTP).

After DATA it answers once per accepted recipient (RFC 2033 §4.2): recipients whose local part
starts with "fail" get `550 5.1.1`, the others `250 2.0.0`. Each message's exact content is stored
as DIR/N.eml. Runs until killed.

Usage: lmtp_server.py --socket PATH --dir DIR
"""

import argparse
import asyncio
import os

from aiosmtpd.lmtp import LMTP


class Handler:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.directory, f"{os.getpid()}-{self.count}.eml")
        with open(path, "wb") as f:
            f.write(envelope.original_content)
        replies = []
        for rcpt in envelope.rcpt_tos:
            if rcpt.split("@")[0].lower().startswith("fail"):
                replies.append(f"550 5.1.1 <{rcpt}> mailbox unavailable")
            else:
                replies.append(f"250 2.0.0 <{rcpt}> delivered")
        # aiosmtpd adds the final CRLF; one line per recipient.
        return "\r\n".join(replies)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    handler = Handler(args.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_unix_server(
        lambda: LMTP(handler, hostname="lmtp.ehlo.test"), path=args.socket
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
