#!/usr/bin/env python3
"""Fuzzes every target until it plateaus, two at a time, and merges what each found into the
committed corpora.

The targets are built with coverage on node-preflight's own crate only (rustc-wrapper, beside
this script). Each runs on a scratch copy of fuzz/corpus/<target> (libFuzzer, no sanitizer, nice 19)
and is stopped (SIGINT: libFuzzer prints its final statistics) once it has plateaued by the
criterion of stats.py, on executions: no new coverage edge in the last half of the session's
executions, after at least --min seconds of the fuzzer's CPU time (which, for a
single-threaded fuzzer, counts its work whatever else the machine does) and at least
--min-execs executions; or at --max CPU seconds whatever it is doing. With --features it
must also have found no new feature (an edge's hit-count bucket) in the last quarter:
hardening.md says why that is not the default. Its log is LOGS/<target>.log, which stats.py
reads. The inputs that add coverage are merged back into fuzz/corpus/<target>, truncated as
the committed corpora are (bundle_tar's up to 64 KiB a tar stream). The text targets get
fuzz/dict/files.dict, and those that read TOML, YAML, JSON or HTTP also that format's syntax
(toml.dict, yaml.dict, json.dict, http.dict).

Do not stop the fuzzers (SIGSTOP) while they run, to benchmark or otherwise: libFuzzer's
-timeout counts wall time, so an input running when they stop is reported, once they go on,
as a hang (a "timeout" crash that ends that fuzzer's run) or a slow unit.

One target for a fixed time is `--min S --max S TARGET`; `--seeds DIR` adds the seeds that
seeds.py writes to each target's starting inputs. Two runs of one target at once (a core
each) need a --scratch and --logs of their own and --no-merge, and then one merge of both
scratch copies (hardening.md, session 23).

Usage (from anywhere): fuzz/scripts/campaign.py [--jobs 2] [--min 120] [--max 480]
                       [--min-execs N] [--features]
                       [--logs /tmp/np-campaign/logs] [--seeds DIR] [--no-build] [--no-merge]
                       [TARGET ...]
"""
import argparse
import fcntl
import gzip
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

FUZZ = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Built apart from `cargo fuzz build`'s own (fuzz/target), with coverage on the tool's crate
# only (scripts/rustc-wrapper says why).
TARGET_DIR = os.path.join(FUZZ, "target", "own")
BIN = os.path.join(TARGET_DIR, "x86_64-unknown-linux-gnu", "release")
DICT_TARGETS = {
    "sysctl_d", "modules_load_d", "containerd_config", "crio_config", "kubelet_flags",
    "kubelet_config", "daemon_json", "proc_mounts", "mountinfo", "proc_modules",
    "proc_cgroups", "kernel_config", "docker_api",
}
# The syntax of the formats the targets read, which their parsers teach the fuzzer too little
# of (toml's, serde-saphyr's and hyper's parsers are not instrumented, scripts/rustc-wrapper;
# the JSON one found edges where runs without it found none: hardening.md, session 9). Added
# to files.dict where both apply (libFuzzer takes one -dict, so they are joined in scratch).
SYNTAX_DICT = {
    "containerd_config": ["toml.dict"], "crio_config": ["toml.dict"],
    "kubelet_config": ["yaml.dict"], "daemon_json": ["json.dict"], "docker_api": ["json.dict"],
    "docker_http": ["json.dict", "http.dict"],
}
# The longest input a merge keeps: what keeps the committed corpora small (see hardening.md).
MERGE_LEN = {
    **{t: 2048 for t in ("proc_mounts", "mountinfo", "sysctl_d", "containerd_config",
                         "crio_config", "kubelet_config", "kubelet_flags", "daemon_json")},
    **{t: 4096 for t in ("kernel_config", "modules_load_d", "docker_api", "docker_http")},
    **{t: 65536 for t in ("proc_modules", "proc_cgroups", "kernel_config_gz", "cri_responses")},
    "bundle_tar": 65536,
    "bundle_archive": 1048576,
}
TICKS = os.sysconf("SC_CLK_TCK")
STATUS = re.compile(r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+)")


