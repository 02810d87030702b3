"""A real SMTP server for the tests (aiosmtpd): stores each message it receives as an .eml file.

Usage: smtp_sink.py OUT_DIR [--starttls CERT KEY] [--auth USER:PASSWORD] [--xoauth2 USER]
Prints the port it listens on (127.0.0.1), then serves until stdin closes. With --starttls the server
refuses mail until the client has upgraded with STARTTLS; with --auth it requires that login (over TLS).
With --xoauth2 it offers only SASL XOAUTH2 (as Exchange Online does), requires it for USER with a
Bearer token, and writes each token it accepted to OUT_DIR/xoauth2-tokens.txt (one a line).
"""
import argparse
import base64
import os
import socket
import ssl
import sys
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Store:
    def __init__(self, out, xoauth2_user=None):
        self.out = out
        self.xoauth2_user = xoauth2_user

    async def auth_XOAUTH2(self, server, args):
        """SASL XOAUTH2: base64 of `user=USER^Aauth=Bearer TOKEN^A^A`, as the initial response or
        after an empty challenge."""
        try:
            if len(args) > 1:
                raw = base64.b64decode(args[1])
            else:
                raw = await server.challenge_auth("")  # the client's answer, base64-decoded
                if not isinstance(raw, bytes):
                    return AuthResult(success=False, handled=True)
            text = raw.decode()
        except ValueError:
            return AuthResult(success=False, handled=False)
        fields = dict(f.split("=", 1) for f in text.split("\x01") if "=" in f)
        user, auth = fields.get("user"), fields.get("auth", "")
        ok = user == self.xoauth2_user and auth.startswith("Bearer ") and len(auth) > len("Bearer ")
        if ok:
            with open(os.path.join(self.out, "xoauth2-tokens.txt"), "a") as f:
                f.write(auth[len("Bearer "):] + "\n")
        return AuthResult(success=ok, handled=False, auth_data=user)

    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(self.out, f"{uuid.uuid4()}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"


def main():
    args = argparse.ArgumentParser()
    args.add_argument("out")
    args.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    args.add_argument("--auth")
    args.add_argument("--xoauth2")
    opts = args.parse_args()
    os.makedirs(opts.out, exist_ok=True)

    kwargs = {}
    if opts.starttls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*opts.starttls)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if opts.auth:
        user, password = opts.auth.split(":", 1)

        def check(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok)

        kwargs.update(authenticator=check, auth_required=True, auth_require_tls=bool(opts.starttls))

    if opts.xoauth2:
        kwargs.update(auth_required=True, auth_require_tls=bool(opts.starttls),
                      auth_exclude_mechanism=["LOGIN", "PLAIN"])

    # aiosmtpd cannot listen on port 0 (it connects to itself to check it started): take a free one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # A loaded test machine can take more than the default second to start the server.
    controller = Controller(Store(opts.out, opts.xoauth2), hostname="127.0.0.1", port=port, ready_timeout=30, **kwargs)
    controller.start()
    print(port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
