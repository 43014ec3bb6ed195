//! `{ kind = "swap" }`: the documented remedy of node.swap and kubelet.swap — swap off now
//! (live only) and the swap entries of /etc/fstab commented out so that it stays off.
//! (Keeping swap with failSwapOn: false is a choice, not a fix: it stays in the comments.)

use super::shell::{live_only, rooted};
use super::Remedy;

pub fn remedy() -> Remedy {
    let mut remedy = Remedy::default();
    remedy.notes.push(
        "Turn swap off now (live only) and comment out the swap entries of /etc/fstab. Swap units \
         or zram set up by systemd are not in fstab: disable them by hand."
            .to_string(),
    );
    remedy
        .commands
        .extend(live_only(&["swapoff -a".to_string()]));
    remedy
        .commands
        .push(format!("np_fstab_no_swap {}", rooted("/etc/fstab")));
    remedy
}

#[cfg(test)]
mod tests {
    #[test]
    fn swap_goes_off_now_and_out_of_fstab() {
        let r = super::remedy();
        assert_eq!(
            r.commands,
            [
                "if [ -z \"$ROOT\" ]; then",
                "  swapoff -a",
                "  echo 'node-preflight fix: ran swapoff -a'",
                "fi",
                "np_fstab_no_swap \"$ROOT\"/etc/fstab",
            ]
        );
        assert!(r.live.is_empty());
    }
}
