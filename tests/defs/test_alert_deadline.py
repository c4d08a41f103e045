"""The failure mail's SMTP conversation has an overall deadline: a real server on loopback that
answers one byte every 5 s (each read is within smtplib's per-read timeout) cannot keep the
sensor waiting past it."""

from __future__ import annotations

import socket
import threading
import time
from email.message import EmailMessage

import pytest

from boligsocial.defs.automation.alerts import Smtp


@pytest.fixture
def trickling_server():
    """A server that greets one byte every 5 s (`220 slow...`); yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            for byte in b"220 slow.example ESMTP at a snail's pace\r\n":
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return  # the client hung up
                if stop.wait(5):
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()
    thread.join(10)


def test_a_server_answering_a_byte_every_5_s_is_given_up_at_the_deadline(trickling_server):
    smtp = Smtp("127.0.0.1", trickling_server, False, "", "", deadline_seconds=2)
    message = EmailMessage()
    message["Subject"] = "Boligsocial: test"
    message.set_content("test\n")
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"127\.0\.0\.1:\d+ did not take the mail within 2 s"):
        smtp.send(message)
    assert 2 <= time.monotonic() - started < 4
