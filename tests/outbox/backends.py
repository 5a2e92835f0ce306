"""Email backends that misbehave on purpose, for the outbox delivery tests."""

import smtplib
import threading
import time

from django.core.mail.backends.filebased import EmailBackend as FileBasedBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class RefusingBackend(LocmemBackend):
    """The SMTP server refuses every message."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("connection unexpectedly closed")


class CrashAfterSendBackend(LocmemBackend):
    """Sends, then the worker dies before the outbox marks the message sent (once)."""

    crashed = False

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        if not CrashAfterSendBackend.crashed:
            CrashAfterSendBackend.crashed = True
            raise SystemExit("worker killed after the send")
        return sent


class RendezvousBackend(LocmemBackend):
    """The first send of each of two deliverers waits for the other's: both hold a claimed row at once."""

    barrier: threading.Barrier | None = None
    local = threading.local()

    def send_messages(self, messages):
        if RendezvousBackend.barrier is not None and not getattr(RendezvousBackend.local, "met", False):
            RendezvousBackend.local.met = True
            RendezvousBackend.barrier.wait(20)
        return super().send_messages(messages)


class HangAfterSendBackend(FileBasedBackend):
    """Writes the message, then hangs (in a worker the test kills): sent, never marked."""

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        time.sleep(3600)  # the test SIGKILLs the worker long before
        return sent
