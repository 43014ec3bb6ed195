#!/usr/bin/env python3
"""Summarises libFuzzer logs (one or more sessions each, as written by
fuzz/scripts/campaign.py) as the Markdown table in docs/hardening.md: executions,
coverage (cov: edges) and features (ft) when the first session started and at the end, the
execution at which each last grew, and whether the run plateaued.

Plateaued means no new coverage edge in the last half of the executions; the table also says
when the last new feature (an edge's hit-count bucket) was found, and --features also asks
for none in the last quarter (hardening.md says why that is not the default). Growth counts
only what a session found after it started: what its corpus gave it at start-up is not growth.

LOGS holds, for each target, either the log campaign.py writes, <target>.log, or a
directory <target>/ of the logs of the runs counted, as committed in fuzz/logs: each run's
log (*.log or *.log.gz), read in the order of the numbers in their names, and at most one
record (*.prior) of earlier runs of the count whose logs are gone (fuzz/logs/README.md).

A log may hold several sessions of one binary (runs from the same seeds, concatenated). An
edge a later session finds that an earlier one had found (the same NEW_PC, at the same offset
from the load base campaign.py logs) is not new: it is counted under the table as found
again. So the sessions of a log must have run one binary (a rebuild moves the code), and a
log whose sessions loaded different numbers of edges, or logged different binaries, is
refused. Some edges depend on the process, not the input (hash tables seeded at random:
hardening.md, session 19), and every new process finds them again early; counted as new,
they would put the last new edge at the start of the latest session, which then could never
plateau unless it ran as long as all before it together. An edge covered only at an earlier
session's start-up was never printed, so it still counts as new: this can only delay a
plateau, never declare one early.

Runs of one count may have run at the same time, on different cores: their logs are read
one after the other, so that an edge a later log finds is placed after all of the earlier
log's executions, later than it was found, which again can only delay a plateau. A session
cut off before libFuzzer's final statistics (its machine stopped) counts the executions of
its last status line.

With --doublings it prints, instead of the table, the edges each target found in each
doubling of its executions (from the first million): a target whose coverage grows with the
logarithm of its executions finds about as many in each, and then more of the same runs will
not make it plateau (hardening.md, session 12). The edges of a record are not in it: only
where its last one was is known.

Usage: fuzz/scripts/stats.py [--features | --doublings] [LOGS]   (default /tmp/np-campaign/logs)
"""
import os
import re
import sys

from campaign import BINARY_SHA256, LOAD_BASE, log_lines, logged_load_base

args = sys.argv[1:]
features = "--features" in args
doublings = "--doublings" in args
args = [a for a in args if a not in ("--features", "--doublings")]
logs = args[0] if args else "/tmp/np-campaign/logs"
line_re = re.compile(r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+)")
new_pc_re = re.compile(r"NEW_PC: (0x[0-9a-f]+)")
edges_re = re.compile(r"^INFO: Loaded 1 modules +\((\d+) inline 8-bit counters\)")


class Prior:
    """What was recorded of earlier runs of a count whose logs are gone: how many executions
    they ran, where their last new edge was, how many edges their binary had, and the offsets
    (from the load base) of edges they found, which a later session then finds again, not new.
    Its lines: `executions N`, `last-new-edge N`, `edges N`, `found 0x... ...` (any number of
    them); `#` starts a comment. Their last new feature is taken to be at their end: every
    long run finds features to its end."""

    def __init__(self, path):
        fields = {}
        with open(path) as f:
            for raw in f:
                words = raw.split("#", 1)[0].split()
                if words:
                    fields.setdefault(words[0], []).extend(words[1:])
        try:
            self.executions = int(*fields.pop("executions"))
            self.last_new_edge = int(*fields.pop("last-new-edge"))
            self.edges = str(int(*fields.pop("edges")))
            self.found = {int(value, 16) for value in fields.pop("found", [])}
        except (KeyError, TypeError, ValueError) as e:
            sys.exit(f"stats.py: {path}: needs one `executions N`, one `last-new-edge N` and "
                     f"one `edges N` line, and `found` lines of hexadecimal offsets ({e!r})")
        if fields:
            sys.exit(f"stats.py: {path}: unknown lines {', '.join(sorted(fields))}")
        if not 0 <= self.last_new_edge <= self.executions:
            sys.exit(f"stats.py: {path}: its last new edge is not within its executions")


def natural(name):
    # run-9.log before run-11.log
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def sources(logs):
    """(target, paths of its logs in the order they are read, its Prior or None)."""
    found = {}
    for entry in sorted(os.listdir(logs)):
        path = os.path.join(logs, entry)
        if entry.endswith(".log") and os.path.isfile(path):
            target, paths, prior = entry[:-4], [path], None
        elif os.path.isdir(path):
            names = sorted(os.listdir(path), key=natural)
            paths = [os.path.join(path, n) for n in names if n.endswith((".log", ".log.gz"))]
            priors = [os.path.join(path, n) for n in names if n.endswith(".prior")]
            if len(priors) > 1:
                sys.exit(f"stats.py: {path} holds more than one record of earlier runs")
            target, prior = entry, Prior(priors[0]) if priors else None
        else:
            continue
        if target in found:
            sys.exit(f"stats.py: {logs} holds both {target}.log and {target}/")
        found[target] = (paths, prior)
    return [(target, *found[target]) for target in sorted(found)]


