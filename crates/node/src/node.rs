//! The node: opening and recovering a ledger directory, submitting, querying, rebuilding.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use ed25519_dalek::SigningKey;
use skill_ledger_domain::{
    check_not_backdated, check_not_dated_in_future, BodyRecord, CatalogueAdopted,
    CertificateNumber, CredentialRecord, Date, Event, EventId, EventKind, LedgerEstablished,
    PersonRecord, PolicyAdopted, Province, PseudonymKey, RegistrationNumber, Registry, Rejection,
    SignedEvent, Signer, SubjectId, DEFAULT_POLICY_TOML, SAMPLE_CATALOGUE_TOML,
};
use skill_ledger_log::{
    audit, catch_up_tree, signer_key_text, CheckpointSigner, Log, LogOptions, LogReader,
    MerkleTree, Recovery, SignedCheckpoint, TreeReader,
};

use crate::config::{LedgerConfig, SequencerConfig};
use crate::engine::layout::Projection;
use crate::engine::Engine;
use crate::error::{LedgerPaths, NodeError, NodeErrorKind};
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, Receipt, Shared, SubmitError};
use crate::{Clock, SystemClock};
use skill_ledger_domain::KeyCache;

/// How a new ledger is set up by [`Node::init`].
#[derive(Clone, Debug)]
pub struct InitOptions {
    pub origin: String,
    pub province: Province,
    pub authority_name: String,
    pub date: Date,
    pub catalogue_toml: String,
    pub policy_toml: String,
    /// The pseudonym key shared with partner authorities; a new random key when `None`.
    pub pseudonym_key: Option<[u8; 32]>,
    pub sequencer: SequencerConfig,
    pub projections: crate::config::ProjectionsConfig,
    /// The public half of the offline recovery key (`AuthorityRecoveryKeySet`, logged after
    /// the policy); `skill-ledger init` makes one. `None`: the ledger has no recovery path
    /// if its authority key is lost.
    pub recovery_key: Option<[u8; 32]>,
}

impl InitOptions {
    /// Chongqing with the sample catalogue and the default policy.
    pub fn chongqing() -> InitOptions {
        InitOptions::for_province(Province::CHONGQING, "重庆市人力资源和社会保障局")
    }

    pub fn for_province(province: Province, authority_name: &str) -> InitOptions {
        InitOptions {
            origin: format!("skill-ledger/{province}"),
            province,
            authority_name: authority_name.to_string(),
            date: Date::from_ymd(2019, 1, 1).unwrap_or_else(|| unreachable!("valid date")),
            catalogue_toml: SAMPLE_CATALOGUE_TOML.to_string(),
            policy_toml: DEFAULT_POLICY_TOML.to_string(),
            pseudonym_key: None,
            sequencer: SequencerConfig::default(),
            projections: crate::config::ProjectionsConfig::default(),
            recovery_key: None,
        }
    }

    /// For a ledger that logs a body's earlier certificates (a migration, a fixture, the
    /// demo's generated history): body events are not bounded by the backdating limit
    /// (`backdate_days_max = 0`). Raise it again in ledger.toml once the import is done.
    pub fn importing_history(mut self) -> InitOptions {
        self.sequencer.backdate_days_max = 0;
        self
    }
}

/// What [`Node::open`] found and did.
#[derive(Clone, Debug)]
pub struct OpenReport {
    pub recovery: Recovery,
    /// Entries folded into the projections at start-up (after a crash or a rebuild).
    pub replayed: u64,
    /// Whether the projection database was unreadable and rebuilt from the log.
    pub projections_rebuilt: bool,
}

/// The answer of a name check against a credential's commitment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameCheck {
    Unknown,
    Mismatch,
    Matched(Box<CredentialRecord>),
}

/// Bytes on disk per part of the ledger directory.
#[derive(Clone, Copy, Debug, Default)]
pub struct StorageSizes {
    pub log: u64,
    pub tree: u64,
    pub projections: u64,
}

/// A submission in flight: wait for its durable answer.
pub struct PendingReceipt(tokio::sync::oneshot::Receiver<Result<Receipt, SubmitError>>);

impl PendingReceipt {
    /// Blocks until the sequencer answers. Do not call from inside an async runtime: await
    /// [`PendingReceipt::into_receiver`] there instead.
    pub fn wait(self) -> Result<Receipt, SubmitError> {
        self.0.blocking_recv().unwrap_or_else(|_| {
            Err(SubmitError::Stopped(
                crate::error::Failure::sequencer_ended(),
            ))
        })
    }

    pub fn into_receiver(self) -> tokio::sync::oneshot::Receiver<Result<Receipt, SubmitError>> {
        self.0
    }
}

/// An open ledger node. Dropping it stops the sequencer after the queued work.
pub struct Node {
    paths: LedgerPaths,
    config: Box<LedgerConfig>,
    authority_key: SigningKey,
    /// The new key of an authority key change under way (`keys/authority.next.key`): the
    /// only key an `AuthorityKeyRotated` may name (crate::authority).
    authority_next: Option<[u8; 32]>,
    /// The retired authority key cosigns the checkpoints (a planned rotation's overlap).
    cosigned: bool,
    pseudonym_key: PseudonymKey,
    pipeline: Pipeline,
    projection: Projection,
    log_reader: LogReader,
    tree_reader: TreeReader,
    verifier_key_text: String,
    /// Dates submissions at admission (events dated in the future are refused).
    clock: Arc<dyn Clock>,
    /// The signed status lists last made (crate::vc).
    pub(crate) vc_cache: Box<crate::vc::VcCache>,
    _lock: File,
}

