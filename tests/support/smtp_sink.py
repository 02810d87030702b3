"""A real SMTP server for the tests (aiosmtpd): stores each message it receives as an .eml file.

Usage: smtp_sink.py OUT_DIR  ->  prints the port it listens on (127.0.0.1), then serves until stdin closes.
"""
import os
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
    controller = Controller(Store(out), hostname="127.0.0.1", port=0)
    controller.start()
    print(controller.server.sockets[0].getsockname()[1], flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
