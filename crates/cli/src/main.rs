//! `skill-ledger`: the command line of the skill-ledger node.
//!
//! Exit codes: 0 success, 1 verification failed or event rejected, 2 usage or I/O error.

mod admin;
mod batch_file;
mod bench;
mod bench_issue_batch;
mod bench_proofs;
mod bench_sync;
mod bench_vc;
mod bench_verify;
mod bench_workload;
mod bundle;
mod demo;
mod demo_federation;
mod input;
mod issue_batch;
mod key_compromise;
mod output;
mod query;
mod recognize;
mod remote;
mod serve;
mod sign;
mod submit;
mod sync;
mod table;
mod vc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// sled and the request path allocate many small, short-lived buffers; glibc's allocator
/// spent about a third of the projection writer's time in `malloc`/`free` (perf, `bench
/// ingest`). mimalloc's thread-local free lists are much cheaper for that pattern.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A failure with the exit code it maps to.
pub struct Failure {
    pub exit_code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    /// Verification failed or the ledger refused the event (exit 1).
    pub fn refused(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            exit_code: 1,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Failure {
        Failure {
            exit_code: 2,
            error: error.into(),
        }
    }
}

pub type CliResult = Result<(), Failure>;

#[derive(Parser)]
#[command(
    name = "skill-ledger",
    version,
    about = "A tamper-evident ledger of vocational skill credentials (新八级, 川渝互认)",
    long_about = None
)]
pub struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Language of messages for people (rejections): zh or en. Default: zh when the locale
    /// (LC_ALL, else LC_MESSAGES, else LANG) starts with "zh", en otherwise.
    #[arg(long, global = true, value_enum)]
    pub lang: Option<output::Lang>,
    #[command(subcommand)]
    pub command: Command,
}

