"""Stage 3: ``outbound_message(pending)`` → sent or failed.

``queue`` enqueues a reply inside the case's transaction (exactly once per cause);
``sender`` delivers what is due; ``transports`` speak SMTP or write a Maildir.
"""

from gateway.outbox.sender import Outbox
from gateway.outbox.transports import SmtpEnvelope, Transport, build_transport

__all__ = ["Outbox", "SmtpEnvelope", "Transport", "build_transport"]
