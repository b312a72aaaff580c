//! What a pipeline breaks: each rule with its field path, collected in field order.

use std::fmt;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field path, e.g. `spec.environments[2]`.
    pub path: String,
    /// The rule, e.g. `duplicate environment "dev"`.
    pub rule: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.rule)
    }
}

/// Every rule a pipeline breaks, in field order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Violations(pub Vec<Violation>);

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<String> = self.0.iter().map(Violation::to_string).collect();
        f.write_str(&texts.join("; "))
    }
}

/// Collects violations.
#[derive(Default)]
pub(super) struct Collector(pub(super) Vec<Violation>);

impl Collector {
    pub(super) fn add(&mut self, path: impl Into<String>, rule: impl Into<String>) {
        self.0.push(Violation {
            path: path.into(),
            rule: rule.into(),
        });
    }
}