/// The ledger directory a command works on.
#[derive(Args, Clone)]
pub struct DirArg {
    /// Ledger directory (e.g. the demo's D/50).
    #[arg(long, short = 'd', env = "SKILL_LEDGER_DIR")]
    pub dir: PathBuf,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create a ledger directory with new authority and pseudonym keys.
    Init(admin::InitArgs),
    /// Signing keys for evaluation bodies.
    Key {
        #[command(subcommand)]
        command: admin::KeyCommand,
    },
    /// Rotate or recover the authority key (docs/security.md, "The authority key").
    Authority {
        #[command(subcommand)]
        command: admin::AuthorityCommand,
    },
    /// Register, suspend, reinstate or cancel an evaluation body (signed by the authority).
    Body {
        #[command(subcommand)]
        command: admin::BodyCommand,
    },
    /// Issue a credential, signed by the issuing body's key.
    Issue(admin::IssueArgs),
    /// Issue an exam session's results from a CSV (UTF-8 or GB18030) or .xlsx file, one
    /// credential per row, signed here by the body's key, to --dir or --node: every row checked
    /// first, --dry-run asks the node's rules without writing, a receipt per row, reruns
    /// answered as duplicates (docs/formats.md, Part 7).
    #[command(alias = "issue-csv")]
    IssueBatch(issue_batch::IssueBatchArgs),
    /// Sign certifications offline (from a results file's rows, or JSON event descriptions)
    /// into an entry file, one base64 entry per line, for `submit` later.
    Sign(sign::SignArgs),
    /// Submit an entry file (one base64 entry per line) to a serving node; a receipt per entry.
    Submit(submit::SubmitArgs),
    /// Revoke a credential (by its issuer with --key, otherwise by the authority).
    Revoke(admin::RevokeArgs),
    /// 互认: recognise a partner's credential as its mirror holds it (signed by the
    /// authority), or withdraw a recognition with --withdraw REASON.
    Recognize(recognize::RecognizeArgs),
    /// Show a credential, a person or a body.
    Show {
        #[command(subcommand)]
        command: query::ShowCommand,
    },
    /// Verify a certificate number and holder name: valid, revoked or unknown.
    Verify(query::VerifyArgs),
    /// Recompute every projection from the log and compare digests.
    Rebuild(query::RebuildArgs),
    /// Statistics: counts per level, province, occupation group, year; high-skill share;
    /// with `--by route`, how the talent standing now was produced, route by route.
    Stats(query::StatsArgs),
    /// Print the latest signed checkpoint (or, with --vkey, the verifier key).
    Checkpoint(query::CheckpointArgs),
    /// Inclusion and consistency proofs.
    Proof {
        #[command(subcommand)]
        command: query::ProofCommand,
    },
    /// Recompute the Merkle tree from the log and check it against the signed checkpoint.
    Audit(DirArg),
    /// Write the offline bundle of a credential: its entry, its body's entries, their proofs.
    Bundle(bundle::BundleArgs),
    /// Verify an offline bundle with the ledger's verifier key only: issued or invalid.
    VerifyBundle(bundle::VerifyBundleArgs),
    /// Create a realistic synthetic ledger for Chongqing.
    Demo(demo::DemoArgs),
    /// 川渝 federation: without a subcommand, mirror a partner once (or with --loop, keep
    /// mirroring); subcommands for status, fork evidence and witness cosignatures.
    #[command(subcommand_negates_reqs = true)]
    Sync {
        #[command(subcommand)]
        command: Option<sync::SyncCommand>,
        #[command(flatten)]
        run: sync::RunArgs,
    },
    /// Serve the HTTP API, the log tiles and metrics on a ledger directory.
    Serve(serve::ServeArgs),
    /// W3C Verifiable Credentials 2.0: set up the issuer key, export a credential, print the
    /// controller document and status list, verify a VC offline (docs/vc.md).
    Vc {
        #[command(subcommand)]
        command: vc::VcCommand,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // A usage error under --json still prints its one JSON object (exit 2).
            if error.use_stderr() && std::env::args_os().any(|arg| arg == "--json") {
                let rendered = error.render().to_string();
                let message = rendered
                    .lines()
                    .take_while(|line| !line.trim().is_empty())
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" ");
                output::print_json(&serde_json::json!({
                    "error": message.strip_prefix("error: ").unwrap_or(&message),
                    "exit_code": 2,
                }));
            }
            error.exit()
        }
    };
    // A server logs what it does at INFO (its requests only when `access_log` says so); other
    // commands only warnings.
    let default_filter = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SKILL_LEDGER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let json = cli.json;
    output::set_lang(
        cli.lang
            .unwrap_or_else(|| output::Lang::from_environment(|name| std::env::var(name).ok())),
    );
    let result = match cli.command {
        Command::Init(args) => admin::init(args, json),
        Command::Key { command } => admin::key(command, json),
        Command::Authority { command } => admin::authority(command, json),
        Command::Body { command } => admin::body(command, json),
        Command::Issue(args) => admin::issue(args, json),
        Command::IssueBatch(args) => issue_batch::issue_batch(args, json),
        Command::Sign(args) => sign::sign(args, json),
        Command::Submit(args) => submit::submit(args, json),
        Command::Revoke(args) => admin::revoke(args, json),
        Command::Recognize(args) => recognize::recognize(args, json),
        Command::Show { command } => query::show(command, json),
        Command::Verify(args) => query::verify(args, json),
        Command::Rebuild(args) => query::rebuild(args, json),
        Command::Stats(args) => query::stats(args, json),
        Command::Checkpoint(args) => query::checkpoint(args, json),
        Command::Proof { command } => query::proof(command, json),
        Command::Audit(args) => query::audit(args, json),
        Command::Bundle(args) => bundle::bundle(args, json),
        Command::VerifyBundle(args) => bundle::verify_bundle(args, json),
        Command::Demo(args) => demo::run(args, json),
        Command::Sync {
            command: Some(command),
            ..
        } => sync::run(command, json),
        Command::Sync { command: None, run } => sync::run_mirror(run, json),
        Command::Serve(args) => serve::run(args, json),
        Command::Vc { command } => vc::run(command, json),
        Command::Bench { command } => bench::run(command, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // One JSON object on stdout: a command that already printed its own
            // (a rejection, a failed verification) is not followed by a second.
            if json && !output::json_printed() {
                let body = serde_json::json!({
                    "error": format!("{:#}", failure.error),
                    "exit_code": failure.exit_code,
                });
                println!("{body}");
            }
            eprintln!("skill-ledger: {:#}", failure.error);
            ExitCode::from(failure.exit_code)
        }
    }
}
