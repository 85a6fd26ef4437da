//! `--node URL`: the writing commands against a node that is serving, as production always
//! is. A served ledger directory is locked by `serve`, so a command signs here with the key
//! file it is given (a body's key, or the authority's with `--authority-key`) and submits the
//! entry to `POST /v1/events`; the node judges it like any other submission, by its signature.
//! `issue` asks the node for the holder's pseudonyms (`POST /v1/pseudonyms`, signed with the
//! body's key), so a body needs neither the pseudonym key nor the ledger directory.
//!
//! The answers are printed as the `--dir` path prints them, with the same exit codes: a
//! rejection by a rule (or by the partner's mirror) exits 1 with its code, anything else the
//! node refuses or cannot answer exits 2.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use base64::Engine as _;
use clap::Args;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use skill_ledger_domain::RecognitionRecorded;
use skill_ledger_domain::{
    pseudonym_request_message, sign_pseudonym_request, IdDocumentType, NameCommitment,
    PseudonymItemText, RegistrationNumber, SignedEvent, SubjectId,
};
use skill_ledger_node::Node;
use skill_ledger_server::api::RecognitionDraft;
use skill_ledger_server::pseudonyms::PseudonymResponse;
use skill_ledger_server::views::SubmitResponse;
use skill_ledger_sync::http::{request, BaseUrl, Response};

use crate::admin::{open_dir, read_signing_key, submit_and_report};
use crate::output::print_json;
use crate::{CliResult, Failure};

/// Where a writing command writes: a ledger directory no `serve` holds, or a serving node.
/// Without either, `SKILL_LEDGER_DIR` names the directory (read here, not by clap, so that an
/// exported directory does not conflict with `--node`).
#[derive(Args, Clone)]
#[group(multiple = false)]
pub struct TargetArg {
    /// Ledger directory (e.g. the demo's D/50; default $SKILL_LEDGER_DIR); only while no
    /// `serve` runs on it.
    #[arg(long, short = 'd')]
    pub dir: Option<PathBuf>,
    /// URL of the node serving the ledger (e.g. http://127.0.0.1:8080): sign here, submit
    /// over HTTP.
    #[arg(long, value_name = "URL")]
    pub node: Option<String>,
}

/// The target of an authority action, and with `--node` the authority's key file.
#[derive(Args, Clone)]
pub struct AuthorityTargetArg {
    #[command(flatten)]
    pub target: TargetArg,
    /// With --node: the authority's private key file (`keys/authority.key` of the ledger
    /// directory `init` made). With --dir the node's own key is used.
    #[arg(long, value_name = "FILE", requires = "node")]
    pub authority_key: Option<PathBuf>,
}

/// The environment variable naming the ledger directory when neither flag is given.
const DIR_VARIABLE: &str = "SKILL_LEDGER_DIR";

/// The ledger directory of a target without `--node`: `--dir`, else `SKILL_LEDGER_DIR`.
pub fn target_dir(target: &TargetArg) -> Result<PathBuf, Failure> {
    match &target.dir {
        Some(dir) => Ok(dir.clone()),
        None => match std::env::var_os(DIR_VARIABLE) {
            Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
            _ => Err(anyhow!("give --dir DIR or --node URL (or set {DIR_VARIABLE})").into()),
        },
    }
}

/// A serving node, by URL; its origin is read from its checkpoint.
pub struct NodeClient {
    base: BaseUrl,
    url: String,
    origin: String,
}

/// What the node refused about the event, by its problem code.
pub struct Refused {
    pub code: String,
    pub detail: String,
}

/// What a node's problem document says.
pub(crate) struct Refusal {
    pub status: u16,
    pub code: String,
    pub detail: String,
}

impl Refusal {
    pub(crate) fn of(response: &Response) -> Refusal {
        let document: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        let text = |name: &str| document[name].as_str().map(str::to_string);
        Refusal {
            status: response.status,
            code: text("code").unwrap_or_else(|| format!("http-{}", response.status)),
            detail: text("detail")
                .unwrap_or_else(|| String::from_utf8_lossy(&response.body).into_owned()),
        }
    }

    /// A judgement of the event itself (a rule, or the partner's mirror), not of the request.
    fn is_rejection(&self) -> bool {
        self.status == 422
            && !matches!(
                self.code.as_str(),
                "invalid-field" | "malformed-entry" | "bad-request"
            )
    }

