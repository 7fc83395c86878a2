"""Sizes of a chaos run, and the seeded plan of its kills."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["FULL", "QUICK", "Kill", "Sizes", "kill_plan"]


@dataclass(frozen=True)
class Sizes:
    n: int  # requests, submitted in one burst
    kills: int
    settle_s: float  # after the last restart: time allowed to finish the work
    stall_s: float  # longest wait for one kill's moment before killing anyway
    # None: the product's default. Each restart loads the NLP pipeline in every parse
    # worker; on a busy 2-core CI box one worker warms up about twice as fast as two.
    parse_processes: int | None = None


FULL = Sizes(n=1000, kills=20, settle_s=600.0, stall_s=180.0)
QUICK = Sizes(n=60, kills=3, settle_s=120.0, stall_s=60.0, parse_processes=1)


@dataclass(frozen=True)
class Kill:
    """SIGKILL once ``after`` of the run's mail (acknowledgements and doctors' mails) is
    delivered and the daemon has been connected for ``connected_s``, then ``delay_s`` later:
    moments follow the work, not the clock, so a slower machine gets the same spread."""

    index: int
    after: float  # fraction of the mails expected
    connected_s: float
    delay_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def kill_plan(kills: int, seed: int) -> list[Kill]:
    """One kill in each of ``kills`` equal slices of 3-97 % of the mail."""
    rng = random.Random(seed)
    return [
        Kill(
            index=i,
            after=round(0.03 + 0.94 * (i + rng.random()) / kills, 4),
            # Soon after connecting is recovery (leases taken back, pending replies sent
            # again, parse workers still loading); later is steady work.
            connected_s=round(rng.uniform(0.0, 4.0), 2),
            delay_s=round(rng.uniform(0.0, 0.5), 3),
        )
        for i in range(kills)
    ]
