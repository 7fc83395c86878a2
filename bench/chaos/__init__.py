"""Chaos bench (issue 12): N requests through the real mail stack, K SIGKILLs of the daemon.

Run: ``uv run python -m bench.chaos [--quick] [--n N] [--kills K] [--seed S]
[--db sqlite|postgresql|both] [--output PATH] [--keep] [--note TEXT]``.

It starts a private Dovecot + Postfix; then, for each database, it submits N realistic
requests in one burst through Postfix and SIGKILLs the daemon's process group K times at
seeded moments spread over the run, restarting it each time on the same configuration and
database. Once the work has settled it counts, from the delivered Maildirs and the database:

- lost: requests whose sender got no reply;
- duplicated with distinct Message-IDs: one (request, kind, recipient) mailed under two ids;
- re-sent with the same Message-ID: the 250-then-crash window, in total and per kill,
  against ``smtp.connections`` per kill;
- stuck: inbound messages not in a final state, replies still pending;
- left on the server: messages still in the watched INBOXes.

Results go to ``bench/results/chaos-<date>[-quick].json``; a short table is printed.
Counts only: no subject or body is ever printed or stored.
"""
