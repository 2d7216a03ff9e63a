//! `snapshot` and `restore`: file steps confined to the plan's `files under` roots after symbolic links are
//! resolved, with atomic replacement (temp file in the target's directory, fsync, rename, fsync the
//! directory) and the replaced content kept byte for byte for `ripcord undo`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a file step did to one file, for the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// `snapshot` (copied into the store), `source` (what a restore copied from), `replaced` (the content a
    /// restore replaced; `kept` says where it is now), `restored` (the new content).
    pub role: String,
    pub path: String,
    /// SHA-256 of the content; absent for a `replaced` file that did not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    /// Where the state dir keeps a copy (snapshots, replaced originals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
}

/// Lexical normalisation: `.` dropped, `..` pops (never above `/`).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(p) => out.push(p),
            _ => {}
        }
    }
    out
}

/// Resolves symbolic links in `path` (its parent when the file itself does not exist yet) and checks that
/// the result lies under one of `roots` (themselves resolved). Escaping every root is an error.
pub fn resolve_under(path: &str, roots: &[String]) -> Result<PathBuf, String> {
    let p = Path::new(path);
    let resolved = if fs::symlink_metadata(p).is_ok() {
        fs::canonicalize(p).map_err(|e| format!("cannot resolve `{path}`: {e}"))?
    } else {
        let normal = normalise(p);
        let parent = normal.parent().unwrap_or(Path::new("/"));
        let name = normal.file_name().ok_or_else(|| format!("`{path}` names no file"))?;
        fs::canonicalize(parent).map_err(|e| format!("cannot resolve the directory of `{path}`: {e}"))?.join(name)
    };
    let inside = roots.iter().any(|root| {
        let root = fs::canonicalize(root).unwrap_or_else(|_| normalise(Path::new(root)));
        resolved.starts_with(&root)
    });
    if inside {
        Ok(resolved)
    } else {
        Err(format!(
            "`{path}` resolves to `{}`, which is outside `files under` ({})",
            resolved.display(),
            roots.join(", ")
        ))
    }
}

/// Copies `src` into a new file at `dst` (which must not exist), hashing on the way, and fsyncs it.
fn copy_new(src: &Path, dst: &Path, mode: u32) -> io::Result<String> {
    let mut input = File::open(src)?;
    let mut out = OpenOptions::new().write(true).create_new(true).open(dst)?;
    let result = (|| {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = input.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
        }
        out.set_permissions(fs::Permissions::from_mode(mode))?;
        out.sync_all()?;
        Ok(super::hex(&hasher.finalize()))
    })();
    if result.is_err() {
        let _ = fs::remove_file(dst);
    }
    result
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn mode_of(path: &Path) -> io::Result<u32> {
    Ok(fs::metadata(path)?.permissions().mode() & 0o7777)
}

/// Atomically replaces `target` with a copy of `src` (mode `mode`): temp file in the same directory, fsync,
/// rename over, fsync the directory. Returns the new content's SHA-256.
pub fn replace_atomically(target: &Path, src: &Path, mode: u32) -> io::Result<String> {
    let dir = target.parent().ok_or_else(|| io::Error::other("the target has no directory"))?;
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let tmp = dir.join(format!(".{name}.ripcord-{}-{nanos}.tmp", std::process::id()));
    let sha = copy_new(src, &tmp, mode)?;
    if let Err(e) = fs::rename(&tmp, target) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fsync_dir(dir)?;
    Ok(sha)
}

/// Where snapshots of `path` live: one directory per path, named by the path's digest, newest last by name.
fn snapshot_dir(store: &Path, path: &Path) -> PathBuf {
    let digest = super::sha256_hex(path.as_os_str().as_encoded_bytes());
    store.join(&digest[..24])
}

/// `snapshot`: copies `path` (already resolved) into the snapshot store.
pub fn snapshot(path: &Path, store: &Path, run_id: &str, step_id: &str) -> Result<Vec<FileRecord>, String> {
    let fail = |e: io::Error| format!("cannot snapshot `{}`: {e}", path.display());
    let dir = snapshot_dir(store, path);
    fs::create_dir_all(&dir).map_err(fail)?;
    // The path itself, so that a person can tell which directory holds which file.
    let index = dir.join("path");
    if !index.exists() {
        fs::write(&index, path.as_os_str().as_encoded_bytes()).map_err(fail)?;
    }
    let mode = mode_of(path).map_err(fail)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let dst = dir.join(format!("{now:015}-{run_id}-{step_id}"));
    let sha = copy_new(path, &dst, mode).map_err(fail)?;
    fsync_dir(&dir).map_err(fail)?;
    Ok(vec![FileRecord {
        role: "snapshot".into(),
        path: path.display().to_string(),
        sha256: Some(sha),
        mode: Some(mode),
        kept: Some(dst.display().to_string()),
    }])
}

