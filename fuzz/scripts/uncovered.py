#!/usr/bin/env python3
"""Where a target's inputs stop: the instrumented code they do not reach, by function, in
the functions they do reach. What a long run would still find is there; what seeds could
give it from the start, too.

libFuzzer built without a sanitizer cannot print its coverage (-print_coverage needs the
sanitizer's symbolizer), but a merge writes, for each input, the indices in the PC table of
the edges it covered (the `COV` lines of -merge_control_file). The PC table is the binary's
__sancov_pcs section; the binary is position-independent, so each entry's address is the
addend of its R_X86_64_RELATIVE relocation. addr2line names each address's innermost
function (inlined code is named by what was inlined, so std's generic code shows as itself:
look at the file:line lines under it to see whose it is).

Usage:
    B=fuzz/target/own/x86_64-unknown-linux-gnu/release/TARGET
    mkdir -p /tmp/merge-out
    $B -merge=1 -merge_control_file=/tmp/ctl -max_len=65536 /tmp/merge-out \\
        fuzz/corpus/TARGET SEEDS/TARGET
    fuzz/scripts/uncovered.py $B /tmp/ctl [--all] > uncovered.txt

Each function with covered and uncovered edges (with --all, also those with none covered)
is listed with its counts, most uncovered first, and the source lines of its uncovered
edges. Many are unreachable (allocation failures, debug assertions' checks): read them as
leads, not as a to-do list. Its total is not libFuzzer's `cov:`, which counts otherwise:
compare this script's outputs with each other.
"""
import argparse
import collections
import re
import subprocess


def covered_indices(control_file):
    covered = set()
    with open(control_file, errors="replace") as f:
        for line in f:
            if line.startswith("COV "):
                covered.update(int(x) for x in line.split()[2:])
    return covered


def pc_table(binary):
    """PC table index -> link-time address."""
    sections = subprocess.run(["readelf", "-S", "-W", binary], capture_output=True,
                              text=True, check=True).stdout
    found = re.search(r"__sancov_pcs\s+PROGBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)",
                      sections)
    if not found:
        raise SystemExit(f"uncovered.py: {binary} has no __sancov_pcs section")
    start, size = int(found.group(1), 16), int(found.group(2), 16)
    relocations = subprocess.run(["readelf", "-r", "-W", binary], capture_output=True,
                                 text=True, check=True).stdout
    pcs = {}
    for line in relocations.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == "R_X86_64_RELATIVE":
            offset = int(parts[0], 16)
            # Each entry is (PC, flags), 16 bytes; only the PC is relocated.
            if start <= offset < start + size and (offset - start) % 16 == 0:
                pcs[(offset - start) // 16] = int(parts[3], 16)
    return pcs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("control_file")
    parser.add_argument("--all", action="store_true",
                        help="also list functions none of whose edges is covered")
    args = parser.parse_args()
    covered = covered_indices(args.control_file)
    pcs = pc_table(args.binary)
    order = sorted(pcs)
    names = subprocess.run(["addr2line", "-e", args.binary, "-f", "-C"],
                           input="\n".join(hex(pcs[i]) for i in order), capture_output=True,
                           text=True, check=True).stdout.splitlines()
    # function -> [covered edges, source lines of uncovered edges]
    functions = collections.defaultdict(lambda: [0, []])
    for n, index in enumerate(order):
        function, where = names[2 * n], names[2 * n + 1]
        if index in covered:
            functions[function][0] += 1
        else:
            functions[function][1].append(where.split(" (")[0])
    print(f"{len(covered)} of {len(order)} edges covered")
    for function, (hit, missed) in sorted(functions.items(), key=lambda kv: -len(kv[1][1])):
        if missed and (hit or args.all):
            print(f"{len(missed):5d} uncovered, {hit:5d} covered: {function[:160]}")
            for where, count in collections.Counter(missed).most_common(8):
                print(f"        {count:4d} {where}")


if __name__ == "__main__":
    main()
