#!/usr/bin/env python3
"""Summarises libFuzzer logs (fuzz/scripts/run.sh's LOGS/<target>.log, one or more sessions
each) as the Markdown table in docs/hardening.md: executions, final coverage, the execution
at which coverage (cov) and features (ft) last grew, and whether the run plateaued.

Plateaued means no new coverage edge in the last half of the executions and no new feature
in the last quarter.

Usage: fuzz/scripts/stats.py [LOGS]   (default /tmp/np-fuzz-logs)
"""
import glob, os, re, sys

logs = sys.argv[1] if len(sys.argv) > 1 else "/tmp/np-fuzz-logs"
line_re = re.compile(r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)")
print("| target | sessions | executions | time (s) | exec/s | cov | ft | corpus (saved) | last new cov at | last new ft at | plateaued |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for path in sorted(glob.glob(os.path.join(logs, "*.log"))):
    target = os.path.basename(path)[:-4]
    total = 0
    seconds = 0
    sessions = 0
    offset = 0
    cov = ft = corp = None
    corp_size = ""
    last_cov_at = last_ft_at = 0
    prev_cov = prev_ft = None
    session_execs = 0
    rate = 0
    for line in open(path, errors="replace"):
        m = line_re.match(line)
        if m:
            n, kind = int(m.group(1)), m.group(2)
            c, f = int(m.group(3)), int(m.group(4))
            if kind == "INITED":
                sessions += 1
                offset = total
                # Coverage counted at start-up (the saved corpus) is not growth in this run.
                prev_cov, prev_ft = c, f
            else:
                if prev_cov is not None and c > prev_cov:
                    last_cov_at = offset + n
                if prev_ft is not None and f > prev_ft:
                    last_ft_at = offset + n
                prev_cov, prev_ft = c, f
            cov, ft, corp, corp_size = c, f, int(m.group(5)), m.group(6)
            session_execs = n
        elif line.startswith("stat::number_of_executed_units:"):
            total = offset + int(line.split()[-1])
        elif line.startswith("stat::average_exec_per_sec:"):
            rate = int(line.split()[-1])
            if rate:
                seconds += (total - offset) / rate
    if not sessions:
        continue
    plateau = total > 0 and last_cov_at <= total * 0.5 and last_ft_at <= total * 0.75
    print(f"| {target} | {sessions} | {total} | {seconds:.0f} | {rate} | {cov} | {ft} | {corp} ({corp_size}) | "
          f"{last_cov_at} | {last_ft_at} | {'yes' if plateau else 'no'} |")
