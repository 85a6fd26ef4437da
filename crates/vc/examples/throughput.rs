//! Issue/verify rates per core and the status list rebuild time, in release mode:
//! `cargo run --release -p skill-ledger-vc --example throughput`.

use skill_ledger_vc::{bench, Suite};

fn main() -> Result<(), skill_ledger_vc::VcError> {
    for (suite, n) in [(Suite::EddsaRdfc2022, 5_000), (Suite::EddsaJcs2022, 20_000)] {
        let r = bench::measure(suite, n, 500)?;
        println!(
            "{suite}: issue {:.0}/s, verify {:.0}/s (one core)",
            r.issued_per_second, r.verified_per_second
        );
    }
    for revoked in [10_000u64, 1_000_000] {
        for suite in Suite::ALL {
            let t = bench::status_list_rebuild(revoked, suite)?;
            println!(
                "status list: new + {revoked} sets + encode + sign ({suite}): {:.1} ms",
                t.as_secs_f64() * 1e3
            );
        }
    }
    Ok(())
}
