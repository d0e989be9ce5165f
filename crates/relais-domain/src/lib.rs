//! Relais domain: the entities, rules and state machines of the community manager's workbench.
//!
//! This crate is pure: it performs no IO and never reads the clock (the current time is always a
//! parameter). Every other crate depends on it; it depends on none of them.

pub mod compose;
pub mod csv_import;
pub mod delivery;
pub mod i18n;
pub mod ical;
pub mod ids;
pub mod listen;
pub mod network;
pub mod permissions;
pub mod post;
pub mod schedule;

pub use i18n::Msg;
pub use network::Network;
