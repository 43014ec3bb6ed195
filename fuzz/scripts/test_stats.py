#!/usr/bin/env python3
"""Tests of stats.py's verdict on small logs written here in campaign.py's format.

Usage: python3 fuzz/scripts/test_stats.py   (the fuzz scripts are not part of cargo's tests)
"""
import gzip
import os
import subprocess
import sys
import tempfile
import unittest

STATS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stats.py")
BASE = 0x5500_0000_0000


def session(steps, executed=None, edges=45585, binary="ab" * 32, base=BASE, loading=()):
    """A campaign.py session: loading pulses (n, cov), INITED at cov 10, then steps
    (n, cov, [edge offsets]) and, unless cut off (executed None), the final statistics."""
    out = ["=== campaign 2026-12-08T00:00:00Z min 300.0 s max 10.0 s min-execs 0 dict none",
           f"=== binary sha256 {binary}",
           f"INFO: Loaded 1 modules   ({edges} inline 8-bit counters): {edges} [0x1, 0x2), "]
    out += [f"#{n}\tpulse  cov: {cov} ft: {cov} corp: 1/1b exec/s: 1 rss: 1Mb"
            for n, cov in loading]
    out += ["#100\tINITED cov: 10 ft: 10 corp: 1/1b exec/s: 1 rss: 1Mb",
            f"=== load base {base:#x}"]
    ft = 10
    for n, cov, pcs in steps:
        out += [f"\tNEW_PC: {base + pc:#x}" for pc in pcs]
        ft += 1
        out.append(f"#{n}\tNEW    cov: {cov} ft: {ft} corp: 1/1b lim: 4 exec/s: 1 rss: 1Mb")
    if executed is not None:
        out += [f"stat::number_of_executed_units: {executed}", "stat::average_exec_per_sec: 10"]
    return "\n".join(out) + "\n"


class Verdict(unittest.TestCase):
    def stats(self, files, *flags):
        with tempfile.TemporaryDirectory() as logs:
            for name, text in files.items():
                path = os.path.join(logs, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                if name.endswith(".gz"):
                    with gzip.open(path, "wt") as f:
                        f.write(text)
                else:
                    with open(path, "w") as f:
                        f.write(text)
            run = subprocess.run([sys.executable, STATS, *flags, logs], capture_output=True,
                                 text=True, check=False)
        return run

    def row(self, files):
        run = self.stats(files)
        self.assertEqual(run.returncode, 0, run.stderr)
        rows = [line.split(" | ") for line in run.stdout.splitlines() if line.startswith("| `")]
        self.assertEqual(len(rows), 1, run.stdout)
        # executions, last new edge, plateaued
        return rows[0][1], rows[0][5], rows[0][7].rstrip(" |")

    def test_one_session(self):
        log = session([(200, 11, [0x10]), (400, 12, [0x20])], executed=1000)
        self.assertEqual(self.row({"t.log": log}), ("1,000", "400 (40 %)", "yes"))

    def test_an_edge_an_earlier_session_found_is_found_again(self):
        first = session([(300, 11, [0x10])], executed=1000)
        second = session([(150, 11, [0x10])], executed=1000, base=BASE + 0x1000)
        self.assertEqual(self.row({"t.log": first + second}), ("2,000", "300 (15 %)", "yes"))
        third = session([(150, 11, [0x30])], executed=1000)
        self.assertEqual(self.row({"t.log": first + third}), ("2,000", "1,150 (57 %)", "no"))

    def test_the_corpus_being_loaded_is_not_growth(self):
        first = session([], executed=1000)
        second = session([], executed=1000, loading=[(64, 11)])
        self.assertEqual(self.row({"t.log": first + second}), ("2,000", "0 (0 %)", "yes"))

    def test_a_session_cut_off_counts_to_its_last_status_line(self):
        cut = session([(500, 11, [0x10]), (700, 11, [])])
        after = session([(100, 12, [0x20])], executed=2000)
        self.assertEqual(self.row({"t.log": cut + after}), ("2,700", "800 (29 %)", "yes"))

    def test_a_directory_of_runs_is_read_in_the_order_of_their_numbers(self):
        files = {"t/run-9.log": session([(300, 11, [0x10])], executed=1000),
                 "t/run-11.log.gz": session([(100, 12, [0x20])], executed=1000)}
        self.assertEqual(self.row(files), ("2,000", "1,100 (55 %)", "no"))

    def test_a_record_of_lost_runs_comes_first(self):
        prior = "# lost\nexecutions 5000\nlast-new-edge 2000\nedges 45585\nfound 0x10 0x11\n"
        again = session([(100, 11, [0x10])], executed=6000)
        self.assertEqual(self.row({"t/a.prior": prior, "t/run-1.log": again}),
                         ("11,000", "2,000 (18 %)", "yes"))
        new = session([(100, 11, [0x12])], executed=6000)
        self.assertEqual(self.row({"t/a.prior": prior, "t/run-1.log": new}),
                         ("11,000", "5,100 (46 %)", "yes"))

    def test_the_doublings_of_a_record_are_not_known(self):
        prior = "executions 3000000\nlast-new-edge 1500000\nedges 45585\n"
        log = session([(1_500_000, 11, [0x10])], executed=2_000_000)
        run = self.stats({"t/a.prior": prior, "t/run-1.log": log}, "--doublings")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.splitlines()[1:], [
            "        1,000,000 to     2,000,000: not known (a record of lost logs)",
            "        2,000,000 to     4,000,000:    0 edges after the record's end",
            "        4,000,000 to     5,000,000:    1 edges"])

    def test_logs_of_different_binaries_are_refused(self):
        prior = "executions 5000\nlast-new-edge 2000\nedges 45585\n"
        other = session([], executed=10, edges=45586)
        run = self.stats({"t/a.prior": prior, "t/run-1.log": other})
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("different binaries", run.stderr)
        one, two = session([], executed=10), session([], executed=10, binary="cd" * 32)
        run = self.stats({"t.log": one + two})
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("SHA-256", run.stderr)

    def test_a_malformed_record_is_a_clear_error(self):
        run = self.stats({"t/a.prior": "executions many\n", "t/run-1.log": session([], 10)})
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("needs one `executions N`", run.stderr)
        self.assertNotIn("Traceback", run.stderr)


if __name__ == "__main__":
    unittest.main()
