#!/usr/bin/env python3
"""Names the code in which a campaign's fuzzers found new coverage, from the logs campaign.py
writes: the functions entered for the first time (libFuzzer's NEW_FUNC lines) and each edge
found after start-up (NEW_PC lines, which campaign.py asks for with -print_pcs).

Without a sanitizer runtime libFuzzer cannot symbolize, so these lines are bare addresses in
a position-independent binary; campaign.py logs each run's load base ("=== load base 0x..."),
and this subtracts it and asks addr2line (binutils) for the function and source line, with
the functions it was inlined into (-i): an edge in serde's or std's generic code shows the
crate function it was instantiated for. BIN must be the binary that ran (campaign.py builds
it in fuzz/target/own/x86_64-unknown-linux-gnu/release/<target>; a rebuild of changed code
moves the functions).

Usage: fuzz/scripts/newfuncs.py LOG [BIN]   (BIN defaults to campaign.py's build of the target
                                             the log is named for: <target>.log, or
                                             <target>/run-N.log.gz as in fuzz/logs)
"""
import os
import re
import subprocess
import sys

from campaign import BIN, LOAD_BASE, log_lines, logged_load_base

NEW = re.compile(r"(NEW_FUNC)\[\d+/\d+\]: (0x[0-9a-f]+)|(NEW_PC): (0x[0-9a-f]+)")
# Paths down to what says where the code comes from: a crate of the registry, std, or ours.
PREFIX = re.compile(r"^.*/(registry/src/[^/]+/|rustc/[0-9a-f]+/)")


def frames(binary, offset):
    """(function, file:line) of the code at offset, innermost first (-i: inlined into).

    One addr2line per address, on purpose: given many addresses at once, GNU addr2line 2.40
    named some inlined frames' outer function wrongly (eq for containerd's
    merge_struct_field, session 13); loading the debug information again costs about
    0.4 s per address, with the fuzzers running."""
    out = subprocess.run(["addr2line", "-i", "-f", "-C", "-e", binary, f"{offset:x}"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    return [(f, PREFIX.sub("", place)) for f, place in zip(out[0::2], out[1::2])]


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[-1].strip())
    log = sys.argv[1]
    name = os.path.basename(log)
    if name.startswith("run-"):
        target = os.path.basename(os.path.dirname(os.path.abspath(log)))
    else:
        target = name.split(".", 1)[0]
    binary = sys.argv[2] if len(sys.argv) == 3 else os.path.join(BIN, target)
    if not os.path.isfile(binary):
        sys.exit(f"newfuncs.py: no binary {binary} (name it as the second argument)")
    run, base, found, unknown = 0, None, [], 0
    for line in log_lines(log):
        if line.startswith("=== campaign"):
            run, base = run + 1, None
        elif line.startswith(LOAD_BASE):
            base = logged_load_base(line)
        else:
            m = NEW.search(line)
            if not m:
                continue
            kind, address = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            if base is None:
                unknown += 1
            else:
                found.append((run, kind, int(address, 16) - base))
    if not found:
        print(f"{target}: no NEW_FUNC or NEW_PC with a known load base ({unknown} without)")
        return
    for run, kind, offset in found:
        chain = frames(binary, offset)
        head = f"run {run}: {'function' if kind == 'NEW_FUNC' else 'edge'} at {offset:#x}"
        print(head)
        for function, place in chain:
            print(f"    {function}  [{place}]")
    if unknown:
        print(f"({unknown} lines of runs whose load base was not logged)")


if __name__ == "__main__":
    main()
