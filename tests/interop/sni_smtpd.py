#!/usr/bin/python3
"""STARTTLS SMTP server that picks its certificate by the client's SNI, for ehlo's interop suite.

Postfix (tls_server_sni_maps) and Exim (tls_certificate expanded on $tls_in_sni) do the same: a
name listed with --sni gets its own certificate chain, any other name (or none) the default one.
Each handshake's SNI is printed on stdout ("sni NAME" or "sni -"), so a test can tell what was
sent. The tests use it to see which certificate a DANE sender and `ehlo check` are shown.

Run with Debian's /usr/bin/python3 (python3-aiosmtpd is installed for that interpreter only).
Listens on loopback only; stops cleanly on SIGTERM/SIGINT.

  sni_smtpd.py --listen 127.0.0.8:2525 --cert DEFAULT-CHAIN.pem --key KEY.pem \
      --sni mx.example.test=OTHER-CHAIN.pem:OTHER-KEY.pem
"""

import argparse
import asyncio
import ipaddress
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    """Accept every message and drop it (the tests stop after EHLO)."""

    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def context_for(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="IPv4 loopback address:port")
    parser.add_argument("--cert", required=True, help="default certificate chain (PEM)")
    parser.add_argument("--key", required=True, help="its key (PEM)")
    parser.add_argument(
        "--sni", action="append", default=[], help="NAME=CHAIN.pem:KEY.pem (repeatable)"
    )
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit("sni_smtpd: refusing to listen on a non-loopback address")

    default = context_for(args.cert, args.key)
    by_name = {}
    for spec in args.sni:
        name, files = spec.split("=", 1)
        cert, key = files.split(":", 1)
        by_name[name.lower().rstrip(".")] = context_for(cert, key)

    def pick(ssl_obj, server_name, _context):
        print(f"sni {server_name or '-'}", flush=True)
        chosen = by_name.get((server_name or "").lower().rstrip("."))
        if chosen is not None:
            ssl_obj.context = chosen
        return None

    default.sni_callback = pick
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Sink(), hostname="sni.ehlo.test", tls_context=default),
        host=host,
        port=int(port),
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"sni_smtpd listening on {host}:{port}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
