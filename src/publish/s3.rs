//! `kind = "s3"`: any S3-compatible storage (AWS S3, MinIO, Yandex Object Storage…),
//! through the `object_store` crate.
//!
//! Only objects whose bytes changed are sent. What the bucket holds is known from the
//! previous publish's manifest in the private store (`.diary/publish-NAME.json`: path →
//! SHA-256) together with a listing of the bucket (under the prefix), which also finds
//! objects that are no longer part of the site; without a manifest, an object whose ETag is
//! the MD5 of the file's bytes (S3's ETag of a plain upload) counts as unchanged.
//!
//! Objects are sent assets first, pages next, the front page last; deletions come only
//! after every upload succeeded. Each object gets its Content-Type and a Cache-Control
//! (see [`crate::output::cache_control`]). Credentials come from the environment only.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt};
use md5::{Digest, Md5};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use super::{Diaries, Guard, Published, SiteFile, Snapshot, Target, upload_phase};
use crate::config::{S3Target, Site};
use crate::files::write_private;
use crate::output::cache_control;

/// Requests in flight at once.
const CONCURRENCY: usize = 8;

/// Bump when the headers given to objects change: every object is then sent again.
const HEADERS_VERSION: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    /// The bucket, prefix and endpoint this manifest describes.
    place: String,
    headers: u32,
    /// Relative path → SHA-256 of the bytes the bucket holds.
    files: BTreeMap<String, String>,
}

impl Target for S3Target {
    fn place(&self, _site: &Site) -> String {
        let prefix = self.prefix();
        let mut place = if prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{prefix}", self.bucket)
        };
        if let Some(endpoint) = &self.endpoint {
            place.push_str(&format!(" at {endpoint}"));
        }
        place
    }

    fn publish(
        &self,
        site: &Site,
        name: &str,
        snap: &Snapshot,
        guard: &Guard,
    ) -> Result<Published> {
        publish(site, name, self, snap, guard)
    }
}