    pub(crate) fn error(&self, url: &str) -> anyhow::Error {
        let retry = match self.status {
            429 | 503 => " (retry later)",
            _ => "",
        };
        anyhow!(
            "{url} answered {} ({}): {}{retry}",
            self.status,
            self.code,
            self.detail
        )
    }
}

impl NodeClient {
    pub fn connect(url: &str) -> Result<NodeClient, Failure> {
        let base = BaseUrl::parse(url).map_err(|error| anyhow!("--node: {error}"))?;
        let mut client = NodeClient {
            base,
            url: url.trim_end_matches('/').to_string(),
            origin: String::new(),
        };
        let response = client.call("GET", "checkpoint", None)?;
        if response.status != 200 {
            return Err(Refusal::of(&response).error(&client.url).into());
        }
        // A C2SP checkpoint's first line is the log's origin.
        let text = String::from_utf8_lossy(&response.body);
        client.origin = text
            .lines()
            .next()
            .filter(|origin| !origin.is_empty())
            .ok_or_else(|| anyhow!("{}/checkpoint is not a checkpoint", client.url))?
            .to_string();
        Ok(client)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The node's URL, as given (without a trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, Failure> {
        let bytes = body.map(|value| value.to_string().into_bytes());
        request(
            &self.base,
            method,
            path,
            bytes.as_deref().map(|bytes| ("application/json", bytes)),
        )
        .map_err(|error| anyhow!("{}: {error}", self.url).into())
    }

    /// A JSON resource; `None` when the node answers 404.
    pub fn get_json(&self, path: &str) -> Result<Option<Value>, Failure> {
        let response = self.call("GET", path, None)?;
        match response.status {
            200 => serde_json::from_slice(&response.body)
                .map(Some)
                .with_context(|| format!("{}/{path} answered 200 without JSON", self.url))
                .map_err(Failure::from),
            404 => Ok(None),
            _ => Err(Refusal::of(&response).error(&self.url).into()),
        }
    }

    /// Submits a signed event and prints the receipt or the rejection like the `--dir` path.
    pub fn submit_and_report(&self, signed: &SignedEvent, json: bool) -> CliResult {
        let kind = signed.event.kind.name();
        let event_id = signed.event.id.to_hex();
        let entry = signed
            .to_entry()
            .map_err(|error| anyhow!("the event does not encode: {error}"))?;
        let body = json!({"entry": base64::engine::general_purpose::STANDARD.encode(entry)});
        let response = self.call("POST", "v1/events", Some(&body))?;
        if response.status == 200 {
            let receipt: SubmitResponse =
                serde_json::from_slice(&response.body).with_context(|| {
                    format!("{}/v1/events answered 200 without a receipt", self.url)
                })?;
            crate::admin::report_accepted(
                kind,
                &event_id,
                receipt.index,
                receipt.duplicate,
                receipt.checkpoint.size,
                json,
            );
            return Ok(());
        }
        let refusal = Refusal::of(&response);
        if refusal.is_rejection() {
            if json {
                print_json(
                    &json!({"accepted": false, "event": kind, "event_id": event_id,
                    "rejection": refusal.code, "message": refusal.detail}),
                );
            }
            return Err(Failure::refused(anyhow!(
                "rejected ({}): {}",
                refusal.code,
                refusal.detail
            )));
        }
        Err(refusal.error(&self.url).into())
    }

