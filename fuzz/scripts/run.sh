#!/usr/bin/env bash
# Fuzzes one target for a while, single process, at the lowest CPU priority, seeding it from
# SEEDS/<target> (fuzz/scripts/seeds.py) and saving new inputs into fuzz/corpus/<target>.
# libFuzzer's final statistics are at the end of LOGS/<target>.log.
#
# Usage (from the repository root): fuzz/scripts/run.sh TARGET SECONDS [SEEDS] [LOGS]
set -euo pipefail
target=$1
seconds=$2
seeds=${3:-/tmp/np-seeds}
logs=${4:-/tmp/np-fuzz-logs}
cd "$(dirname "$0")/.."
mkdir -p "corpus/$target" "$logs"

case $target in
    bundle_archive | bundle_tar) max_len=1048576 ;;
    *) max_len=65536 ;;
esac
dict=()
case $target in
    sysctl_d | modules_load_d | containerd_config | crio_config | kubelet_flags | kubelet_config | \
        daemon_json | proc_mounts | mountinfo | proc_modules | proc_cgroups | kernel_config | docker_api)
        dict=(-dict=dict/files.dict) ;;
esac

extra=()
[ -d "$seeds/$target" ] && extra=("$seeds/$target")

nice -n 19 cargo +nightly fuzz run --sanitizer none "$target" "corpus/$target" "${extra[@]}" -- \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "${dict[@]}" 2>&1 | tee -a "$logs/$target.log" | grep -E "^#[0-9]+.*(INITED|DONE)|^stat::|ERROR|panicked|Test unit written" || true