/// The ledger's checkpoint verifier key (`name+hex(keyID)+base64(0x01‖pubkey)`), read from
/// its configuration and authority key file without opening the node: it works while another
/// process (e.g. `serve`) holds the ledger.
pub fn read_verifier_key(dir: &Path) -> Result<String, NodeError> {
    let paths = LedgerPaths::new(dir);
    let config = LedgerConfig::load(&paths.config())?;
    let files = crate::authority::load_key_files(&paths, &config)?;
    Ok(skill_ledger_log::verifier_key_text(
        &config.origin,
        &files.primary,
    ))
}

fn read_key_file(path: &Path) -> Result<String, NodeError> {
    std::fs::read_to_string(path).map_err(|error| NodeError::io(path, "read key file", error))
}

pub(crate) fn write_secret_file(path: &Path, contents: &str) -> Result<(), NodeError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| NodeError::io(path, "create", error))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| NodeError::io(path, "write", error))
}

/// The 32 bytes of a key file holding 64 hex characters (`text`, read from `path`).
pub(crate) fn hex_key(path: &Path, text: &str) -> Result<[u8; 32], NodeError> {
    hex::decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| {
            NodeError::new(
                NodeErrorKind::Config,
                format!(
                    "{}: expected 64 hex characters (a 32-byte key)",
                    path.display()
                ),
            )
        })
}

/// Reads the pseudonym key file (64 hex characters).
pub fn load_pseudonym_key(path: &Path) -> Result<PseudonymKey, NodeError> {
    let bytes = hex_key(path, &read_key_file(path)?)?;
    Ok(PseudonymKey::from_bytes(bytes))
}

fn lock_directory(paths: &LedgerPaths) -> Result<File, NodeError> {
    let path = paths.root.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|error| NodeError::io(&path, "open", error))?;
    file.try_lock().map_err(|_| {
        NodeError::new(
            NodeErrorKind::Directory,
            format!(
                "ledger directory {} is in use by another skill-ledger process",
                paths.root.display()
            ),
        )
    })?;
    Ok(file)
}

pub(crate) fn new_event_id() -> EventId {
    EventId(rand::random())
}

fn directory_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => directory_size(&entry.path()),
            Ok(metadata) => metadata.len(),
            Err(_) => 0,
        })
        .sum()
}

/// The last projection cursor known to be flushed to disk, written at [`Node::close`] (file
/// `projections.flushed` in the ledger directory: the cursor in decimal and a newline). sled
/// recovers a damaged database to an earlier consistent state without an error; a cursor below
/// this one means it lost commits it had made durable, so the projections are not trusted.
const PROJECTIONS_FLUSHED: &str = "projections.flushed";

fn read_flushed_cursor(paths: &LedgerPaths) -> u64 {
    let path = paths.root.join(PROJECTIONS_FLUSHED);
    match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| {
            tracing::warn!(file = %path.display(), "unreadable projection flush mark: ignored");
            0
        }),
        Err(_) => 0,
    }
}

