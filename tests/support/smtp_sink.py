"""A real SMTP server for the tests (aiosmtpd): stores each message it receives as an .eml file.

Usage: smtp_sink.py OUT_DIR  ->  prints the port it listens on (127.0.0.1), then serves until stdin closes.
"""
import os
import socket
import sys
import uuid

from aiosmtpd.controller import Controller


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
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    # aiosmtpd cannot listen on port 0 (it connects to itself to check it started): take a free one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Store(out), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
