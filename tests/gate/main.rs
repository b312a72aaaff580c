//! XPromotionGate end to end: the golden responses, idempotency across calls, the
//! security and attack scenarios, faults, progression, the example, properties and the soak.

#[path = "../common/mod.rs"]
mod common;
#[path = "../fake_github/e2e.rs"]
mod e2e;
#[path = "../fake_github/mod.rs"]
mod fake_github;

mod around;
mod attacks;
mod e2e_gate;
mod example;
mod faults;
mod floods;
mod goldens;
mod idempotency;
mod notifications;
mod pod_security;
mod progression;
mod properties;
mod restart;
mod sealed;
mod second;
mod security;
mod soak;
