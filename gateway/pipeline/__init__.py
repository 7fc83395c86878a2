"""Stage 2: ``inbound_message(received)`` → processed, failed or quarantined.

``worker`` claims and runs batches (parse in a process pool, decide in one
transaction with a savepoint per message); ``parse_pool`` holds the processes;
``dispatch`` routes a parsed message to its case; ``quarantine`` keeps what we
cannot handle, with its bytes.

Nothing is imported here: the parse workers' fork server imports ``parse_pool`` through
this package, and must not load the case work and the ORM that it never runs.
"""