fn write_flushed_cursor(paths: &LedgerPaths, cursor: u64) -> Result<(), NodeError> {
    use std::io::Write;
    let path = paths.root.join(PROJECTIONS_FLUSHED);
    let tmp = paths.root.join(format!("{PROJECTIONS_FLUSHED}.tmp"));
    let mut file = File::create(&tmp).map_err(|error| NodeError::io(&tmp, "create", error))?;
    file.write_all(format!("{cursor}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| NodeError::io(&tmp, "write", error))?;
    std::fs::rename(&tmp, &path).map_err(|error| NodeError::io(&tmp, "rename", error))?;
    File::open(&paths.root)
        .and_then(|dir| dir.sync_all())
        .map_err(|error| NodeError::io(&paths.root, "fsync", error))
}

/// Opens the projection database and the engine over it (registry, counters, cursor, event
/// index). sled can panic on some damaged files: a panic is reported as an error like any
/// other.
fn load_projections(
    paths: &LedgerPaths,
    log_reader: &LogReader,
    cache_bytes: u64,
) -> Result<Engine<Projection>, NodeError> {
    let load = || -> Result<Engine<Projection>, NodeError> {
        let projection = Projection::open(&paths.projections(), log_reader.clone(), cache_bytes)?;
        Engine::open(projection)
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(load)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        Err(NodeError::new(
            NodeErrorKind::Projection,
            format!("the projection database failed to load: {what}"),
        ))
    })
}

/// Opens the projections, or rebuilds them from the log when the database is missing,
/// unreadable, empty, ahead of the log, or behind what it had flushed at the last close. The
/// log is the truth: whatever is wrong with the derived database, nothing acknowledged is lost.
/// Returns whether they were rebuilt.
fn open_projections(
    paths: &LedgerPaths,
    log_reader: &LogReader,
    cache_bytes: u64,
) -> Result<(Engine<Projection>, bool), NodeError> {
    let entries = log_reader.entry_count();
    // Leftovers of a rebuild that did not finish: never read.
    remove_dir_if_present(&paths.root.join(PROJECTIONS_REBUILDING))?;
    remove_dir_if_present(&paths.root.join(PROJECTIONS_REPLACED))?;
    let existed = paths.projections().exists();
    let flushed = read_flushed_cursor(paths);
    let problem = match load_projections(paths, log_reader, cache_bytes) {
        Ok(opened) => {
            let cursor = opened.committed();
            let problem = if cursor > entries {
                Some(format!(
                    "its cursor ({cursor}) is ahead of the log ({entries} entries)"
                ))
            } else if cursor < flushed.min(entries) {
                Some(format!(
                    "it holds {cursor} entries but had flushed {flushed} at the last close \
                     (sled recovered a damaged database to an earlier state)"
                ))
            } else {
                None
            };
            match problem {
                None => {
                    let rebuilt = cursor == 0 && entries > 0;
                    if rebuilt {
                        let why = if existed { "empty" } else { "missing" };
                        tracing::warn!(
                            directory = %paths.projections().display(),
                            entries,
                            "projection database {why}: rebuilding it from the log"
                        );
                        return Ok((Engine::fresh_for(opened.store().clone(), entries), true));
                    }
                    return Ok((opened, false));
                }
                Some(problem) => problem,
            }
        }
        Err(error) => error.to_string(),
    };
    tracing::warn!(
        directory = %paths.projections().display(),
        reason = %problem,
        entries,
        "projection database damaged: discarding it and rebuilding from the log"
    );
    match std::fs::remove_dir_all(paths.projections()) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(NodeError::io(
                &paths.projections(),
                "remove the damaged",
                error,
            ))
        }
    }
    let emptied = load_projections(paths, log_reader, cache_bytes)?;
    // Empty: a filter of the keys folded so far answers "absent" without a store read.
    Ok((Engine::fresh_for(emptied.store().clone(), entries), true))
}

/// The keys a node signs and pseudonymises with, as settled at open.
struct NodeKeys {
    authority_key: SigningKey,
    authority_next: Option<[u8; 32]>,
    cosigned: bool,
    pseudonym_key: PseudonymKey,
}

/// What recovery leaves for the pipeline: the log, the tree and the checkpoint level with
/// each other, and the engine over projections level with them.
struct Opened {
    engine: Engine<Projection>,
    log: Log,
    tree: MerkleTree,
    signer: CheckpointSigner,
    keys: NodeKeys,
    report: OpenReport,
    /// For a rebuild: the digest of the projections as stored, and where the time went.
    rebuilt: RebuiltAtOpen,
}

/// What recovery does with the projections.
enum AtOpen<'a> {
    /// Opens them (rebuilt when missing or damaged) and replays them from their cursor.
    Load,
    /// Folds the whole log into a fresh database ([`PROJECTIONS_REBUILDING`]), re-verifying
    /// every entry with `recheck`; the stored projections are only digested, beside the
    /// log's integrity check. `progress` gets (entries folded, entries).
    Rebuild {
        recheck: Option<(&'a str, &'a mut KeyCache)>,
        progress: &'a mut dyn FnMut(u64, u64),
    },
}

/// A rebuild's results from recovery.
#[derive(Default)]
struct RebuiltAtOpen {
    digest_before: Option<[u8; 32]>,
    /// The replay (the whole fold, for a rebuild).
    replay_s: f64,
}

