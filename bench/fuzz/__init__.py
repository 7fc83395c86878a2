"""Mutation fuzzing of the parse entry points (``parse_message``, ``parse_document``).

Seeds: the shared corpus (``$AIGUILLEUR_CORPUS``, else ``../shared/corpus``) and the test
builders. Mutators bend MIME headers, boundaries, zip archives, XML and PDF. Every input
runs in a worker process with a time limit and a memory ceiling; see ``runner``.
Run ``python -m bench.fuzz --help``.
"""
