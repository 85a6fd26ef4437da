//! The log in the C2SP tlog-tiles layout: `/checkpoint`, `/tile/<L>/<N>[.p/<W>]`,
//! `/tile/entries/<N>[.p/<W>]`.
//!
//! Only what the latest signed checkpoint covers is served, so every tile a client fetches
//! can be checked against a checkpoint it can get. Full tiles and bundles never change
//! (`immutable`); partial tiles and the checkpoint are cached briefly.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use skill_ledger_log::{entry_bundle, parse_tile_path, TileLevel, TILE_HEIGHT, TILE_WIDTH_MAX};
use tower_http::compression::CompressionLayer;

use crate::limits::ApiPath;
use crate::problem::{code, Problem, ProblemDocument};
use crate::state::AppState;

const TILE_CONTENT_TYPE: &str = "application/octet-stream";
const CHECKPOINT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The log routes (tiles and bundles gzip-compressed when the client accepts it).
pub fn log_routes() -> Router<AppState> {
    Router::new().route("/checkpoint", get(checkpoint)).route(
        "/tile/{*path}",
        get(tile).layer(CompressionLayer::new().gzip(true)),
    )
}

fn bytes_response(content_type: &'static str, cache_control: String, body: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&cache_control) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    response
}

/// The latest signed checkpoint (C2SP tlog-checkpoint signed note), with the partners'
/// witness cosignatures (C2SP tlog-cosignature) appended as further signature lines when they
/// are held for this very checkpoint.
#[utoipa::path(
    get, path = "/checkpoint", tag = "log",
    responses(
        (status = 200, description = "The signed note: origin, size, base64 root, `time <unix seconds>`, blank line, the ledger's signature, then any partner witness cosignatures (`cosignature/v1`)", body = String, content_type = "text/plain; charset=utf-8"),
        (status = 503, description = "No checkpoint signed yet", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn checkpoint(State(state): State<AppState>) -> Result<Response, Problem> {
    let signed = state.node.checkpoint().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::NOT_FOUND,
            "No checkpoint",
            "the ledger has no signed checkpoint yet",
        )
        .retry_after(state.config.retry_after_s)
    })?;
    let mut note = signed.note_text.clone();
    note.push_str(&state.federation.cosignature_lines(&signed.note_text));
    Ok(bytes_response(
        CHECKPOINT_CONTENT_TYPE,
        format!("public, max-age={}", state.config.checkpoint_max_age_s),
        note.into_bytes(),
    ))
}

fn tile_not_found(path: &str, detail: impl std::fmt::Display) -> Problem {
    Problem::not_found(format!("{path}: {detail}")).with("path", path.to_string())
}

/// A hash tile or an entry bundle (C2SP tlog-tiles).
///
/// `tile/<L>/<N>[.p/<W>]`: hash tile at level L (0–7 here), index N as 3-digit path elements
/// (`x001/x234/067`), partial width W (1–255). `tile/entries/<N>[.p/<W>]`: entry bundle, each
/// entry as a big-endian u16 length and its bytes. Only tiles the latest checkpoint covers
/// exist; non-canonical paths are 404. Canonical means as sent, not as decoded: the
/// request's own path is compared with the one canonical spelling, so a percent-encoded
/// byte (`entries%2F000`, `%30%30%30`), a leading zero, a misplaced `x` or a trailing slash
/// names no tile, as for any static file server holding the tiles.
#[utoipa::path(
    get, path = "/tile/{level}/{index}", tag = "log",
    params(
        ("level" = String, Path, description = "Tile level 0-7, or `entries` for an entry bundle"),
        ("index" = String, Path, description = "Tile index as path elements (`x001/x234/067`), optionally followed by `.p/<W>` for a partial tile of width W; the slashes are part of the path"),
    ),
    responses(
        (status = 200, description = "Tile bytes (32-byte hashes) or entry bundle; full tiles are immutable", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 400, description = "A path that is not UTF-8 once percent-decoded", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Not a canonical tile path, or beyond the latest checkpoint", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The log could not be read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn tile(
    State(state): State<AppState>,
    uri: Uri,
    // Decoded only to refuse a path that is not UTF-8 once decoded (400, as on every route).
    ApiPath(_decoded): ApiPath<String>,
) -> Result<Response, Problem> {
    let path = uri.path().strip_prefix('/').unwrap_or(uri.path());
    let (level, n, width) = parse_tile_path(path).map_err(|_| {
        tile_not_found(
            path,
            "not a canonical tile path: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], N in \
             3-digit elements, all but the last prefixed x, W from 1 to 255, spelled exactly so \
             (no percent-encoding, no extra zeros, no trailing slash)",
        )
    })?;
    let size = state
        .node
        .checkpoint()
        .map_or(0, |signed| signed.checkpoint.size);
    let cache_control = if width == TILE_WIDTH_MAX {
        IMMUTABLE.to_string()
    } else {
        format!("public, max-age={}", state.config.partial_tile_max_age_s)
    };
    let first = u128::from(n) * u128::from(TILE_WIDTH_MAX);
    match level {
        TileLevel::Hashes(level) => {
            if level >= 8 {
                return Err(tile_not_found(path, "this log has tile levels 0 to 7"));
            }
            let leaves_needed =
                (first + u128::from(width)) << (u32::from(TILE_HEIGHT) * u32::from(level));
            if leaves_needed > u128::from(size) {
                return Err(tile_not_found(
                    path,
                    format!(
                        "the latest checkpoint has {size} entries, this tile needs {leaves_needed}"
                    ),
                ));
            }
            let bytes = state
                .node
                .tree_reader()
                .tile(level, n, width)
                .map_err(|error| tile_not_found(path, error))?;
            Ok(bytes_response(TILE_CONTENT_TYPE, cache_control, bytes))
        }
        TileLevel::Entries => {
            let end = first + u128::from(width);
            if end > u128::from(size) {
                return Err(tile_not_found(
                    path,
                    format!("the latest checkpoint has {size} entries, this bundle needs {end}"),
                ));
            }
            // Both bounds are below the checkpoint size, a u64.
            let (start, end) = (first as u64, end as u64);
            let node = state.node.clone();
            let bundle = tokio::task::spawn_blocking(move || {
                let mut entries: Vec<Vec<u8>> = Vec::with_capacity((end - start) as usize);
                node.log_reader().for_each(start, end, |_, entry| {
                    entries.push(entry.to_vec());
                    Ok(())
                })?;
                let slices: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
                Ok::<_, skill_ledger_log::LogError>(entry_bundle(&slices))
            })
            .await
            .map_err(|error| Problem::internal(format!("reading the bundle failed: {error}")))?
            .map_err(|error| Problem::internal(format!("reading the log failed: {error}")))?;
            Ok(bytes_response(TILE_CONTENT_TYPE, cache_control, bundle))
        }
    }
}
