#!/usr/bin/python3
"""Misbehaving SMTP peers for `ehlo probe`'s interop tests (no MTA ships these behaviours).

--mode starttls-keep: a server vulnerable to STARTTLS command injection (CVE-2011-0411). The
  plaintext pipelined after STARTTLS stays in its input buffer across the TLS handshake
  (RFC 3207 §4.2 says to discard it) and is answered inside TLS; QUIT is then not answered:
  the connection closes instead.
--mode silent: accepts connections and never writes a byte (no greeting), reading until the
  client goes away.

Listens on 127.0.0.1:PORT (0 = any free port) and prints "PORT <n>" once ready. Runs until killed.

Usage: probe_peer.py --mode MODE [--port PORT] [--cert PEM --key KEY]
"""

import argparse
import select
import socket
import ssl
import sys
import threading

NAME = b"peer.test"


def read_line(conn, buf):
    """One CRLF-terminated line from conn (buf holds what was read past it); None at EOF."""
    while b"\r\n" not in buf:
        data = conn.recv(4096)
        if not data:
            return None, buf
        buf += data
        if len(buf) > 65536:
            return None, buf
    line, _, rest = buf.partition(b"\r\n")
    return line, rest


def answer(line):
    """The reply to one command line (QUIT is the caller's business)."""
    verb = line.split(b" ", 1)[0].upper()
    if verb in (b"EHLO", b"HELO"):
        return b"250-" + NAME + b"\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
    if verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
        return b"250 2.0.0 Ok\r\n"
    return b"500 5.5.2 unknown command\r\n"


def starttls_keep(conn, tls):
    conn.sendall(b"220 " + NAME + b" ESMTP\r\n")
    buf = b""
    while True:
        line, buf = read_line(conn, buf)
        if line is None:
            return
        verb = line.split(b" ", 1)[0].upper()
        if verb == b"QUIT":
            conn.sendall(b"221 2.0.0 Bye\r\n")
            return
        if verb != b"STARTTLS":
            conn.sendall(answer(line))
            continue
        # Whatever the client pipelined after STARTTLS arrives before our 220 (its ClientHello
        # only follows the 220): collect it, so the injection does not depend on segmenting.
        while select.select([conn], [], [], 0.3)[0]:
            data = conn.recv(4096)
            if not data:
                return
            buf += data
        conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
        conn = tls.wrap_socket(conn, server_side=True)
        break
    # The bug: `buf` still holds the plaintext, and is read as if it came inside TLS.
    while True:
        line, buf = read_line(conn, buf)
        if line is None:
            return
        if line.split(b" ", 1)[0].upper() == b"QUIT":
            # Close instead of answering QUIT.
            return
        conn.sendall(answer(line))


def silent(conn, _tls):
    while conn.recv(4096):
        pass


def serve(handler, conn, tls):
    try:
        handler(conn, tls)
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["starttls-keep", "silent"], required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert")
    p.add_argument("--key")
    a = p.parse_args()
    tls = None
    if a.mode == "starttls-keep":
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(a.cert, a.key)
    handler = starttls_keep if a.mode == "starttls-keep" else silent
    lsn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind(("127.0.0.1", a.port))
    lsn.listen(16)
    print(f"PORT {lsn.getsockname()[1]}", flush=True)
    sys.stdout.close()
    while True:
        conn, _ = lsn.accept()
        threading.Thread(target=serve, args=(handler, conn, tls), daemon=True).start()


if __name__ == "__main__":
    main()
