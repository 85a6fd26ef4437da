//! Issue/verify rates per core and the status list rebuild time, in release mode:
//! `cargo run --release -p skill-ledger-vc --example throughput`. Each figure is the best of
//! three rounds (the other rounds are printed too), since a shared machine is noisy.

use skill_ledger_vc::{bench, Suite};

fn main() -> Result<(), skill_ledger_vc::VcError> {
    for (suite, n) in [(Suite::EddsaRdfc2022, 5_000), (Suite::EddsaJcs2022, 20_000)] {
        let rounds = (0..3)
            .map(|_| bench::measure(suite, n, 500))
            .collect::<Result<Vec<_>, _>>()?;
        let issue: Vec<f64> = rounds.iter().map(|r| r.issued_per_second).collect();
        let verify: Vec<f64> = rounds.iter().map(|r| r.verified_per_second).collect();
        let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        println!(
            "{suite}: issue {:.0}/s, verify {:.0}/s per core (best of rounds {issue:.0?} / {verify:.0?})",
            best(&issue),
            best(&verify)
        );
    }
    for revoked in [10_000u64, 1_000_000] {
        for suite in Suite::ALL {
            let t = (0..3)
                .map(|_| bench::status_list_rebuild(revoked, suite))
                .collect::<Result<Vec<_>, _>>()?;
            let best = t.iter().min().copied().unwrap_or_default();
            println!(
                "status list: new + {revoked} sets + encode + sign ({suite}): {:.1} ms",
                best.as_secs_f64() * 1e3
            );
        }
    }
    Ok(())
}