    /// The subjects and name commitments of `items` (document type, number, name,
    /// certificate number), asked with the body's key.
    pub fn pseudonyms(
        &self,
        key: &SigningKey,
        body: RegistrationNumber,
        items: &[(IdDocumentType, &str, &str, &str)],
        json: bool,
    ) -> Result<Vec<(SubjectId, NameCommitment)>, Failure> {
        let timestamp = unix_now_s()?;
        let registration_number = body.to_string();
        let texts: Vec<PseudonymItemText<'_>> = items
            .iter()
            .map(
                |(kind, id_number, name, certificate_number)| PseudonymItemText {
                    id_type: kind.code(),
                    id_number,
                    name,
                    certificate_number,
                },
            )
            .collect();
        let request =
            pseudonym_request_body(&self.origin, &registration_number, timestamp, &texts, key);
        let response = self.call("POST", "v1/pseudonyms", Some(&request))?;
        if response.status != 200 {
            let refusal = Refusal::of(&response);
            // The node refused the signer (403) or a holder's data (422): the event is
            // refused as a rule would refuse it, exit 1 with the code.
            let refused = response.status == 403
                || (response.status == 422 && refusal.code != "invalid-field");
            if !refused {
                return Err(refusal.error(&self.url).into());
            }
            if json {
                print_json(&json!({"accepted": false, "event": "level_certified",
                    "rejection": refusal.code, "message": refusal.detail}));
            }
            return Err(Failure::refused(anyhow!(
                "the node refused the pseudonyms ({}): {}",
                refusal.code,
                refusal.detail
            )));
        }
        let answer: PseudonymResponse =
            serde_json::from_slice(&response.body).with_context(|| {
                format!("{}/v1/pseudonyms answered 200 without pseudonyms", self.url)
            })?;
        if answer.items.len() != items.len() {
            return Err(anyhow!(
                "{}/v1/pseudonyms answered {} items for {}",
                self.url,
                answer.items.len(),
                items.len()
            )
            .into());
        }
        answer
            .items
            .iter()
            .map(|item| {
                let subject = SubjectId::from_hex(&item.subject);
                let commitment = NameCommitment::from_hex(&item.name_commitment);
                subject.zip(commitment).ok_or_else(|| {
                    anyhow!("{}/v1/pseudonyms answered a malformed pseudonym", self.url).into()
                })
            })
            .collect()
    }
}

impl NodeClient {
    /// The recognition the node drafts for a partner's certificate from its mirror, or the
    /// refusal (code, detail) when the mirror does not confirm it (`recognize` exits 1 then).
    pub fn recognition_draft(
        &self,
        number: &skill_ledger_domain::CertificateNumber,
    ) -> Result<Result<RecognitionRecorded, Refused>, Failure> {
        let path = format!("v1/partner-credentials/{number}/recognition");
        let response = self.call("GET", &path, None)?;
        if response.status != 200 {
            let refusal = Refusal::of(&response);
            if matches!(response.status, 404 | 422) {
                return Ok(Err(Refused {
                    code: refusal.code,
                    detail: refusal.detail,
                }));
            }
            return Err(refusal.error(&self.url).into());
        }
        let draft: RecognitionDraft = serde_json::from_slice(&response.body)
            .with_context(|| format!("{}/{path} answered 200 without a recognition", self.url))?;
        let malformed = |what: &str| anyhow!("{}/{path}: the {what} is malformed", self.url);
        let hash = |text: &str, what: &str| {
            hex::decode(text)
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| malformed(what))
        };
        Ok(Ok(RecognitionRecorded {
            origin: draft.origin,
            entry_index: draft.entry_index,
            leaf_hash: hash(&draft.leaf_hash, "leaf hash")?,
            certificate_number: draft
                .certificate_number
                .parse()
                .map_err(|_| malformed("certificate number"))?,
            subject: SubjectId(hash(&draft.subject, "subject")?),
            level: draft.level.parse().map_err(|_| malformed("level"))?,
            partner_occupation: draft
                .partner_occupation
                .parse()
                .map_err(|_| malformed("partner occupation"))?,
            occupation: draft
                .occupation
                .parse()
                .map_err(|_| malformed("occupation"))?,
            issued: draft.issued.parse().map_err(|_| malformed("issue date"))?,
            date: draft.date.parse().map_err(|_| malformed("date"))?,
        }))
    }
}

/// A writing command's ledger: opened from its directory, or a node reached over HTTP.
pub enum Writer {
    Local(Node),
    Remote {
        client: NodeClient,
        authority_key: Option<SigningKey>,
    },
}

impl Writer {
    pub fn open(target: &TargetArg) -> Result<Writer, Failure> {
        Writer::open_as(target, None)
    }

    /// With `--node`, the authority key file is read (and must name the node's origin, as
    /// `init` names it).
    pub fn open_authority(target: &AuthorityTargetArg) -> Result<Writer, Failure> {
        Writer::open_as(&target.target, target.authority_key.as_deref())
    }

