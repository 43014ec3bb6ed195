//! Integration tests: the real binary run against fixture hosts, live hosts and real
//! runtimes, with whole outputs compared.

mod util;

mod bench_smoke;
mod bundle;
mod catalog;
mod containerd_config;
mod cri;
mod faults;
mod fix;
mod fixtures;
mod fuzz_corpus;
mod hardening;
mod live;
mod output_safety;
mod prometheus;
mod reports;
mod runtimes;
mod unprivileged;