/// Recovery at open, before any submission is taken: cuts a torn tail from the log, brings
/// the tree level with it and checks both against the last signed checkpoint, opens (or
/// rebuilds) the projections and replays them from their cursor, settles the authority keys,
/// and signs a checkpoint of the current size when the latest lacks a key in force.
fn recover(
    paths: &LedgerPaths,
    config: &LedgerConfig,
    clock: Arc<dyn Clock>,
    mut at_open: AtOpen<'_>,
) -> Result<Opened, NodeError> {
    let key_files = crate::authority::load_key_files(paths, config)?;
    let pseudonym_key = load_pseudonym_key(&paths.pseudonym_key())?;
    std::fs::create_dir_all(paths.tree())
        .map_err(|error| NodeError::io(&paths.tree(), "create", error))?;
    let earlier_keys = crate::authority::earlier_signing_keys(paths, &key_files)?;
    let mut signer = CheckpointSigner::open_accepting(
        &paths.tree(),
        &config.origin,
        key_files.primary.clone(),
        &earlier_keys,
    )?;
    let signed_size = signer.latest().map_or(0, |latest| latest.checkpoint.size);
    let (log, recovery) = Log::open(&paths.log(), LogOptions::default(), signed_size)?;
    if let Some((file, offset)) = &recovery.truncated_at {
        tracing::warn!(file = %file.display(), offset, bytes = recovery.truncated_bytes,
            "cut a torn tail (unacknowledged) from the log");
    }
    let log_reader = log.reader();
    let mut tree = MerkleTree::open(&paths.tree())?;
    catch_up_tree(&mut tree, &log_reader, signed_size)?;
    // The log's integrity check and the loading of the projections (their indexes) read
    // different files: they run side by side, and nothing is folded before the check passed.
    let tree_reader = tree.reader();
    let mut rebuilt = RebuiltAtOpen::default();
    let (audited, opened) = std::thread::scope(|scope| {
        let audit_thread = std::thread::Builder::new()
            .name("open-audit".to_string())
            .spawn_scoped(scope, || match signer.latest() {
                Some(latest) => audit(&log_reader, &tree_reader, &latest.checkpoint, |_| {})
                    .map_err(|error| {
                        NodeError::new(
                            NodeErrorKind::Integrity,
                            format!(
                                "the log does not match the last signed checkpoint (size {}): \
                                 {error}",
                                latest.checkpoint.size
                            ),
                        )
                    }),
                None => Ok(()),
            });
        let cache_bytes = config.projections.cache_bytes();
        let opened = match at_open {
            AtOpen::Load => open_projections(paths, &log_reader, cache_bytes),
            AtOpen::Rebuild { .. } => {
                rebuilt.digest_before = stored_digest(&paths.projections(), cache_bytes);
                open_rebuilding(paths, &log_reader, cache_bytes)
            }
        };
        let audited = match audit_thread {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(error) => Err(NodeError::io(
                &paths.root,
                "start the audit thread for",
                error,
            )),
        };
        (audited, opened)
    });
    audited?;
    let (mut engine, projections_rebuilt) = opened?;
    let cursor = engine.committed();
    let entries = log.entry_count();
    let replaying = Instant::now();
    match &mut at_open {
        AtOpen::Load => engine.replay(&log_reader, (cursor, entries), None, &mut |_| {})?,
        AtOpen::Rebuild { recheck, progress } => {
            let recheck = recheck
                .as_mut()
                .map(|(origin, keys)| (*origin, &mut **keys));
            engine.replay(&log_reader, (cursor, entries), recheck, &mut |done| {
                progress(done, entries)
            })?
        }
    }
    rebuilt.replay_s = replaying.elapsed().as_secs_f64();
    let today = crate::today(clock.as_ref());
    let settled =
        crate::authority::settle(paths, key_files, engine.registry().ledger.as_ref(), today)?;
    let authority_key = settled.primary;
    let authority_next = settled.next;
    let cosigned = !settled.cosigners.is_empty();
    signer.replace_key(authority_key.clone());
    signer.set_cosigning_keys(settled.cosigners);
    crate::authority::record_signing_key(paths, &authority_key.verifying_key().to_bytes())?;
    tree.sync()?;
    // A checkpoint of the current size is signed again when it lacks a signature of the
    // keys in force (the first open after an authority key change).
    if (signer.latest().map(|latest| latest.checkpoint.size) != Some(log.entry_count())
        || !signer.latest_signed_by_every_key())
        && log.entry_count() > 0
    {
        let time = clock
            .now_unix_s()
            .max(signer.latest().map_or(0, |l| l.checkpoint.time_unix_s));
        signer.sign(&tree.reader(), log.entry_count(), time)?;
    }
    let replayed = recovery.entry_count - cursor.min(recovery.entry_count);
    Ok(Opened {
        engine,
        log,
        tree,
        signer,
        keys: NodeKeys {
            authority_key,
            authority_next,
            cosigned,
            pseudonym_key,
        },
        report: OpenReport {
            recovery,
            replayed,
            projections_rebuilt,
        },
        rebuilt,
    })
}

/// The digest of the projections stored at `path` (`None` when there are none, or they do
/// not open).
fn stored_digest(path: &Path, cache_bytes: u64) -> Option<[u8; 32]> {
    if !path.exists() {
        return None;
    }
    std::panic::catch_unwind(|| Projection::stored_digest(path, cache_bytes))
        .ok()?
        .ok()
}

/// A fresh projection database at [`PROJECTIONS_REBUILDING`] (a leftover is removed first),
/// and an engine over it whose filter of held keys is complete from the start.
fn open_rebuilding(
    paths: &LedgerPaths,
    log_reader: &LogReader,
    cache_bytes: u64,
) -> Result<(Engine<Projection>, bool), NodeError> {
    let fresh = paths.root.join(PROJECTIONS_REBUILDING);
    remove_dir_if_present(&fresh)?;
    let projection = Projection::open(&fresh, log_reader.clone(), cache_bytes)?;
    Ok((
        Engine::fresh_for(projection, log_reader.entry_count()),
        true,
    ))
}