    fn open_as(target: &TargetArg, authority_key: Option<&Path>) -> Result<Writer, Failure> {
        match (&target.dir, &target.node) {
            (Some(dir), _) => Ok(Writer::Local(open_dir(dir)?)),
            (None, Some(url)) => {
                let client = NodeClient::connect(url)?;
                let authority_key = match authority_key {
                    Some(path) => {
                        let (name, key) = read_signing_key(path)?;
                        if name != client.origin() {
                            return Err(anyhow!(
                                "{} is the key of '{name}', but {url} serves '{}': give the \
                                 authority key file of that ledger",
                                path.display(),
                                client.origin()
                            )
                            .into());
                        }
                        Some(key)
                    }
                    None => None,
                };
                Ok(Writer::Remote {
                    client,
                    authority_key,
                })
            }
            (None, None) => Ok(Writer::Local(open_dir(&target_dir(target)?)?)),
        }
    }

    pub fn origin(&self) -> &str {
        match self {
            Writer::Local(node) => node.origin(),
            Writer::Remote { client, .. } => client.origin(),
        }
    }

    /// Signs an authority event: the node's key, or the `--authority-key` file.
    pub fn sign_as_authority(
        &self,
        kind: skill_ledger_domain::EventKind,
    ) -> Result<SignedEvent, Failure> {
        match self {
            Writer::Local(node) => Ok(node.sign_as_authority(kind)),
            Writer::Remote {
                client,
                authority_key,
            } => {
                let key = authority_key.as_ref().ok_or_else(|| {
                    anyhow!(
                        "with --node, an authority action is signed with --authority-key FILE \
                         (the ledger's keys/authority.key)"
                    )
                })?;
                Ok(SignedEvent::sign(
                    client.origin(),
                    skill_ledger_domain::Signer::Authority,
                    key,
                    skill_ledger_domain::Event {
                        id: skill_ledger_domain::EventId(rand::random()),
                        kind,
                    },
                ))
            }
        }
    }

    /// The holders' subject and name commitment: from the node's pseudonym key, or asked of
    /// the serving node with the body's key.
    pub fn pseudonyms(
        &self,
        key: &SigningKey,
        body: RegistrationNumber,
        items: &[(IdDocumentType, &str, &str, &str)],
        json: bool,
    ) -> Result<Vec<(SubjectId, NameCommitment)>, Failure> {
        match self {
            Writer::Local(node) => {
                let pseudonyms = node.pseudonym_key();
                Ok(items
                    .iter()
                    .map(|(kind, id_number, name, certificate_number)| {
                        (
                            pseudonyms.subject(*kind, id_number),
                            pseudonyms.commit_name(certificate_number, name),
                        )
                    })
                    .collect())
            }
            Writer::Remote { client, .. } => client.pseudonyms(key, body, items, json),
        }
    }

    pub fn submit_and_report(&self, signed: SignedEvent, json: bool) -> CliResult {
        match self {
            Writer::Local(node) => submit_and_report(node, signed, json),
            Writer::Remote { client, .. } => client.submit_and_report(&signed, json),
        }
    }

    /// Closes a local node (a remote one has nothing to close).
    pub fn close(self) -> Result<(), Failure> {
        match self {
            Writer::Local(node) => Ok(node.close()?),
            Writer::Remote { .. } => Ok(()),
        }
    }

    /// Submits, then closes, keeping the submission's result.
    pub fn submit_and_close(self, signed: SignedEvent, json: bool) -> CliResult {
        let result = self.submit_and_report(signed, json);
        self.close()?;
        result
    }
}

/// The clock, in whole seconds since 1970 (what a pseudonym request is dated with).
pub(crate) fn unix_now_s() -> Result<u64, Failure> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|error| anyhow!("the clock is before 1970: {error}"))?
        .as_secs())
}

/// The JSON body of `POST /v1/pseudonyms` for `texts`, signed with the body's `key` over the
/// request message of ledger `origin` (docs/formats.md, "Pseudonyms for a body").
pub(crate) fn pseudonym_request_body(
    origin: &str,
    registration_number: &str,
    timestamp: u64,
    texts: &[PseudonymItemText<'_>],
    key: &SigningKey,
) -> serde_json::Value {
    let message = pseudonym_request_message(origin, registration_number, timestamp, texts);
    json!({
        "registration_number": registration_number,
        "public_key": hex::encode(key.verifying_key().to_bytes()),
        "timestamp_unix_s": timestamp,
        "items": texts.iter().map(|item| json!({
            "id_type": item.id_type,
            "id_number": item.id_number,
            "name": item.name,
            "certificate_number": item.certificate_number,
        })).collect::<Vec<_>>(),
        "signature": base64::engine::general_purpose::STANDARD
            .encode(sign_pseudonym_request(key, &message)),
    })
}
