//! Dotted versions: Kubernetes `X.Y`, kernel releases, runtime versions.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A Kubernetes minor version, `X.Y` (a patch, if given, is kept for display only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32) -> Self {
        Version { major, minor }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for Version {
    type Err = String;

    /// Accepts `1.31`, `v1.31` and `1.31.2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a Kubernetes version like 1.31");
        let trimmed = s.trim().trim_start_matches('v');
        let mut parts = trimmed.split('.');
        let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        match parts.next() {
            None => {}
            Some(patch) if patch.parse::<u32>().is_ok() && parts.next().is_none() => {}
            Some(_) => return Err(bad()),
        }
        Ok(Version { major, minor })
    }
}

/// Compares two free-form versions by their leading dotted numbers: `6.18.44-fc` > `6.1`,
/// `1.7.0` == `1.7`. `None` when either has no leading number.
pub fn compare_loose(a: &str, b: &str) -> Option<Ordering> {
    let a = numeric_parts(a)?;
    let b = numeric_parts(b)?;
    let len = a.len().max(b.len());
    let pad = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    Some(
        (0..len)
            .map(|i| pad(&a, i).cmp(&pad(&b, i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal),
    )
}

fn numeric_parts(v: &str) -> Option<Vec<u64>> {
    let v = v.trim().trim_start_matches('v');
    let mut parts = Vec::new();
    for piece in v.split('.') {
        let digits: String = piece.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            break;
        }
        parts.push(digits.parse().ok()?);
        if digits.len() != piece.len() {
            break;
        }
    }
    (!parts.is_empty()).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubernetes_versions() {
        assert_eq!("1.31".parse::<Version>(), Ok(Version::new(1, 31)));
        assert_eq!("v1.30.2".parse::<Version>(), Ok(Version::new(1, 30)));
        assert!("1".parse::<Version>().is_err());
        assert!("1.x".parse::<Version>().is_err());
        assert!(Version::new(1, 9) < Version::new(1, 10));
    }

    #[test]
    fn loose_comparison() {
        assert_eq!(
            compare_loose("6.18.44-fc-v657", "5.4"),
            Some(Ordering::Greater)
        );
        assert_eq!(compare_loose("1.7", "1.7.0"), Some(Ordering::Equal));
        assert_eq!(compare_loose("v1.30.2", "1.31"), Some(Ordering::Less));
        assert_eq!(compare_loose("abc", "1"), None);
    }
}
