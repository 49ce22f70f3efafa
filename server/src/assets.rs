//! Content-versioned asset URLs (docs/server.md, "Caching").
//!
//! The storefront's files and the package are also served under `/v/<version>/www/…` and
//! `/v/<version>/pkg/…`, where `<version>` is a hash of everything both folders hold. What is served
//! under a version never changes, so it goes out `immutable` for a year: a returning visitor's browser
//! loads the page's scripts and the wasm from its cache without asking. The page itself (`/`) is
//! `no-cache` and names the current version, so a deploy reaches every visitor at the next load, and a
//! page never mixes files of two versions (a request for any other version is a 404).
//!
//! Relative references between the files keep working under the prefix: `www/app.js` imports
//! `../pkg/wasm_cart.js`, and the package's glue finds its wasm next to itself.

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

/// What a versioned file may be cached for: a year, never revalidated.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The two folders served under a version, and the version of what they held when last looked at.
pub struct Assets {
    folders: [(&'static str, PathBuf); 2],
    last: Mutex<Option<(Vec<Stamp>, String)>>,
}

/// One file as `stat` sees it: when none of these change, the version does not either.
#[derive(PartialEq)]
struct Stamp {
    folder: &'static str,
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl Assets {
    pub fn new(static_dir: &Path, pkg_dir: &Path) -> Assets {
        Assets {
            folders: [("www", static_dir.to_path_buf()), ("pkg", pkg_dir.to_path_buf())],
            last: Mutex::new(None),
        }
    }

    /// The version of what the folders hold now: 16 hex digits of a SHA-256 over every file's
    /// folder, path and bytes (dotfiles left out, as they are never served). The folders are listed on
    /// every call (a few dozen `stat`s); the files are read again only when a listing changed, so that
    /// rebuilding the package under a running server gives the new files a new version.
    pub fn version(&self) -> String {
        let mut stamps = Vec::new();
        for (folder, root) in &self.folders {
            list(folder, root, Path::new(""), &mut stamps);
        }
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((seen, version)) = last.as_ref() {
            if *seen == stamps {
                return version.clone();
            }
        }
        let version = self.digest(&stamps);
        *last = Some((stamps, version.clone()));
        version
    }

    fn digest(&self, stamps: &[Stamp]) -> String {
        let mut hash = Sha256::new();
        for stamp in stamps {
            let root = self.folders.iter().find(|(f, _)| *f == stamp.folder).map(|(_, r)| r);
            let Some(Ok(bytes)) = root.map(|r| std::fs::read(r.join(&stamp.path))) else {
                continue;
            };
            hash.update(stamp.folder.as_bytes());
            hash.update(stamp.path.to_string_lossy().as_bytes());
            hash.update([0]);
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(&bytes);
        }
        hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// `index.html` with its references to files of its own folder pointed at the current version.
    pub fn page(&self) -> Option<(String, String)> {
        let version = self.version();
        let (_, www) = &self.folders[0];
        let html = std::fs::read_to_string(www.join("index.html")).ok()?;
        let prefix = format!("/v/{version}/www/");
        let html = versioned_html(&html, &prefix, |name| www.join(name).is_file());
        Some((version, html))
    }
}

/// The files under `root/dir`, sorted, dot-names and directories reached through symlinks left out.
fn list(folder: &'static str, root: &Path, dir: &Path, out: &mut Vec<Stamp>) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = dir.join(entry.file_name());
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            list(folder, root, &path, out);
        } else if let Ok(meta) = std::fs::metadata(entry.path()) {
            if meta.is_file() {
                out.push(Stamp {
                    folder,
                    path,
                    len: meta.len(),
                    modified: meta.modified().ok(),
                });
            }
        }
    }
}

/// Rewrites `src="name"` and `href="name"` where `name` is a file of the page's own folder (`exists`)
/// to `prefix` + `name`. Anything else (fragments, absolute URLs, `data:`) stays as it is.
pub fn versioned_html(html: &str, prefix: &str, exists: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some((before, value_and_after)) = next_attribute(rest).and_then(|at| rest.split_at_checked(at)) {
        out.push_str(before);
        let end = value_and_after.find('"').unwrap_or(value_and_after.len());
        let (value, after) = value_and_after.split_at_checked(end).unwrap_or((value_and_after, ""));
        if is_own_file(value) && exists(value) {
            out.push_str(prefix);
        }
        out.push_str(value);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The offset just after the next ` src="` or ` href="`.
fn next_attribute(html: &str) -> Option<usize> {
    [" src=\"", " href=\""]
        .iter()
        .filter_map(|attr| html.find(attr).map(|i| i + attr.len()))
        .min()
}

fn is_own_file(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with(['/', '#', '.', '?'])
        && !value.contains([':', '\\'])
        && !value.split('/').any(|s| s.is_empty() || s.starts_with('.'))
}

/// `/` and `/index.html`: the page naming the current version, `no-cache` with the version as its
/// ETag (a revalidation that finds the same version costs a 304).
pub async fn page(State(assets): State<Arc<Assets>>, headers: HeaderMap) -> Response {
    let Ok(Some((version, html))) = tokio::task::spawn_blocking(move || assets.page()).await else {
        return (StatusCode::NOT_FOUND, Body::empty()).into_response();
    };
    let etag = format!("\"{version}\"");
    let cache = [
        (header::CACHE_CONTROL, "no-cache".to_string()),
        (header::ETAG, etag.clone()),
    ];
    // Weak comparison (RFC 9110 13.1.2): a proxy that compresses the page makes the tag weak.
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let html_type = (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string());
    (cache, [html_type], html).into_response()
}

/// In front of `/v/<version>/…`: a 404 unless `<version>` is the current one; what is served is
/// marked immutable — unless the folders changed while it was being served (a deploy that copies
/// files in place), in which case it is `no-store`: immutable bytes must be the version's bytes.
pub async fn immutable(State(assets): State<Arc<Assets>>, req: Request, next: Next) -> Response {
    let asked = req
        .extensions()
        .get::<OriginalUri>()
        .and_then(|uri| uri.path().split('/').nth(2).map(str::to_owned));
    let current = current_version(&assets).await;
    if asked.is_none() || asked != current {
        // Another version (an old page during a deploy): not cached anywhere, so that no proxy keeps it.
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, "no-store")],
            Body::empty(),
        )
            .into_response();
    }
    let mut response = next.run(req).await;
    let served = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let policy = match served && current_version(&assets).await == current {
        true => IMMUTABLE,
        false => "no-store",
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

async fn current_version(assets: &Arc<Assets>) -> Option<String> {
    let assets = assets.clone();
    tokio::task::spawn_blocking(move || assets.version()).await.ok()
}

/// Files may go out compressed (the package's precompressed copies, or compressed on the way out):
/// a shared cache must keep one copy per `Accept-Encoding`. tower-http adds `Vary` only where it
/// compresses itself, not to the precompressed copies `ServeDir` sends.
pub async fn vary_encoding(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let varies = response.headers().get_all(header::VARY).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
    });
    if !varies {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_files_get_the_prefix_and_nothing_else_does() {
        let html = r##"<link rel="stylesheet" href="style.css"><link rel="icon" href="data:,">
<script type="module" src="app.js"></script><a class="skip" href="#cart">x</a><a href="missing.js">
<img src="/abs.png"><img src="https://x.test/a.png"><a href="../up.js"><a href="sub/ok.js">"##;
        let exists = |name: &str| ["style.css", "app.js", "sub/ok.js", "../up.js"].contains(&name);
        let out = versioned_html(html, "/v/abc/www/", exists);
        assert!(out.contains(r#"href="/v/abc/www/style.css""#), "{out}");
        assert!(out.contains(r#"src="/v/abc/www/app.js""#), "{out}");
        assert!(out.contains(r#"href="/v/abc/www/sub/ok.js""#), "{out}");
        for kept in [
            r#"href="data:,""#,
            r##"href="#cart""##,
            r#"href="missing.js""#,
            r#"src="/abs.png""#,
            r#"src="https://x.test/a.png""#,
            r#"href="../up.js""#,
        ] {
            assert!(out.contains(kept), "{kept} in {out}");
        }
    }

    #[test]
    fn an_unterminated_attribute_is_copied_as_it_is() {
        assert_eq!(
            versioned_html(r#"<a href="app.js"#, "/v/1/", |_| true),
            r#"<a href="/v/1/app.js"#
        );
    }

    #[test]
    fn the_version_follows_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (www, pkg) = (dir.path().join("www"), dir.path().join("pkg"));
        std::fs::create_dir_all(pkg.join("snippets")).unwrap();
        std::fs::create_dir_all(&www).unwrap();
        std::fs::write(www.join("app.js"), "one").unwrap();
        std::fs::write(pkg.join("snippets/glue.js"), "glue").unwrap();
        let assets = Assets::new(&www, &pkg);
        let first = assets.version();
        assert_eq!(first.len(), 16);
        assert_eq!(assets.version(), first);
        std::fs::write(www.join(".hidden"), "not served").unwrap();
        assert_eq!(assets.version(), first, "dotfiles are not served, so they do not count");
        // Same length, new bytes; the file's time is set so that the test never depends on the
        // clock's granularity.
        let glue = pkg.join("snippets/glue.js");
        let rewrite = |text: &str, secs: u64| {
            std::fs::write(&glue, text).unwrap();
            let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            std::fs::File::options()
                .write(true)
                .open(&glue)
                .unwrap()
                .set_modified(at)
                .unwrap();
        };
        rewrite("glu2", 1_000_000);
        assert_ne!(assets.version(), first);
        rewrite("glue", 2_000_000);
        assert_eq!(assets.version(), first, "the version names the bytes, not the time");
    }
}
