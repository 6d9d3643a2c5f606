"""Message services: the provider interface and the fake one used for demos and tests."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class MessageService(Protocol):
    """Delivers outbound messages; a real provider plugs in behind this interface."""

    name: str

    def send(self, *, to: str, text: str, message_id: int) -> None: ...


class FakeMessageService:
    """Records outbound messages instead of delivering them.

    The stored Message rows are the record; a caller injects a contact's reply
    with ``dynassign.messaging.sending.receive_message``.
    """

    name = "fake"

    def send(self, *, to: str, text: str, message_id: int) -> None:
        log.debug("fake service accepted message=%s to=%s", message_id, to)


def current_service() -> MessageService:
    return FakeMessageService()
