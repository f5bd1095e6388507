#!/usr/bin/python3
"""aiosmtpd with the SASL mechanisms Postfix/Dovecot cannot give ehlo's interop suite.

Server side of XOAUTH2 (Google/Microsoft), OAUTHBEARER (RFC 7628) and SCRAM-SHA-256
(RFC 5802/7677), written here with hashlib/hmac as aiosmtpd `auth_MECH` handler methods.
STARTTLS is offered and AUTH is advertised only after it (aiosmtpd's auth_require_tls).

Accounts:
  ehlotest / token interop-token-1      XOAUTH2, OAUTHBEARER (a wrong token gets the RFC 7628
                                         JSON error challenge, then 535 5.7.8)
  ehlotest / password interop-secret-1  SCRAM-SHA-256
  badsig   / password interop-secret-1  SCRAM-SHA-256, but the server signature (v=) is wrong
Accepted messages are discarded (250).

Run with Debian's /usr/bin/python3 (python3-aiosmtpd). Loopback only; stops on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, MISSING

USER = "ehlotest"
TOKEN = "interop-token-1"
PASSWORD = "interop-secret-1"
BAD_SIGNATURE_USER = "badsig"
ITERATIONS = 4096
FAIL = "535 5.7.8 Authentication credentials invalid"


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


class AuthHandler:
    """Handler: the three mechanisms, and a sink that accepts every message."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        return "250 2.0.0 OK (discarded)"

    @staticmethod
    async def _first(server, args):
        """The initial response (RFC 4954 §4, `=` means empty), or ask for it with an empty 334."""
        if len(args) > 1:
            if args[1] == "=":
                return b""
            try:
                return base64.b64decode(args[1], validate=True)
            except ValueError:
                await server.push("501 5.5.2 Can't decode base64")
                return MISSING
        return await server.challenge_auth("")

    @staticmethod
    async def _oauth_error(server, scheme_status):
        """RFC 7628 §3.2.2: a 334 carrying the JSON error; the client answers (XOAUTH2: empty,
        OAUTHBEARER: %x01), then the final 535."""
        doc = json.dumps(
            {"status": scheme_status, "schemes": "Bearer", "scope": "https://mail.example.test/"},
            separators=(",", ":"),
        )
        answer = await server.challenge_auth(doc)
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message=FAIL)

    async def auth_XOAUTH2(self, server, args):  # noqa: N802
        blob = await self._first(server, args)
        if blob is MISSING:
            return AuthResult(success=False, handled=True)
        fields = dict(
            part.split("=", 1) for part in blob.decode("utf-8", "replace").split("\x01") if "=" in part
        )
        if fields.get("user") == USER and fields.get("auth") == f"Bearer {TOKEN}":
            return AuthResult(success=True, auth_data=USER)
        return await self._oauth_error(server, "401")

    async def auth_OAUTHBEARER(self, server, args):  # noqa: N802
        blob = await self._first(server, args)
        if blob is MISSING:
            return AuthResult(success=False, handled=True)
        text = blob.decode("utf-8", "replace")
        gs2, _, rest = text.partition("\x01")
        user = next((p[2:] for p in gs2.split(",") if p.startswith("a=")), None)
        fields = dict(p.split("=", 1) for p in rest.split("\x01") if "=" in p)
        if not gs2.startswith(("n,", "y,")) or "host" not in fields:
            return AuthResult(success=False, handled=False, message="501 5.5.2 Malformed OAUTHBEARER message")
        if user in (None, USER) and fields.get("auth") == f"Bearer {TOKEN}":
            return AuthResult(success=True, auth_data=USER)
        return await self._oauth_error(server, "invalid_token")

    async def auth_SCRAM__SHA__256(self, server, args):  # noqa: N802 (aiosmtpd: __ becomes -)
        first = await self._first(server, args)
        if first is MISSING:
            return AuthResult(success=False, handled=True)
        text = first.decode("utf-8", "replace")
        parts = text.split(",", 2)
        if len(parts) != 3 or parts[0] not in ("n", "y"):
            return AuthResult(success=False, handled=False, message="501 5.5.2 Bad SCRAM client-first")
        bare = parts[2]
        attrs = dict(p.split("=", 1) for p in bare.split(",") if "=" in p)
        user, cnonce = attrs.get("n"), attrs.get("r")
        if not user or not cnonce:
            return AuthResult(success=False, handled=False, message="501 5.5.2 Bad SCRAM client-first")
        salt = os.urandom(16)
        nonce = cnonce + base64.b64encode(os.urandom(18)).decode()
        server_first = f"r={nonce},s={base64.b64encode(salt).decode()},i={ITERATIONS}"
        final = await server.challenge_auth(server_first)
        if final is MISSING:
            return AuthResult(success=False, handled=True)
        final = final.decode("utf-8", "replace")
        without_proof, sep, proof_b64 = final.rpartition(",p=")
        fattrs = dict(p.split("=", 1) for p in without_proof.split(",") if "=" in p)
        if not sep or fattrs.get("r") != nonce:
            return AuthResult(success=False, handled=False, message="501 5.5.2 Bad SCRAM client-final")
        salted = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, ITERATIONS)
        client_key = _hmac(salted, b"Client Key")
        stored_key = _h(client_key)
        auth_message = f"{bare},{server_first},{without_proof}".encode()
        client_signature = _hmac(stored_key, auth_message)
        try:
            proof = base64.b64decode(proof_b64, validate=True)
        except ValueError:
            return AuthResult(success=False, handled=False, message="501 5.5.2 Bad SCRAM proof")
        recovered = bytes(a ^ b for a, b in zip(proof, client_signature))
        if user not in (USER, BAD_SIGNATURE_USER) or len(proof) != 32 or _h(recovered) != stored_key:
            return AuthResult(success=False, handled=False, message=FAIL)
        signature = _hmac(_hmac(salted, b"Server Key"), auth_message)
        if user == BAD_SIGNATURE_USER:
            signature = bytes([signature[0] ^ 0xFF]) + signature[1:]
        # server-final in a 334 (RFC 4954 §4); the client answers with an empty line, or "*"
        # when the signature does not verify.
        answer = await server.challenge_auth(f"v={base64.b64encode(signature).decode()}")
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=True, auth_data=user)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--cert", default="/tmp/ehlo-interop/postfix.pem")
    parser.add_argument("--key", default="/tmp/ehlo-interop/postfix.key")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("aiosmtpd_auth: refusing to listen on a non-loopback address")

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    handler = AuthHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="aiosmtpd-auth.ehlo.test",
            tls_context=context,
            auth_require_tls=True,
            # Only the mechanisms written here (aiosmtpd's own PLAIN/LOGIN would need a callback).
            auth_exclude_mechanism=["PLAIN", "LOGIN"],
        ),
        host=args.host,
        port=args.port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"aiosmtpd_auth listening on {args.host}:{args.port}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
