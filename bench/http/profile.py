"""Profile a workload with py-spy: `.venv/bin/python -m bench.http.profile dose`.

Starts the bench server, drives one workload (floor, dose, diary) back to back, records every
gunicorn worker with py-spy for `--seconds`, and prints the functions with the largest share
of samples: inclusive (the function and what it calls) and own. The raw stacks are kept for
a flame graph (`--raw`).
"""

import argparse
import asyncio
import collections
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import common, seed
from bench.http.__main__ import diary_save, dose_take, floor_post

WORKLOADS = {"floor": floor_post, "dose": dose_take, "diary": diary_save}


def summarise(raw: Path, top: int):
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if f]
        n = int(count)
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        if frames:
            own[frames[-1]] += n
    print(f"{total} samples; inclusive share (the function and what it calls):")
    for frame, n in inclusive.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {frame[:140]}")
    print("own share:")
    for frame, n in own.most_common(top // 2):
        print(f"  {100 * n / total:5.1f}%  {frame[:140]}")


async def drive(make, seconds):
    return await common.closed_loop(make, concurrency=8, seconds=seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--raw", default="/tmp/ldn-bench-profile.txt")
    args = parser.parse_args(argv)

    env = common.prepare(patients=args.patients)
    people = seed.sessions_create(seed.patients())
    seed.doses_reset()
    raw = Path(args.raw)
    with (
        tempfile.TemporaryDirectory() as logs,
        common.Server(env, log_dir=logs) as server,
    ):
        workers = [str(p) for p in common._children().get(server.proc.pid, [])]
        spies = [
            subprocess.Popen(
                [
                    str(common.VENV_BIN / "py-spy"),
                    "record",
                    "--pid",
                    pid,
                    "--duration",
                    str(int(args.seconds)),
                    "--format",
                    "raw",
                    "--output",
                    f"{raw}.{pid}",
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid in workers
        ]
        result = asyncio.run(drive(WORKLOADS[args.workload](server.port, people), args.seconds))
        for spy in spies:
            spy.wait()
    seed.doses_reset()
    raw.write_text("".join(Path(f"{raw}.{pid}").read_text() for pid in workers))
    print(
        f"{args.workload}: {result.throughput():.0f} req/s, errors {result.errors()}",
        file=sys.stderr,
    )
    summarise(raw, args.top)


if __name__ == "__main__":
    main()
