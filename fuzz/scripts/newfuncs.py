#!/usr/bin/env python3
"""Names the functions in which a campaign's fuzzers found new code (libFuzzer's NEW_FUNC
lines), from the logs campaign.py writes.

Without a sanitizer runtime libFuzzer cannot symbolize, so NEW_FUNC lines are bare
addresses in a position-independent binary; campaign.py logs each run's load base
("=== load base 0x..."), and this subtracts it and asks addr2line (binutils) for the function
and source line. BIN must be the binary that ran (campaign.py builds it in
fuzz/target/own/x86_64-unknown-linux-gnu/release/<target>; a rebuild of changed code moves
the functions).

Usage: fuzz/scripts/newfuncs.py LOG [BIN]   (BIN defaults to campaign.py's build of the target
                                             the log is named for)
"""
import os
import re
import subprocess
import sys

from campaign import BIN  # where campaign.py builds the fuzzers


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[-1].strip())
    log = sys.argv[1]
    target = os.path.basename(log).rsplit(".", 1)[0]
    binary = sys.argv[2] if len(sys.argv) == 3 else os.path.join(BIN, target)
    if not os.path.isfile(binary):
        sys.exit(f"newfuncs.py: no binary {binary} (name it as the second argument)")
    run, base, offsets, unknown = 0, None, [], 0
    for line in open(log, errors="replace"):
        if line.startswith("=== campaign"):
            run, base = run + 1, None
        elif line.startswith("=== load base "):
            value = line.split()[-1]
            base = int(value, 16) if value.startswith("0x") else None
        elif "NEW_FUNC" in line:
            m = re.search(r"NEW_FUNC\[\d+/\d+\]: (0x[0-9a-f]+)", line)
            if m and base is not None:
                offsets.append((run, int(m.group(1), 16) - base))
            else:
                unknown += 1
    if not offsets:
        print(f"{target}: no NEW_FUNC with a known load base ({unknown} without)")
        return
    # -f: the function, -C: demangled; one query for all the addresses.
    out = subprocess.run(["addr2line", "-f", "-C", "-e", binary],
                         input="".join(f"{o:x}\n" for _, o in offsets),
                         capture_output=True, text=True, check=True).stdout.splitlines()
    for (run, _), function, place in zip(offsets, out[0::2], out[1::2]):
        place = re.sub(r"^.*/(registry/src/[^/]+/|rustc/[0-9a-f]+/)", "", place)
        print(f"run {run}: {function}  [{place}]")
    if unknown:
        print(f"({unknown} NEW_FUNC lines of runs whose load base was not logged)")


if __name__ == "__main__":
    main()
