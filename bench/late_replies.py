#!/usr/bin/env python3
"""Late replies and a noisy line: wrong values and bus time, against `tracermon simulate`.

For each link (pty, RTU over TCP) and each rate of the simulator's `late` fault, runs
`tracermon read` of every field of three controllers a few times, holds every
printed value against the simulator's journal (what it really served at that register), and
reports wrong values, late replies sent, and the bus time each late reply cost against a run
without faults. Then the same for a noisy line (bad CRC, truncated, garbage). Figures, not a
test: nothing is asserted.

    bench/late_replies.py [--tracermon BUILD/tracermon] [--simulator BUILD/tracermon] [--reads 3]

`--tracermon` may be an older build (before the late-reply fix) to compare; the simulator must
be one that has `--journal`.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
journal = peers = Simulator = None  # imported in main(), once TRACERMON_BIN names the simulator

FIELDS = ()  # every field: settings and optional registers too, many reads of one size


def run_reads(binary, port, reads):
    """(seconds, printed rows, exit codes) of `reads` one-shot reads at the default settings."""
    rows, codes = [], []
    started = time.monotonic()
    for _ in range(reads):
        read_started_ms = journal.now_ms()
        result = subprocess.run([binary, "read", "-p", port, "--json", "1,2,3", *FIELDS],
                                      capture_output=True, text=True, timeout=900)
        codes.append(result.returncode)
        for line in peers.json_lines(result.stdout):
            # A value may have been served at any time since this read began.
            rows.append({"source": str(line["id"]), "time_ms": journal.now_ms(),
                         "began_ms": read_started_ms, "values": line["values"]})
    return time.monotonic() - started, rows, codes


def measure(args, link, faults):
    with tempfile.TemporaryDirectory(prefix="tracermon-late-") as d:
        served = os.path.join(d, "served.jsonl")
        fault_args = [a for f in faults for a in ("--fault", f)]
        sim = Simulator(d, "--journal", served, "--seed", "9", *fault_args, ids="1,2,3")
        try:
            port = sim.pty if link == "pty" else sim.rtu_tcp
            seconds, rows, codes = run_reads(args.tracermon, port, args.reads)
            status = json.loads(sim.control("status"))
        finally:
            sim.stop()
        # Slow reads (many late replies) take minutes: look back to the start of the longest.
        slack_ms = max([r["time_ms"] - r["began_ms"] for r in rows], default=0) + 1000
        wrong, checked = journal.wrong_values(rows, journal.load(served), {"1": 1, "2": 2, "3": 3},
                                              slack_ms=slack_ms)
        values = sum(len(r["values"]) for r in rows)
        return {"seconds": seconds, "wrong": len(wrong), "checked": checked, "values": values,
                "faults": status["faults"], "requests": status["requests"], "codes": codes}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    build = ROOT / "build" / "tracermon"
    parser.add_argument("--tracermon", default=str(build), help="the binary whose reads are measured")
    parser.add_argument("--simulator", default=str(build), help="the binary that simulates")
    parser.add_argument("--reads", type=int, default=2)
    parser.add_argument("--rates", default="0,0.05,0.1,0.2,0.3")
    parser.add_argument("--late-ms", type=int, default=3500,
                        help="how late a late reply is: beyond 3 tries of 1 s it lands on "
                             "another request (1500: on the retry of the same one)")
    args = parser.parse_args()
    global journal, peers, Simulator  # pylint: disable=global-statement
    os.environ["TRACERMON_BIN"] = args.simulator
    import journal as journal_module  # pylint: disable=import-outside-toplevel
    import peers as peers_module  # pylint: disable=import-outside-toplevel
    from simulator import Simulator as simulator_class  # pylint: disable=import-outside-toplevel
    journal, peers, Simulator = journal_module, peers_module, simulator_class
    rates = [float(r) for r in args.rates.split(",")]
    print(f"tracermon: {args.tracermon}; {args.reads} reads of every field x 3 "
          f"controllers per row; default timeout 1 s, gap 50 ms, 2 retries; late-ms {args.late_ms}")
    print(f"{'link':8} {'faults':34} {'s/read':>7} {'values':>7} {'wrong':>6} {'late':>5} "
          f"{'s lost per late':>16}")
    for link in ("pty", "rtu+tcp"):
        base = None
        for rate in rates:
            r = measure(args, link, [f"late={rate}", f"late-ms={args.late_ms}"] if rate else [])
            late = r["faults"].get("late", 0)
            per_read = r["seconds"] / args.reads
            if base is None:
                base = r["seconds"]
            lost = f"{(r['seconds'] - base) / late:.2f}" if late else "-"
            print(f"{link:8} {f'late={rate}':34} {per_read:7.2f} {r['values']:7} {r['wrong']:6} "
                  f"{late:5} {lost:>16}", flush=True)
        noisy = ["bad-crc=0.1", "truncated=0.1", "garbage=0.1"]
        r = measure(args, link, noisy)
        print(f"{link:8} {','.join(noisy):34} {r['seconds'] / args.reads:7.2f} {r['values']:7} "
              f"{r['wrong']:6} {'-':>5} {'-':>16}", flush=True)


if __name__ == "__main__":
    main()