def targets():
    names = os.listdir(os.path.join(FUZZ, "fuzz_targets"))
    return sorted(n[:-3] for n in names if n.endswith(".rs"))


LOAD_BASE = "=== load base "  # the line fuzz() writes in the log after INITED
# The line fuzz() writes after its first: which binary ran, so that stats.py can refuse to
# compare the edges of different builds (a rebuild on another machine need not be the same).
BINARY_SHA256 = "=== binary sha256 "


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def log_lines(path):
    """The lines of a log as this script writes it, or gzipped as fuzz/logs keeps it."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", errors="replace") as f:
        yield from f


def logged_load_base(line):
    # The load base a LOAD_BASE line of a log gives, or None if it was not known.
    value = line.split()[-1]
    return int(value, 16) if value.startswith("0x") else None


def load_base(pid, binary):
    # Where the (position-independent) fuzzer was loaded: without a sanitizer runtime
    # libFuzzer prints NEW_FUNC as bare addresses, which newfuncs.py names with this.
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                if line.rstrip().endswith(binary):
                    return "0x" + line.split("-", 1)[0]
    except OSError:
        pass
    return "unknown"


def fuzz(target, args, scratch, say):
    # One campaign a target at a time: a second would delete the first's working copy while
    # the first reads it, and both merge into the same committed corpus. The lock goes with
    # the file, when this returns or the process ends.
    lock = open(os.path.join(scratch, f"{target}.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        say(f"{target}: not started, another campaign is fuzzing it ({lock.name} is locked)")
        lock.close()
        return
    work = os.path.join(scratch, target)
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(os.path.join(FUZZ, "corpus", target), work)
    if args.seeds and os.path.isdir(os.path.join(args.seeds, target)):
        # Fresh seeds (seeds.py) run beside the corpus; the merge keeps those that add coverage.
        shutil.copytree(os.path.join(args.seeds, target), work, dirs_exist_ok=True)
    max_len = 1048576 if target.startswith("bundle") else 65536
    binary = os.path.join(BIN, target)
    cmd = ["nice", "-n", "19", binary, work,
           f"-max_len={max_len}", "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1",
           # Each edge found after start-up (each step of cov:) as a NEW_PC line, which
           # newfuncs.py places in the source: what a long run still finds, not just how much.
           "-print_pcs=1",
           f"-artifact_prefix={scratch}/crash-{target}-"]
    names = (["files.dict"] if target in DICT_TARGETS else []) + SYNTAX_DICT.get(target, [])
    if names:
        joined = os.path.join(scratch, f"{target}.dict")
        with open(joined, "w") as out:
            for name in names:
                with open(os.path.join(FUZZ, "dict", name)) as part:
                    out.write(part.read() + "\n")
        cmd.append("-dict=" + joined)
    log = open(os.path.join(args.logs, f"{target}.log"), "a")
    log.write(f"=== campaign {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} "
              f"min {args.min} s max {args.max} s min-execs {args.min_execs}"
              f" dict {' + '.join(names) or 'none'}\n")
    log.write(f"{BINARY_SHA256}{sha256(binary)}\n")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            errors="replace")
    started = None
    # Execution counts (libFuzzer's #N, which stats.py counts too) at the last new edge and
    # feature, and (executions, CPU s) at every status line since INITED.
    last_cov = last_ft = 0
    marks = []
    cov = ft = None
    stop = threading.Event()

    def cpu():
        # utime + stime of the fuzzer, in seconds (fields 14 and 15 of /proc/PID/stat).
        try:
            with open(f"/proc/{proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, IndexError, ValueError):
            return 0.0

    def executions(now):
        # libFuzzer prints a status line at each new input and each power of two of
        # executions, so between lines the count is extrapolated, at the speed of the last
        # half of the executions so far (the speed changes as the corpus grows).
        if not marks:
            return 0
        n1, c1 = marks[-1]
        n0, c0 = next((n, c) for n, c in marks if n >= n1 / 2 or (n, c) == marks[-1])
        if (n0, c0) == (n1, c1):
            n0, c0 = marks[0]
        rate = (n1 - n0) / (c1 - c0) if c1 > c0 else 0
        return n1 + rate * max(now - c1, 0)

    def watch():
        # Stops the session once it has plateaued (or at --max CPU s), judged every second on
        # executions as stats.py judges it: a fuzzer's speed changes during a run, so a
        # plateau in CPU time need not be one in executions.
        while not stop.wait(1.0):
            if started is None:
                continue
            now = cpu()
            total = executions(now)
            # total is an estimate between status lines: ask 1 % more than half, so that the
            # count libFuzzer prints at the end (stats.py's) is past twice the last new edge
            # too (session 12 stopped a run 186 executions short of it).
            plateau = (now - started >= args.min and total >= args.min_execs
                       and total - last_cov >= total * 0.51
                       and (not args.features or total - last_ft >= total / 4))
            if plateau or now - started >= args.max:
                proc.send_signal(signal.SIGINT)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    executed = None
    for line in proc.stderr:
        log.write(line)
        if line.startswith("stat::number_of_executed_units:"):
            executed = int(line.split()[-1])
        m = STATUS.match(line)
        if not m:
            continue
        now = cpu()
        n, c, f = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if m.group(2) == "INITED":
            started = now
            log.write(f"{LOAD_BASE}{load_base(proc.pid, binary)}\n")
        elif started is not None:
            if cov is not None and c > cov:
                last_cov = n
            if ft is not None and f > ft:
                last_ft = n
        if started is not None:
            marks.append((n, now))
        cov, ft = c, f
    cpu_end = cpu()
    elapsed = cpu_end - started if started else 0
    code = proc.wait()
    if executed is None:
        executed = round(executions(cpu_end))
    stop.set()
    log.close()
    say(f"{target}: {elapsed:.0f} CPU s, {executed:,} executions, cov {cov} "
        f"(last new at #{last_cov:,}), ft {ft} (last new at #{last_ft:,}), exit {code}")
    crashes = [f for f in os.listdir(scratch) if f.startswith(f"crash-{target}-")]
    if crashes:
        say(f"{target}: CRASH inputs in {scratch}: {crashes}")
    if not args.no_merge and target in MERGE_LEN:
        before = len(os.listdir(os.path.join(FUZZ, "corpus", target)))
        subprocess.run([binary, "-merge=1", f"-max_len={MERGE_LEN[target]}",
                        os.path.join(FUZZ, "corpus", target), work],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        after = len(os.listdir(os.path.join(FUZZ, "corpus", target)))
        say(f"{target}: merged, {before} -> {after} committed inputs")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--min", type=float, default=120)
    parser.add_argument("--max", type=float, default=480)
    # A floor in executions as well as in CPU time: a slow target (containerd_config runs
    # at under 700 a second) can go 300 s without a new edge and still have edges to find.
    parser.add_argument("--min-execs", type=int, default=0,
                        help="do not call a plateau before this many executions")
    parser.add_argument("--logs", default="/tmp/np-campaign/logs")
    parser.add_argument("--scratch", default="/tmp/np-campaign/work")
    parser.add_argument("--seeds", help="also start each target from SEEDS/<target> (seeds.py)")
    parser.add_argument("--features", action="store_true",
                        help="also wait for features to stop growing")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--no-merge", action="store_true")
    parser.add_argument("targets", nargs="*")
    args = parser.parse_args()
    os.makedirs(args.logs, exist_ok=True)
    os.makedirs(args.scratch, exist_ok=True)
    if not args.no_build:
        env = dict(os.environ, RUSTC_WRAPPER=os.path.join(FUZZ, "scripts", "rustc-wrapper"))
        subprocess.run(["cargo", "+nightly", "fuzz", "build", "--sanitizer", "none",
                        "--target-dir", TARGET_DIR], cwd=FUZZ, env=env, check=True)
    queue = args.targets or targets()
    # The bundle targets last: the slowest to settle.
    queue.sort(key=lambda t: t.startswith("bundle"))
    lock = threading.Lock()

    def say(text):
        with lock:
            print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                target = queue.pop(0)
            fuzz(target, args, args.scratch, say)

    threads = [threading.Thread(target=worker) for _ in range(args.jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    say("done")


if __name__ == "__main__":
    sys.exit(main())