impl Node {
    /// Creates a new ledger directory: keys, `ledger.toml`, and the first three entries
    /// (ledger established, catalogue adopted, policy adopted), all signed by the new
    /// authority key.
    pub fn init(dir: &Path, options: InitOptions) -> Result<Node, NodeError> {
        let paths = LedgerPaths::new(dir);
        if paths.config().exists() {
            return Err(NodeError::new(
                NodeErrorKind::Directory,
                format!("{} is already a ledger directory", dir.display()),
            ));
        }
        std::fs::create_dir_all(paths.keys())
            .map_err(|error| NodeError::io(&paths.keys(), "create", error))?;
        let authority_key = SigningKey::generate(&mut rand::rngs::OsRng);
        write_secret_file(
            &paths.authority_key(),
            &signer_key_text(&options.origin, &authority_key),
        )?;
        let pseudonym = options.pseudonym_key.unwrap_or_else(rand::random);
        write_secret_file(
            &paths.pseudonym_key(),
            &format!("{}\n", hex::encode(pseudonym)),
        )?;
        let config = LedgerConfig {
            origin: options.origin.clone(),
            province: options.province.0,
            sequencer: options.sequencer,
            projections: options.projections,
            vc: Default::default(),
        };
        std::fs::write(paths.config(), config.to_toml())
            .map_err(|error| NodeError::io(&paths.config(), "write", error))?;
        let (node, _) = Node::open(dir)?;
        let date = options.date;
        let events = [
            EventKind::LedgerEstablished(LedgerEstablished {
                origin: options.origin.clone(),
                province: options.province,
                authority_name: options.authority_name.clone(),
                authority_key: authority_key.verifying_key().to_bytes(),
                date,
            }),
            EventKind::CatalogueAdopted(CatalogueAdopted {
                source_toml: options.catalogue_toml.clone(),
                date,
            }),
            EventKind::PolicyAdopted(PolicyAdopted {
                source_toml: options.policy_toml.clone(),
                date,
            }),
        ];
        let recovery = options.recovery_key.map(|public_key| {
            EventKind::AuthorityRecoveryKeySet(skill_ledger_domain::AuthorityRecoveryKeySet {
                public_key,
                date,
            })
        });
        for kind in events.into_iter().chain(recovery) {
            let signed = node.sign_as_authority(kind);
            node.submit(signed).map_err(|error| {
                NodeError::new(
                    NodeErrorKind::Config,
                    format!("initial entry refused: {error}"),
                )
            })?;
        }
        Ok(node)
    }

    /// Opens a ledger directory: recovers the log, brings the tree and checkpoint level with
    /// it (checking the log against the last signed checkpoint), replays the projections
    /// from their cursor, and starts the sequencer.
    pub fn open(dir: &Path) -> Result<(Node, OpenReport), NodeError> {
        Self::open_with_clock(dir, Arc::new(SystemClock))
    }