fn publish(
    site: &Site,
    name: &str,
    target: &S3Target,
    snap: &Snapshot,
    guard: &Guard,
) -> Result<Published> {
    check_credentials()?;
    let bucket = target.bucket.as_str();
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(region) = &target.region {
        builder = builder.with_region(region);
    } else if std::env::var_os("AWS_DEFAULT_REGION").is_none()
        && std::env::var_os("AWS_REGION").is_none()
    {
        builder = builder.with_region("us-east-1");
    }
    if let Some(endpoint) = &target.endpoint {
        builder = builder
            .with_endpoint(endpoint.trim_end_matches('/'))
            .with_allow_http(endpoint.starts_with("http://"));
    }
    let store = builder
        .build()
        .context("cannot set up the S3 client (check the bucket, region and endpoint)")?;

    let prefix = target.prefix().to_string();
    let place = format!(
        "{bucket}/{prefix} at {}",
        target.endpoint.as_deref().unwrap_or("aws")
    );
    let manifest_path = site.store_path().join(format!("publish-{name}.json"));
    let previous: Manifest = std::fs::read(&manifest_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .filter(|m: &Manifest| m.place == place && m.headers == HEADERS_VERSION)
        .unwrap_or_default();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (report, manifest, error) = runtime.block_on(sync(&store, &prefix, snap, &previous, guard));
    let manifest = Manifest {
        place,
        headers: HEADERS_VERSION,
        files: manifest,
    };
    write_private(&manifest_path, &serde_json::to_vec_pretty(&manifest)?)?;
    match error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Credentials come from the environment, never from site.toml. Without them object_store
/// would try the cloud's instance metadata service, which outside a cloud only hangs.
fn check_credentials() -> Result<()> {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    let keys = set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY");
    let role = [
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_METADATA_ENDPOINT",
    ]
    .iter()
    .any(|k| set(k));
    if !(keys || role) {
        bail!(
            "no storage credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the \
             environment of `diary` (for a systemd service: an EnvironmentFile readable by \
             its user only; see docs/operations.md)"
        );
    }
    Ok(())
}

fn key(prefix: &str, rel: &str) -> Result<ObjectPath> {
    let key = if prefix.is_empty() {
        rel.to_string()
    } else {
        format!("{prefix}/{rel}")
    };
    ObjectPath::parse(&key).with_context(|| format!("{key:?} is not a valid object key"))
}

/// Brings the bucket in line with the snapshot. Returns the report, what the bucket now
/// holds (for the manifest) and the first error, if any.
async fn sync(
    store: &AmazonS3,
    prefix: &str,
    snap: &Snapshot,
    previous: &Manifest,
    guard: &Guard,
) -> (Published, BTreeMap<String, String>, Option<anyhow::Error>) {
    let mut report = Published::default();
    let mut held: BTreeMap<String, String> = BTreeMap::new();

    // What the bucket holds under the prefix.
    let listed: Result<BTreeMap<String, (u64, Option<String>)>> = async {
        let prefix_path = if prefix.is_empty() {
            None
        } else {
            Some(ObjectPath::parse(prefix)?)
        };
        let objects: Vec<_> = store
            .list(prefix_path.as_ref())
            .try_collect()
            .await
            .context("cannot list the bucket (check the bucket name, endpoint and credentials)")?;
        let strip = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        Ok(objects
            .into_iter()
            .filter_map(|m| {
                let rel = m.location.as_ref().strip_prefix(&strip)?.to_string();
                Some((rel, (m.size, m.e_tag)))
            })
            .collect())
    }
    .await;
    let listed = match listed {
        Ok(l) => l,
        Err(e) => return (report, previous.files.clone(), Some(e)),
    };
    // What the bucket serves of the diaries, before anything changes.
    let served = async {
        let params = if listed.contains_key("diary/params.json") {
            let got = store
                .get(&key(prefix, "diary/params.json")?)
                .await
                .context("cannot read diary/params.json from the bucket")?;
            Some(got.bytes().await?.to_vec())
        } else {
            None
        };
        Ok::<_, anyhow::Error>(
            Diaries::count(listed.keys().map(String::as_str)).with_params(params.as_deref()),
        )
    }
    .await;
    if let Err(e) = served.and_then(|served| guard.check(&served)) {
        return (report, previous.files.clone(), Some(e));
    }

    // Decide what to send.
    let mut to_send: Vec<&SiteFile> = Vec::new();
    for f in &snap.files {
        let same = match listed.get(&f.path) {
            Some((size, etag)) if *size == f.size => {
                previous.files.get(&f.path) == Some(&f.sha256)
                    || etag.as_deref().is_some_and(|etag| {
                        let etag = etag.trim_matches('"');
                        etag.len() == 32
                            && snap
                                .read(f)
                                .is_ok_and(|b| hex::encode(Md5::digest(&b)) == etag)
                    })
            }
            _ => false,
        };
        if same {
            report.unchanged += 1;
            held.insert(f.path.clone(), f.sha256.clone());
        } else {
            to_send.push(f);
        }
    }
    to_send.sort_by_key(|f| (upload_phase(&f.path), f.path.clone()));

    // Send, phase by phase.
    let mut first_error: Option<anyhow::Error> = None;
    for phase in 0..=2 {
        let batch: Vec<&SiteFile> = to_send
            .iter()
            .copied()
            .filter(|f| upload_phase(&f.path) == phase)
            .collect();
        let results: Vec<(&SiteFile, Result<()>)> = futures::stream::iter(batch)
            .map(|f| async move { (f, put(store, prefix, snap, f).await) })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (f, result) in results {
            match result {
                Ok(()) => {
                    report.uploaded += 1;
                    held.insert(f.path.clone(), f.sha256.clone());
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if first_error.is_some() {
            break;
        }
    }
    if let Some(e) = first_error {
        let failed = to_send.len() - report.uploaded;
        return (
            report,
            held,
            Some(e.context(format!(
                "{failed} of {} upload(s) failed; nothing was deleted",
                to_send.len()
            ))),
        );
    }
    if let Err(e) = snap.check_unchanged() {
        return (report, held, Some(e));
    }

    // Delete what the site no longer has.
    let stale: Vec<String> = listed
        .keys()
        .filter(|rel| snap.files.binary_search_by(|f| f.path.cmp(rel)).is_err())
        .cloned()
        .collect();
    let results: Vec<Result<()>> = futures::stream::iter(stale)
        .map(|rel| async move {
            let path = key(prefix, &rel)?;
            store
                .delete(&path)
                .await
                .with_context(|| format!("cannot delete {path}"))
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut error = None;
    for r in results {
        match r {
            Ok(()) => report.deleted += 1,
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    (report, held, error)
}

async fn put(store: &AmazonS3, prefix: &str, snap: &Snapshot, f: &SiteFile) -> Result<()> {
    let bytes = snap.read(f)?;
    let path = key(prefix, &f.path)?;
    let mut attributes = Attributes::new();
    attributes.insert(
        Attribute::ContentType,
        crate::output::content_type(std::path::Path::new(&f.path)).into(),
    );
    attributes.insert(Attribute::CacheControl, cache_control(&f.path).into());
    let options = PutOptions {
        attributes,
        ..PutOptions::default()
    };
    store
        .put_opts(&path, PutPayload::from(bytes), options)
        .await
        .with_context(|| format!("cannot upload {path}"))?;
    Ok(())
}
