#![no_main]
//! See skill_ledger_hostile::targets::certificate_number for the property.
libfuzzer_sys::fuzz_target!(|data: &[u8]| skill_ledger_hostile::targets::certificate_number(data));