def lines(paths):
    for path in paths:
        yield from log_lines(path)


def print_doublings(target, total, grew, recorded, recorded_last):
    """grew: (execution, edges) of each step of coverage after the first `recorded`
    executions, a record whose last new edge was at `recorded_last`."""
    print(f"{target}: {total:,} executions")
    low = 1_000_000
    while low < total:
        high = min(2 * low, total)
        found = sum(edges for n, edges in grew if low <= n < 2 * low)
        if high <= recorded:
            print(f"    {low:>13,} to {high:>13,}: not known (a record of lost logs)")
        else:
            part = ""
            if low < recorded:
                part = " after the record's end"
                if low <= recorded_last < high:
                    part += ", which has its last new edge here too"
            print(f"    {low:>13,} to {high:>13,}: {found:4} edges{part}")
        low *= 2


def at(n, total):
    return f"{n:,} ({100 * n // total} %)" if total else "0"


if not doublings:
    print("| target | executions | exec/s | cov: start → end | ft: start → end "
          "| last new edge (cov) at | last new feature (ft) at | plateaued |")
    print("|---|---:|---:|---|---|---:|---:|---|")
all_execs = plateaued = targets = 0
found_again = {}
recorded = {}
for target, paths, prior in sources(logs):
    total = offset = seconds = rate = 0
    start = end = None
    last_cov_at = last_ft_at = 0
    prev = None
    grew = []
    base = None  # the load base of the session being read
    inited = False  # whether the session being read has started fuzzing (INITED)
    seen = set()  # offsets of the edges found so far (NEW_PC)
    pcs = []  # offsets of the NEW_PC lines before the next status line (None: base unknown)
    again = 0
    edges = None  # how many edges the binary has, as its first session loaded it
    binary = None  # the binary's SHA-256, as the first session that logged it did
    if prior:
        total = last_ft_at = prior.executions
        last_cov_at = prior.last_new_edge
        edges = prior.edges
        seen.update(prior.found)
        recorded[target] = (prior.executions, prior.last_new_edge)
    for line in lines(paths):
        if line.startswith("=== campaign"):
            base, inited = None, False
        elif line.startswith(LOAD_BASE):
            base = logged_load_base(line)
        elif line.startswith(BINARY_SHA256):
            digest = line.split()[-1]
            binary = binary or digest
            if digest != binary:
                sys.exit(f"stats.py: the logs of {target} hold sessions of different binaries "
                         f"(SHA-256 {binary} and {digest}), whose edges cannot be compared")
        loaded = edges_re.match(line)
        if loaded:
            edges = edges or loaded.group(1)
            if loaded.group(1) != edges:
                sys.exit(f"stats.py: the logs of {target} hold sessions of different binaries "
                         f"({edges} and {loaded.group(1)} edges), whose edges cannot be "
                         "compared")
        pc = new_pc_re.search(line)
        if pc:
            pcs.append(None if base is None else int(pc.group(1), 16) - base)
            continue
        m = line_re.match(line)
        if m:
            n, kind = int(m.group(1)), m.group(2)
            cov, ft = int(m.group(3)), int(m.group(4))
            if kind == "INITED":
                offset, inited = total, True
                start = start or (cov, ft)
            elif not inited:
                # The corpus being loaded (pulse lines): start-up, not growth.
                continue
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
            # Replaced by the final count if the session prints it.
            total = max(total, offset + n)
        elif line.startswith("stat::number_of_executed_units:"):
            total = offset + int(line.split()[-1])
        elif line.startswith("stat::average_exec_per_sec:"):
            rate = int(line.split()[-1])
            if rate:
                seconds += (total - offset) / rate
    if start is None:
        continue
    if doublings:
        print_doublings(target, total, grew, *recorded.get(target, (0, None)))
        continue
    if again:
        found_again[target] = again
    plateau = total > 0 and last_cov_at <= total * 0.5
    if features:
        plateau = plateau and last_ft_at <= total * 0.75
    targets += 1
    plateaued += plateau
    all_execs += total
    logged = total - recorded.get(target, (0,))[0]
    speed = round(logged / seconds) if seconds else rate
    print(f"| `{target}` | {total:,} | {speed:,} | {start[0]:,} → {end[0]:,} "
          f"| {start[1]:,} → {end[1]:,} | {at(last_cov_at, total)} | {at(last_ft_at, total)} "
          f"| {'yes' if plateau else 'no'} |")
if not doublings:
    print(f"| **all** | **{all_execs:,}** | | | | | | **{plateaued} of {targets}** |")
    for target, (executions, _) in recorded.items():
        print(f"\n`{target}`: the first {executions:,} executions are a record of runs whose "
              "logs are gone (its .prior), and so are the last new edge and feature if they "
              "are not past them.")
    for target, again in found_again.items():
        print(f"\n`{target}`: {again} edges found again that an earlier session in the logs "
              "(or the record) had found, not counted as new.")
