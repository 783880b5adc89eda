"""The simulator's big check: every crowd kind, five seeds, the threshold sweep, the offline
comparison with crowd-kit, and the plot in docs/consensus.md.

    .venv/bin/python bench/consensus_sweep.py [--jobs 2] [--plot docs/consensus-sweep.png] \
        [any other `chorus consensus simulate` option, e.g. --gold-valid-share 0.5]

Not a test: run it by hand (7 minutes on 2 lightly loaded cores). It runs ``chorus consensus
simulate --crowd all --seeds 5 --sweep --crowdkit`` in this process with the options given,
prints its Markdown tables (pasted as they are into docs/consensus.md) and the wall time.
crowd-kit's column needs ``pip install -e '.[crowdkit]'``; without it that column says so.
"""

from __future__ import annotations

import sys
import time

from entrypoints.cli.consensus import simulate_command

BIG_RUN = ["--crowd", "all", "--seeds", "5", "--sweep", "--crowdkit"]
DEFAULTS = {"--jobs": "2", "--plot": "docs/consensus-sweep.png"}


def main(argv: list[str]) -> int:
    given = set(argv)
    args = BIG_RUN + [
        part
        for option, value in DEFAULTS.items()
        if option not in given
        for part in (option, value)
    ]
    started = time.perf_counter()
    status = simulate_command.main([*args, *argv], standalone_mode=False)
    print(f"\nWall time: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