/// The newest snapshot of `path` in the store.
pub fn newest_snapshot(path: &Path, store: &Path) -> Option<PathBuf> {
    let dir = snapshot_dir(store, path);
    let mut names: Vec<String> = fs::read_dir(&dir)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "path" && !n.ends_with(".tmp"))
        .collect();
    names.sort();
    names.pop().map(|n| dir.join(n))
}

/// `restore`: keeps what `target` holds now in `kept_dir`, then replaces it atomically with `source`. The
/// restored file takes the source's permissions (a snapshot brings back the mode it recorded).
pub fn restore(target: &Path, source: &Path, kept_dir: &Path, step_id: &str) -> Result<Vec<FileRecord>, String> {
    let fail = |what: &str, e: io::Error| format!("cannot {what}: {e}");
    let mut records = Vec::new();
    let source_mode = mode_of(source).map_err(|e| fail(&format!("read `{}`", source.display()), e))?;
    // Keep the current content first: nothing is replaced unless it is safe in the state dir.
    let replaced = if target.exists() {
        fs::create_dir_all(kept_dir).map_err(|e| fail("create the directory for replaced files", e))?;
        let kept = kept_dir.join(step_id);
        // The kept copy is written whole or not at all (temp + rename). If it exists, an earlier try of this
        // same step (cut off by a crash, or a previous attempt of the level) already kept the content from
        // before the run touched the file: that is the original, and it must not be replaced by a later one.
        let (sha, mode) = if kept.exists() {
            let bytes = fs::read(&kept).map_err(|e| fail(&format!("read `{}`", kept.display()), e))?;
            (super::sha256_hex(&bytes), mode_of(&kept).map_err(|e| fail("read the kept copy", e))?)
        } else {
            let mode = mode_of(target).map_err(|e| fail(&format!("read `{}`", target.display()), e))?;
            let tmp = kept_dir.join(format!(".{step_id}.{}.tmp", std::process::id()));
            let _ = fs::remove_file(&tmp);
            let sha = copy_new(target, &tmp, mode).map_err(|e| fail(&format!("keep `{}`", target.display()), e))?;
            fs::rename(&tmp, &kept).map_err(|e| fail("keep the replaced file", e))?;
            fsync_dir(kept_dir).map_err(|e| fail("sync the state dir", e))?;
            (sha, mode)
        };
        FileRecord {
            role: "replaced".into(),
            path: target.display().to_string(),
            sha256: Some(sha),
            mode: Some(mode),
            kept: Some(kept.display().to_string()),
        }
    } else {
        FileRecord { role: "replaced".into(), path: target.display().to_string(), sha256: None, mode: None, kept: None }
    };
    records.push(replaced);
    let sha = replace_atomically(target, source, source_mode)
        .map_err(|e| fail(&format!("replace `{}` with `{}`", target.display(), source.display()), e))?;
    records.push(FileRecord {
        role: "source".into(),
        path: source.display().to_string(),
        sha256: Some(sha.clone()),
        mode: Some(source_mode),
        kept: None,
    });
    records.push(FileRecord {
        role: "restored".into(),
        path: target.display().to_string(),
        sha256: Some(sha),
        mode: Some(source_mode),
        kept: None,
    });
    Ok(records)
}

/// Puts back what a restore replaced: the kept copy (content and mode), or removes the file when the
/// restore created it.
pub fn undo(replaced: &FileRecord) -> Result<String, String> {
    let target = Path::new(&replaced.path);
    match &replaced.kept {
        Some(kept) => {
            let mode = replaced.mode.unwrap_or(0o644);
            replace_atomically(target, Path::new(kept), mode)
                .map_err(|e| format!("cannot put `{}` back from `{kept}`: {e}", target.display()))
        }
        None => match fs::remove_file(target) {
            Ok(()) => {
                if let Some(dir) = target.parent() {
                    let _ = fsync_dir(dir);
                }
                Ok("removed (it did not exist before the run)".to_string())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok("already absent".to_string()),
            Err(e) => Err(format!("cannot remove `{}`: {e}", target.display())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_lexically() {
        assert_eq!(normalise(Path::new("/etc/app/../passwd")), PathBuf::from("/etc/passwd"));
        assert_eq!(normalise(Path::new("/../../x")), PathBuf::from("/x"));
    }
}
