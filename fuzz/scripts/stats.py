#!/usr/bin/env python3
"""Summarises libFuzzer logs (LOGS/<target>.log, one or more sessions each, as written by
fuzz/scripts/campaign.py) as the Markdown table in docs/hardening.md: executions,
coverage (cov: edges) and features (ft) when the first session started and at the end, the
execution at which each last grew, and whether the run plateaued.

Plateaued means no new coverage edge in the last half of the executions; the table also says
when the last new feature (an edge's hit-count bucket) was found, and --features also asks
for none in the last quarter (hardening.md says why that is not the default). Growth counts
only what a session found after it started: what its corpus gave it at start-up is not growth.

A log may hold several sessions of one binary (runs from the same seeds, concatenated). An
edge a later session finds that an earlier one had found (the same NEW_PC, at the same offset
from the load base campaign.py logs) is not new: it is counted under the table as found
again. So the sessions of a log must have run one binary (a rebuild moves the code), and a
log whose sessions loaded different numbers of edges is refused. Some edges depend on the
process, not the input (hash tables seeded at random: hardening.md, session 19), and every
new process finds them again early; counted as new, they would put the last new edge at the
start of the latest session, which then could never plateau unless it ran as long as all
before it together. An edge covered only at an earlier session's start-up was never
printed, so it still counts as new: this can only delay a plateau, never declare one early.

With --doublings it prints, instead of the table, the edges each target found in each
doubling of its executions (from the first million): a target whose coverage grows with the
logarithm of its executions finds about as many in each, and then more of the same runs will
not make it plateau (hardening.md, session 12).

Usage: fuzz/scripts/stats.py [--features | --doublings] [LOGS]   (default /tmp/np-campaign/logs)
"""
import glob
import os
import re
import sys

from campaign import LOAD_BASE, logged_load_base

args = sys.argv[1:]
features = "--features" in args
doublings = "--doublings" in args
args = [a for a in args if a not in ("--features", "--doublings")]
logs = args[0] if args else "/tmp/np-campaign/logs"
line_re = re.compile(r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+)")
new_pc_re = re.compile(r"NEW_PC: (0x[0-9a-f]+)")
edges_re = re.compile(r"^INFO: Loaded 1 modules +\((\d+) inline 8-bit counters\)")


def print_doublings(target, total, grew):
    """grew: (execution, edges) of each step of coverage."""
    print(f"{target}: {total:,} executions")
    low = 1_000_000
    while low < total:
        found = sum(edges for n, edges in grew if low <= n < 2 * low)
        print(f"    {low:>13,} to {min(2 * low, total):>13,}: {found:4} edges")
        low *= 2


def at(n, total):
    return f"{n:,} ({100 * n // total} %)" if total else "0"


if not doublings:
    print("| target | executions | exec/s | cov: start → end | ft: start → end "
          "| last new edge (cov) at | last new feature (ft) at | plateaued |")
    print("|---|---:|---:|---|---|---:|---:|---|")
all_execs = plateaued = targets = 0
found_again = {}
for path in sorted(glob.glob(os.path.join(logs, "*.log"))):
    target = os.path.basename(path)[:-4]
    total = offset = seconds = rate = 0
    start = end = None
    last_cov_at = last_ft_at = 0
    prev = None
    grew = []
    base = None  # the load base of the session being read
    seen = set()  # offsets of the edges found so far (NEW_PC)
    pcs = []  # offsets of the NEW_PC lines before the next status line (None: base unknown)
    again = 0
    edges = None  # how many edges the binary has, as its first session loaded it
    for line in open(path, errors="replace"):
        if line.startswith("=== campaign"):
            base = None
        elif line.startswith(LOAD_BASE):
            base = logged_load_base(line)
        loaded = edges_re.match(line)
        if loaded:
            edges = edges or loaded.group(1)
            if loaded.group(1) != edges:
                sys.exit(f"stats.py: {path} holds sessions of different binaries ({edges} "
                         f"and {loaded.group(1)} edges), whose edges cannot be compared")
        pc = new_pc_re.search(line)
        if pc:
            pcs.append(None if base is None else int(pc.group(1), 16) - base)
            continue
        m = line_re.match(line)
        if m:
            n, kind = int(m.group(1)), m.group(2)
            cov, ft = int(m.group(3)), int(m.group(4))
            if kind == "INITED":
                offset = total
                start = start or (cov, ft)
            elif prev is not None:
                if cov > prev[0]:
                    known = sum(1 for pc in pcs if pc is not None and pc in seen)
                    again += known
                    if cov - prev[0] > known:
                        last_cov_at = offset + n
                        grew.append((offset + n, cov - prev[0] - known))
                if ft > prev[1]:
                    last_ft_at = offset + n
            seen.update(pc for pc in pcs if pc is not None)
            pcs = []
            prev = end = (cov, ft)
        elif line.startswith("stat::number_of_executed_units:"):
            total = offset + int(line.split()[-1])
        elif line.startswith("stat::average_exec_per_sec:"):
            rate = int(line.split()[-1])
            if rate:
                seconds += (total - offset) / rate
    if start is None:
        continue
    if doublings:
        print_doublings(target, total, grew)
        continue
    if again:
        found_again[target] = again
    plateau = total > 0 and last_cov_at <= total * 0.5
    if features:
        plateau = plateau and last_ft_at <= total * 0.75
    targets += 1
    plateaued += plateau
    all_execs += total
    speed = round(total / seconds) if seconds else rate
    print(f"| `{target}` | {total:,} | {speed:,} | {start[0]:,} → {end[0]:,} "
          f"| {start[1]:,} → {end[1]:,} | {at(last_cov_at, total)} | {at(last_ft_at, total)} "
          f"| {'yes' if plateau else 'no'} |")
if not doublings:
    print(f"| **all** | **{all_execs:,}** | | | | | | **{plateaued} of {targets}** |")
    for target, again in found_again.items():
        print(f"\n`{target}`: {again} edges found again that an earlier session in the log had "
              "found, not counted as new.")
