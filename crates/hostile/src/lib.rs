//! # skill-ledger-hostile: what must hold for any input
//!
//! The fuzz targets of `fuzz/` (cargo fuzz, libFuzzer) are one line each: they call the
//! functions of [`targets`]. The same functions replay the corpus kept in the repository
//! (`fuzz/corpus/<target>/`) under a normal `cargo test` (`tests/corpus.rs`), so every input
//! the fuzzer ever found interesting, and every crash it found, stays a regression test
//! without a fuzzer installed.
//!
//! | target | input | what must hold |
//! |---|---|---|
//! | `entry` | log entry bytes | no panic; decode∘encode is the identity; judging it never panics |
//! | `event` | signer byte ‖ `bincode(Event)` | no panic; round-trip; the rules judge it and an accepted event applies as a fold of the log does |
//! | `checkpoint` | signed notes, checkpoint bodies, cosignatures, key texts, witness requests | canonical forms only; nothing verifies or is cosigned that the fixture key did not sign |
//! | `tile` | tile paths; count byte ‖ entry bundle | canonical paths only; tiles of any coordinates served without panic; bundles round-trip |
//! | `mirror` | one altered response (checkpoint, hash tile or entry bundle) of a partner | a mirror pulling it never panics and holds only the honest log: the signed checkpoint, credentials with their real leaf hashes |
//! | `bundle` | offline bundle text | canonical form only; a bundle that verifies proves exactly the credential the log holds |
//! | `certificate_number` | identifier text or bytes | a parsed number prints back identically and recomposes from its parts; dates, codes, levels likewise |
//! | `policy` | policy or catalogue TOML | no panic; a parsed policy answers every lookup; adopting it is judged and the ledger keeps judging |
//! | `api_json` | route byte ‖ content-type byte ‖ body | through the real router: never 500; API errors are problem documents; the log grows only by an accepted submission |
//!
//! The fixtures ([`fixture`]) use fixed keys, so a crash reproduces from its input alone.

pub mod fixture;
pub mod seeds;
pub mod targets;

pub use targets::{Target, TARGETS};
