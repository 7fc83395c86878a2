"""Stage 2: ``inbound_message(received)`` → processed, failed or quarantined.

``worker`` claims and runs batches (parse in a process pool, decide in one
transaction with a savepoint per message); ``parse_pool`` holds the processes;
``dispatch`` routes a parsed message to its case; ``quarantine`` keeps what we
cannot handle, with its bytes.
"""

from gateway.pipeline.worker import Pipeline, StageOutcome

__all__ = ["Pipeline", "StageOutcome"]
