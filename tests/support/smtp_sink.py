"""A real SMTP server for the tests (aiosmtpd): stores each message it receives as an .eml file.

Usage: smtp_sink.py OUT_DIR [--starttls CERT KEY] [--auth USER:PASSWORD]
Prints the port it listens on (127.0.0.1), then serves until stdin closes. With --starttls the server
refuses mail until the client has upgraded with STARTTLS; with --auth it requires that login (over TLS).
"""
import argparse
import os
import socket
import ssl
import sys
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Store:
    def __init__(self, out):
        self.out = out

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

    # aiosmtpd cannot listen on port 0 (it connects to itself to check it started): take a free one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # A loaded test machine can take more than the default second to start the server.
    controller = Controller(Store(opts.out), hostname="127.0.0.1", port=port, ready_timeout=30, **kwargs)
    controller.start()
    print(port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
