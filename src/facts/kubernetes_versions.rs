//! What each Kubernetes minor release's kubeadm expects, where it matters to the node.
//!
//! The pause image: kubeadm's `constants.PauseVersion` (cmd/kubeadm/app/constants/
//! constants.go), which `kubeadm config images list` prints and kubeadm's preflight compares
//! with the runtime's sandbox image (a mismatch is a warning). Sources, per minor:
//! - 1.26–1.30 → 3.9, 1.31–1.32 → 3.10: kubernetes/minikube
//!   pkg/minikube/constants/constants_kubeadm_images.go (generated from each release's
//!   `kubeadm config images list`: v1.26.0–v1.26.15, v1.27.0–v1.27.16, … v1.31.2, v1.32 betas);
//!   1.32's value is also in kubernetes/kubernetes constants.go on release-1.32
//!   (`PauseVersion = "3.10"`).
//! - 1.33 → 3.10: unchanged until kubernetes/kubernetes PR #130713 ("update pause version to
//!   registry.k8s.io/pause:3.10.1"), merged 2025-07-10, after 1.33 was released.
//! - 1.34, 1.35 → 3.10.1: that PR, in 1.34 (kubernetes-sigs/kubespray PR #12827 "Update pause
//!   image to 3.10.1 for Kubernetes 1.34").
//! - 1.36 → 3.10.2: kubeclipper/kubeclipper PR #947 ("k8s 1.36 uses pause:3.10.2"). Less
//!   certain than the others: the upstream PR found (kubernetes/kubernetes #138195) is closed.

use crate::version::Version;

/// The registry kubeadm pulls from unless `imageRepository` says otherwise.
pub const DEFAULT_REGISTRY: &str = "registry.k8s.io";

const PAUSE_VERSIONS: &[(u32, &str)] = &[
    (26, "3.9"),
    (27, "3.9"),
    (28, "3.9"),
    (29, "3.9"),
    (30, "3.9"),
    (31, "3.10"),
    (32, "3.10"),
    (33, "3.10"),
    (34, "3.10.1"),
    (35, "3.10.1"),
    (36, "3.10.2"),
];

/// The pause image kubeadm of `version` expects, or why it is not known.
pub fn pause_image(version: Version) -> Result<String, String> {
    let (first, last) = (
        PAUSE_VERSIONS[0].0,
        PAUSE_VERSIONS[PAUSE_VERSIONS.len() - 1].0,
    );
    if version.major != 1 {
        return Err(format!("no pause image is known for Kubernetes {version}"));
    }
    PAUSE_VERSIONS
        .iter()
        .find(|(minor, _)| *minor == version.minor)
        .map(|(_, tag)| format!("{DEFAULT_REGISTRY}/pause:{tag}"))
        .ok_or_else(|| {
            format!(
                "the pause image of Kubernetes {version} is not known (the table covers 1.{first} to 1.{last})"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_versions() {
        assert_eq!(
            pause_image(Version::new(1, 30)).unwrap(),
            "registry.k8s.io/pause:3.9"
        );
        assert_eq!(
            pause_image(Version::new(1, 31)).unwrap(),
            "registry.k8s.io/pause:3.10"
        );
        assert_eq!(
            pause_image(Version::new(1, 35)).unwrap(),
            "registry.k8s.io/pause:3.10.1"
        );
    }

    #[test]
    fn unknown_versions_say_why() {
        let err = pause_image(Version::new(1, 20)).unwrap_err();
        assert!(err.contains("1.26 to 1.36"), "{err}");
        assert!(pause_image(Version::new(2, 0)).is_err());
    }
}
