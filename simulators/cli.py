"""``python -m simulators``: serve all five simulated upstream systems until interrupted.

Example:
    python -m simulators --hr-port 8101 --dingtalk-port 8102 --wecom-port 8103 --feishu-port 8104 \\
        --mobile-port 8105 --seed 7 --candidates 500
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Sequence

from simulators.seed import Sizes
from simulators.suite import SYSTEMS, start_suite

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = argparse.ArgumentParser(
        prog="python -m simulators", description="Serve all five simulated upstream systems until interrupted."
    )
    for name in SYSTEMS:
        cli.add_argument(f"--{name}-port", type=int, default=0, help=f"port of the {name} simulator (0: any free)")
    cli.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback)")
    cli.add_argument("--seed", type=int, default=7, help="seed of the generated data")
    cli.add_argument("--candidates", type=int, default=200, help="how many candidates to generate")
    cli.add_argument("--jobs", type=int, default=12, help="how many jobs to generate")
    cli.add_argument("--approvals", type=int, default=12, help="seeded approval instances per OA simulator")
    return cli


def main(argv: Sequence[str] | None = None, *, stop: threading.Event | None = None) -> int:
    """Start the suite, print its URLs and credentials as JSON, and serve until Ctrl-C (or ``stop`` is set)."""
    args = parser().parse_args(argv)
    ports = {name: getattr(args, f"{name}_port") for name in SYSTEMS}
    suite = start_suite(
        seed=args.seed,
        sizes=Sizes(candidates=args.candidates, jobs=args.jobs),
        ports=ports,
        host=args.host,
        seed_instances=args.approvals,
    )
    print(json.dumps({"urls": suite.urls, "credentials": suite.credentials()}, indent=2), flush=True)
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        suite.stop()
    return 0
