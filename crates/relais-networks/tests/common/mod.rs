//! Helpers shared by the test binaries.
#![allow(dead_code)]

pub mod cbor;