    pub fn open_with_clock(
        dir: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<(Node, OpenReport), NodeError> {
        let paths = LedgerPaths::new(dir);
        let config = LedgerConfig::load(&paths.config())?;
        let lock = lock_directory(&paths)?;
        let recovered = recover(&paths, &config, clock.clone(), AtOpen::Load)?;
        let checkpoint = recovered.signer.latest().cloned().map(Arc::new);
        let entries = recovered.log.entry_count();
        let shared = Arc::new(Shared::new(
            recovered.engine.registry().clone(),
            checkpoint,
            entries,
        ));
        let Opened {
            mut engine,
            log,
            tree,
            signer,
            keys,
            report,
            rebuilt: _,
        } = recovered;
        // The filter of held subjects and certificate numbers is scanned in the background;
        // until it arrives the sequencer asks the store, as it would without it.
        let scan_shared = shared.clone();
        engine
            .scan_held_keys("known-keys-scan", move || {
                scan_shared.scanning_known.store(false, Ordering::Release)
            })
            .map_err(|error| NodeError::io(dir, "start the key scan thread for", error))?;
        let projection = engine.store().clone();
        let log_reader = log.reader();
        let tree_reader = tree.reader();
        let verifier_key_text = signer.verifier_key_text();
        let pipeline = Pipeline::start(
            crate::pipeline::Recovered {
                origin: config.origin.clone(),
                options: config.sequencer.options(),
                log,
                log_dir: paths.log(),
                tree,
                signer,
                engine,
                projection: projection.clone(),
                clock: clock.clone(),
            },
            shared.clone(),
        )?;
        Ok((
            Node {
                paths,
                config: Box::new(config),
                authority_key: keys.authority_key,
                authority_next: keys.authority_next,
                cosigned: keys.cosigned,
                pseudonym_key: keys.pseudonym_key,
                pipeline,
                projection,
                log_reader,
                tree_reader,
                verifier_key_text,
                clock,
                vc_cache: Box::default(),
                _lock: lock,
            },
            report,
        ))
    }

    pub fn origin(&self) -> &str {
        &self.config.origin
    }

    /// `[vc]` of `ledger.toml`.
    pub fn vc_config(&self) -> &crate::config::VcConfig {
        &self.config.vc
    }

    pub fn province(&self) -> Province {
        Province(self.config.province)
    }

    pub fn dir(&self) -> &Path {
        &self.paths.root
    }

    pub fn authority_key(&self) -> &SigningKey {
        &self.authority_key
    }

    /// Whether the checkpoints carry the retired authority key's signature too (for
    /// `ROTATION_OVERLAP_DAYS` after a planned rotation).
    pub fn checkpoint_cosigned(&self) -> bool {
        self.cosigned
    }

    /// The node's clock, Unix seconds (what admission and the pseudonym service's timestamp
    /// window judge by).
    pub fn now_unix_s(&self) -> u64 {
        self.clock.now_unix_s()
    }

    /// The node's day, UTC, by its clock.
    pub fn today(&self) -> skill_ledger_domain::Date {
        crate::today(self.clock.as_ref())
    }

    pub fn pseudonym_key(&self) -> &PseudonymKey {
        &self.pseudonym_key
    }

    /// The checkpoint verifier key, `origin+hex(keyID)+base64(0x01‖key)`.
    pub fn verifier_key_text(&self) -> &str {
        &self.verifier_key_text
    }

    /// Signs an administrative event with the authority key (a new random event id).
    pub fn sign_as_authority(&self, kind: EventKind) -> SignedEvent {
        SignedEvent::sign(
            &self.config.origin,
            Signer::Authority,
            &self.authority_key,
            Event {
                id: new_event_id(),
                kind,
            },
        )
    }

    fn enqueue(&self, signed: SignedEvent, block: bool) -> Result<PendingReceipt, SubmitError> {
        let (entry, event_offset) = signed
            .to_entry_with_offset()
            .map_err(SubmitError::Malformed)?;
        self.enqueue_encoded(signed, entry, event_offset, block)
    }

    /// Queues an already encoded entry (decoded once here), waiting for queue space.
    pub fn submit_entry_pending(&self, entry: Vec<u8>) -> Result<PendingReceipt, SubmitError> {
        let (signed, event_offset) =
            SignedEvent::from_entry_with_offset(&entry).map_err(SubmitError::Malformed)?;
        self.enqueue_encoded(signed, entry, event_offset, true)
    }

    /// Queues an already encoded entry, or answers [`SubmitError::Overloaded`] at once when
    /// the queue is full (what an HTTP handler needs: it must never block its thread). The
    /// entry is stored byte for byte as given.
    pub fn try_submit_entry(&self, entry: Vec<u8>) -> Result<PendingReceipt, SubmitError> {
        let (signed, event_offset) =
            SignedEvent::from_entry_with_offset(&entry).map_err(SubmitError::Malformed)?;
        self.enqueue_encoded(signed, entry, event_offset, false)
    }

    fn enqueue_encoded(
        &self,
        signed: SignedEvent,
        entry: Vec<u8>,
        event_offset: usize,
        block: bool,
    ) -> Result<PendingReceipt, SubmitError> {
        if let Some(reason) = self.pipeline.shared().stopped_reason() {
            return Err(SubmitError::Stopped(reason));
        }
        // Admission, by this node's clock, before the event is queued for `decide` (which
        // reads no clock): nothing dated in the future joins the log.
        let today = crate::today(self.clock.as_ref());
        let admitted = check_not_dated_in_future(&signed.event.kind, today)
            .and_then(|()| {
                check_not_backdated(&signed, today, self.config.sequencer.backdate_days_max)
            })
            .and_then(|()| match &signed.event.kind {
                // A rotation to a key this node cannot sign checkpoints with would leave the
                // ledger without a usable authority key.
                EventKind::AuthorityKeyRotated(rotated)
                    if self.authority_next != Some(rotated.public_key) =>
                {
                    Err(Rejection::AuthorityKeyNotHeld)
                }
                _ => Ok(()),
            });
        if let Err(rejection) = admitted {
            self.pipeline
                .shared()
                .metrics
                .count_rejection(rejection.code());
            return Err(SubmitError::Rejected(rejection));
        }
        let receiver = self.pipeline.submit(signed, (entry, event_offset), block)?;
        Ok(PendingReceipt(receiver))
    }

    /// Queues a submission, waiting for queue space; the receipt comes after the commit.
    pub fn submit_pending(&self, signed: SignedEvent) -> Result<PendingReceipt, SubmitError> {
        self.enqueue(signed, true)
    }

    /// Queues a submission, or answers [`SubmitError::Overloaded`] at once when the queue is full.
    pub fn try_submit(&self, signed: SignedEvent) -> Result<PendingReceipt, SubmitError> {
        self.enqueue(signed, false)
    }

    /// Submits and waits for the durable answer.
    pub fn submit(&self, signed: SignedEvent) -> Result<Receipt, SubmitError> {
        self.submit_pending(signed)?.wait()
    }

    /// Why the node stopped accepting submissions, if it did.
    pub fn stopped(&self) -> Option<crate::error::Failure> {
        self.pipeline.shared().stopped_reason()
    }

    /// Why submissions are refused for lack of disk space right now, if they are (read live
    /// from the filesystem: it clears as soon as space is freed).
    pub fn storage_full(&self) -> Option<String> {
        crate::pipeline::storage_full(
            &self.paths.log(),
            self.config.sequencer.options().disk_free_min_bytes,
        )
    }

    pub fn metrics(&self) -> &Metrics {
        &self.pipeline.shared().metrics
    }

    pub fn registry(&self) -> Arc<Registry> {
        match self.pipeline.shared().registry.read() {
            Ok(registry) => registry.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn body(&self, number: &RegistrationNumber) -> Option<BodyRecord> {
        self.registry().bodies.get(number).cloned()
    }

    pub fn credential(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<CredentialRecord>, NodeError> {
        self.projection.credential(number)
    }

    /// The foreign certificate a `foreign-comparison` credential was compared from, read
    /// from its issuing entry; `None` for the other routes.
    pub fn foreign_basis(
        &self,
        record: &CredentialRecord,
    ) -> Result<Option<skill_ledger_domain::ForeignComparisonBasis>, NodeError> {
        if record.route != skill_ledger_domain::RouteKind::ForeignComparison {
            return Ok(None);
        }
        match self.read_event(record.entry_index)?.event.kind {
            EventKind::LevelCertified(skill_ledger_domain::LevelCertified {
                route: skill_ledger_domain::Route::ForeignComparison(basis),
                ..
            }) => Ok(Some(basis)),
            _ => Err(NodeError::new(
                NodeErrorKind::Integrity,
                format!(
                    "entry {} is not the comparison of {}; run `skill-ledger rebuild`",
                    record.entry_index, record.certificate_number
                ),
            )),
        }
    }

    /// A 专项职业能力证书 by its (Z-series) number, as committed.
    pub fn special_ability(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<skill_ledger_domain::SpecialAbilityRecord>, NodeError> {
        self.projection.special_ability(number)
    }

    pub fn person(&self, subject: &SubjectId) -> Result<Option<PersonRecord>, NodeError> {
        self.projection.person(subject)
    }

    /// The entry indexes in `[from, to)` whose status list bit is set (crate::vc), as
    /// committed.
    pub fn status_bits_set(&self, from: u64, to: u64) -> Result<Vec<u64>, NodeError> {
        self.projection.status_bits_set(from, to)
    }

    /// A person's records of the other routes (apprenticeships, contest results, posts,
    /// titles, title eligibilities), as committed.
    pub fn career(
        &self,
        subject: &SubjectId,
    ) -> Result<Option<skill_ledger_domain::CareerRecord>, NodeError> {
        crate::engine::careers::career(self.projection.tree(), subject)
    }

    /// The recognitions (互认) of credentials of the partner `origin`, active or withdrawn,
    /// with their subjects, as committed.
    pub fn recognitions(
        &self,
        origin: &str,
    ) -> Result<Vec<(SubjectId, skill_ledger_domain::RecognitionRecord)>, NodeError> {
        crate::engine::careers::recognitions(self.projection.tree(), origin)
    }

    /// Compares a typed holder name with the credential's commitment.
    pub fn check_name(
        &self,
        number: &CertificateNumber,
        name: &str,
    ) -> Result<NameCheck, NodeError> {
        let Some(credential) = self.credential(number)? else {
            return Ok(NameCheck::Unknown);
        };
        let matches =
            self.pseudonym_key
                .name_matches(number.as_str(), name, &credential.name_commitment);
        Ok(if matches {
            NameCheck::Matched(Box::new(credential))
        } else {
            NameCheck::Mismatch
        })
    }

    pub fn stats(&self) -> Result<BTreeMap<String, i64>, NodeError> {
        self.projection.stats()
    }

    pub fn checkpoint(&self) -> Option<Arc<SignedCheckpoint>> {
        match self.pipeline.shared().checkpoint.read() {
            Ok(checkpoint) => checkpoint.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn log_reader(&self) -> &LogReader {
        &self.log_reader
    }

    pub fn tree_reader(&self) -> &TreeReader {
        &self.tree_reader
    }

    pub fn entry_count(&self) -> u64 {
        self.log_reader.entry_count()
    }

    /// Whether start-up work still runs in the background (the scan of held keys that lets
    /// the sequencer skip store reads): the node answers meanwhile, with less CPU to spare.
    pub fn warming_up(&self) -> bool {
        self.pipeline
            .shared()
            .scanning_known
            .load(Ordering::Acquire)
    }

    pub fn read_event(&self, index: u64) -> Result<SignedEvent, NodeError> {
        let entry = self.log_reader.read(index)?;
        SignedEvent::from_entry(&entry).map_err(|error| {
            NodeError::new(
                NodeErrorKind::Integrity,
                format!("entry {index} does not decode: {error}"),
            )
        })
    }

    /// Entries the projections have committed (the cursor): every read of a credential
    /// reflects at least the entries below it.
    pub(crate) fn projected_size(&self) -> Result<u64, NodeError> {
        self.projection.cursor()
    }

    /// SHA-256 over the projections (after the queued work is committed).
    pub fn projection_digest(&self) -> Result<[u8; 32], NodeError> {
        self.flush()?;
        self.projection.digest()
    }

    pub fn storage_sizes(&self) -> StorageSizes {
        StorageSizes {
            log: directory_size(&self.paths.log()),
            tree: directory_size(&self.paths.tree()),
            projections: directory_size(&self.paths.projections()),
        }
    }

    /// Waits until everything queued so far is committed and the projections are flushed.
    pub fn flush(&self) -> Result<(), NodeError> {
        if self.pipeline.flush()? {
            return Ok(());
        }
        self.projection.flush()
    }

    /// Finishes the queued work, flushes, and stops the sequencer.
    pub fn close(mut self) -> Result<(), NodeError> {
        self.shutdown();
        self.projection.flush()?;
        write_flushed_cursor(&self.paths, self.projection.cursor()?)
    }

    fn shutdown(&mut self) {
        self.pipeline.shutdown();
    }

    pub fn paths(&self) -> &LedgerPaths {
        &self.paths
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Where a rebuild writes the projections before they replace the old ones.
const PROJECTIONS_REBUILDING: &str = "projections.rebuild";
/// Where the old projections go while the rebuilt ones take their place.
const PROJECTIONS_REPLACED: &str = "projections.old";

fn remove_dir_if_present(path: &Path) -> Result<(), NodeError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(NodeError::io(path, "remove", error)),
    }
}

/// Puts the rebuilt projections (closed, flushed, holding `entries`) in place of the old ones.
/// A crash part-way leaves the old projections, or none (rebuilt from the log at the next
/// open), never a mix: the directories are swapped by two renames, made durable by an fsync
/// of the ledger directory, and a leftover of either name is removed at open.
fn swap_in_rebuilt(paths: &LedgerPaths, entries: u64) -> Result<(), NodeError> {
    let (current, fresh, replaced) = (
        paths.projections(),
        paths.root.join(PROJECTIONS_REBUILDING),
        paths.root.join(PROJECTIONS_REPLACED),
    );
    remove_dir_if_present(&replaced)?;
    match std::fs::rename(&current, &replaced) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(NodeError::io(&current, "move aside", error)),
    }
    std::fs::rename(&fresh, &current).map_err(|error| NodeError::io(&fresh, "rename", error))?;
    File::open(&paths.root)
        .and_then(|dir| dir.sync_all())
        .map_err(|error| NodeError::io(&paths.root, "fsync", error))?;
    remove_dir_if_present(&replaced)?;
    write_flushed_cursor(paths, entries)
}

/// What [`rebuild`] did.
#[derive(Clone, Debug)]
pub struct RebuildReport {
    pub entries: u64,
    /// Digest of the projections as stored before the rebuild (`None` when there were none
    /// or they did not open). Projections behind the log (a crash) or of another layout
    /// version differ from the rebuilt ones.
    pub digest_before: Option<[u8; 32]>,
    pub digest_after: [u8; 32],
    pub seconds: f64,
    /// Where `seconds` went.
    pub stages: RebuildStages,
    pub path: PathBuf,
    /// Whether every signature was verified and every event judged again.
    pub verified_signatures: bool,
}

/// The stages of a rebuild, in seconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct RebuildStages {
    /// Recovering the ledger as at any open (reading the log, checking its Merkle root
    /// against the signed checkpoint) and, beside that check, the digest of the projections
    /// as stored; then opening a fresh projection database.
    pub open: f64,
    /// The digest of the rebuilt projections.
    pub digest: f64,
    /// Folding the log into them (and re-verifying, with `verify_signatures`).
    pub replay: f64,
    /// The final flush, and the swap of the rebuilt database for the old one.
    pub flush: f64,
}

/// How [`rebuild_with`] treats the entries it folds.
#[derive(Clone, Copy, Debug, Default)]
pub struct RebuildOptions {
    /// Verify every entry's signature again and judge every event again by the rules.
    /// Without it the rebuild relies on the log's integrity check at open: the Merkle root
    /// recomputed from the entries must equal the signed checkpoint's, so the entries are
    /// the ones that were verified and decided when they were appended.
    pub verify_signatures: bool,
}

/// Recomputes every projection from entry 0 and reports the digests before and after.
pub fn rebuild(dir: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<RebuildReport, NodeError> {
    rebuild_with(dir, RebuildOptions::default(), progress)
}

/// [`rebuild`] with options.
pub fn rebuild_with(
    dir: &Path,
    options: RebuildOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RebuildReport, NodeError> {
    let started = Instant::now();
    let paths = LedgerPaths::new(dir);
    let config = LedgerConfig::load(&paths.config())?;
    let lock = lock_directory(&paths)?;
    let mut key_cache = KeyCache::default();
    let recheck = options
        .verify_signatures
        .then_some((config.origin.as_str(), &mut key_cache));
    // Recovery as at any open (the log's torn tail, the tree, the integrity check against
    // the signed checkpoint, the keys), but its replay is the whole log into a fresh database;
    // the stored projections are not loaded, only digested beside the integrity check.
    let opened = recover(
        &paths,
        &config,
        Arc::new(SystemClock),
        AtOpen::Rebuild { recheck, progress },
    )?;
    let recovered_s = started.elapsed().as_secs_f64();
    let entries = opened.log.entry_count();
    let RebuiltAtOpen {
        digest_before,
        replay_s,
    } = opened.rebuilt;
    let projection = opened.engine.store().clone();
    drop(opened.engine);
    drop((opened.log, opened.tree, opened.signer));
    let mut lap = Instant::now();
    projection.flush()?;
    let mut flush = lap.elapsed().as_secs_f64();
    lap = Instant::now();
    let digest_after = projection.digest()?;
    let digest_after_s = lap.elapsed().as_secs_f64();
    drop(projection);
    lap = Instant::now();
    swap_in_rebuilt(&paths, entries)?;
    flush += lap.elapsed().as_secs_f64();
    drop(lock);
    let stages = RebuildStages {
        open: (recovered_s - replay_s).max(0.0),
        digest: digest_after_s,
        replay: replay_s,
        flush,
    };
    Ok(RebuildReport {
        entries,
        digest_before,
        digest_after,
        seconds: started.elapsed().as_secs_f64(),
        stages,
        path: paths.root,
        verified_signatures: options.verify_signatures,
    })
}
