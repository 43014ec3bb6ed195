//! Getting a thread just spawned onto a core of its own at once.
//!
//! Linux places a new thread on its parent's CPU and, on a machine whose CPUs share no cache
//! level, looks for an idle one only when it next balances load. Such machines are common: a
//! VM whose vCPUs report no shared cache (this project's 2-core Firecracker VM, kernel 6.18,
//! `PREEMPT_NONE`, HZ=250) is one. There the helper thread of a live run waited behind its
//! parent for 0.8 ms of a 3.3 ms run in most runs, the other core idle all the while; a waking
//! thread fares no better (it joins its waker's CPU). So the parent steps aside instead: it
//! moves itself to another CPU it may use, and the helper starts on the freed one at once.
//! Where the scheduler would have spread them anyway, this costs one migration of the parent.

use nix::sched::{sched_getaffinity, sched_getcpu, sched_setaffinity, CpuSet};
use nix::unistd::Pid;

/// How many CPUs the calling thread may run on (1 when that cannot be told).
///
/// The affinity mask rather than `std::thread::available_parallelism`, which also looks for a
/// cgroup CPU quota: four more files and 0.1 ms of a 3 ms live run. A quota only makes the
/// handful of group threads take turns.
pub fn usable_cpus() -> usize {
    sched_getaffinity(Pid::from_raw(0)).map_or(1, |allowed| count(&allowed).max(1))
}

fn count(allowed: &CpuSet) -> usize {
    (0..CpuSet::count())
        .filter(|&cpu| allowed.is_set(cpu).unwrap_or(false))
        .count()
}

/// The calling thread's CPUs, put back when dropped.
pub struct StepAside {
    allowed: Option<CpuSet>,
}

impl StepAside {
    /// Remembers the CPUs the calling thread may run on.
    pub fn new() -> StepAside {
        StepAside {
            allowed: sched_getaffinity(Pid::from_raw(0)).ok(),
        }
    }

    /// Moves the calling thread to the next CPU it may use after the one it is on, leaving
    /// that one to the thread it just spawned. Best effort: where the CPU or the affinity
    /// cannot be had, the scheduler decides, as it would have. Returns the CPU moved to.
    pub fn step(&self) -> Option<usize> {
        let (Some(allowed), Ok(here)) = (&self.allowed, sched_getcpu()) else {
            return None;
        };
        let count = CpuSet::count();
        let next = (1..count)
            .map(|i| (here + i) % count)
            .find(|&cpu| allowed.is_set(cpu).unwrap_or(false));
        let mut only = CpuSet::new();
        only.set(next?).ok()?;
        sched_setaffinity(Pid::from_raw(0), &only).ok()?;
        next
    }
}

impl Drop for StepAside {
    fn drop(&mut self) {
        if let Some(allowed) = &self.allowed {
            let _ = sched_setaffinity(Pid::from_raw(0), allowed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepping_aside_moves_off_the_cpu_and_gives_every_cpu_back() {
        let before = sched_getaffinity(Pid::from_raw(0)).expect("the affinity of this thread");
        let usable = usable_cpus();
        assert_eq!(usable, count(&before));
        {
            let aside = StepAside::new();
            let moved_to = aside.step();
            if usable > 1 {
                let moved_to = moved_to.expect("a CPU to move to");
                assert!(before.is_set(moved_to).expect("a CPU number"));
                // Pinned there until the drop: it is where the thread runs now.
                assert_eq!(sched_getcpu().expect("the CPU of this thread"), moved_to);
            }
        }
        assert_eq!(
            sched_getaffinity(Pid::from_raw(0)).expect("the affinity of this thread"),
            before
        );
    }
}
