//! `snapshot` and `restore`: file steps confined to the plan's `files under` roots, every file reached through
//! opened directory handles with no symbolic link followed below a root (`beneath.rs`), only regular files
//! read or replaced, with atomic replacement (temp file in the target's directory, fsync, rename, fsync the
//! directory, all through the directory's handle) and the replaced content kept byte for byte for
//! `ripcord undo`, which checks that the file still holds what the restore wrote before it puts anything back.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::beneath::{self, Cancel, Located};

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

/// The file `path` names beneath `roots`, for `--dry-run`: its directories are opened (read only), no link
/// followed; the file itself must be absent or regular. Touches nothing.
pub fn check(path: &str, roots: &[String]) -> Result<PathBuf, String> {
    let at = beneath::locate(path, roots)?;
    match beneath::kind_at(&at.dir, &at.name) {
        Ok(None | Some(rustix::fs::FileType::RegularFile)) => Ok(at.path),
        Ok(Some(_)) => beneath::open_regular(&at.dir, &at.name, &at.path).map(|_| at.path),
        Err(e) => Err(format!("cannot read `{}`: {e}", at.path.display())),
    }
}

/// Copies `input` into a new file at `dst` (which must not exist) in the state dir, hashing on the way,
/// fsynced; removed again if the copy fails.
fn copy_new(input: &mut File, dst: &Path, mode: u32, cancel: &Cancel) -> io::Result<String> {
    let mut out = OpenOptions::new().write(true).create_new(true).open(dst)?;
    let result = beneath::copy(input, &mut out, mode, cancel);
    if result.is_err() {
        let _ = fs::remove_file(dst);
    }
    result
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Where snapshots of `path` live: one directory per path, named by the path's digest, newest last by name.
fn snapshot_dir(store: &Path, path: &Path) -> PathBuf {
    let digest = super::sha256_hex(path.as_os_str().as_encoded_bytes());
    store.join(&digest[..24])
}

/// `snapshot`: copies the regular file `path` (beneath `roots`) into the snapshot store.
pub fn snapshot(
    path: &str,
    roots: &[String],
    store: &Path,
    run_id: &str,
    step_id: &str,
    cancel: &Cancel,
) -> Result<Vec<FileRecord>, String> {
    let at = beneath::locate(path, roots)?;
    let mut input = beneath::open_regular(&at.dir, &at.name, &at.path)?;
    let fail = |e: io::Error| format!("cannot snapshot `{}`: {e}", at.path.display());
    let dir = snapshot_dir(store, &at.path);
    fs::create_dir_all(&dir).map_err(fail)?;
    // The path itself, so that a person can tell which directory holds which file.
    let index = dir.join("path");
    if !index.exists() {
        fs::write(&index, at.path.as_os_str().as_encoded_bytes()).map_err(fail)?;
    }
    let mode = beneath::mode_of(&input).map_err(fail)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let dst = dir.join(format!("{now:015}-{run_id}-{step_id}"));
    let sha = copy_new(&mut input, &dst, mode, cancel).map_err(fail)?;
    fsync_dir(&dir).map_err(fail)?;
    Ok(vec![FileRecord {
        role: "snapshot".into(),
        path: at.path.display().to_string(),
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

/// Where a restore copies from: another file beneath the roots, or the newest snapshot of the target.
pub enum RestoreFrom<'a> {
    Path(&'a str),
    Snapshot,
}

/// `restore`: keeps what `path` holds now in `kept_dir`, then replaces it atomically with the source. The
/// restored file takes the source's permissions (a snapshot brings back the mode it recorded). Source and
/// target must be regular files (the target may also be absent).
pub fn restore(
    path: &str,
    from: RestoreFrom<'_>,
    roots: &[String],
    store: &Path,
    kept_dir: &Path,
    step_id: &str,
    cancel: &Cancel,
) -> Result<Vec<FileRecord>, String> {
    let fail = |what: &str, e: io::Error| format!("cannot {what}: {e}");
    let target = beneath::locate(path, roots)?;
    let (mut source, source_path) = match from {
        RestoreFrom::Path(p) => {
            let at = beneath::locate(p, roots)?;
            (beneath::open_regular(&at.dir, &at.name, &at.path)?, at.path)
        }
        RestoreFrom::Snapshot => {
            let snap = newest_snapshot(&target.path, store)
                .ok_or_else(|| format!("there is no snapshot of `{}` in the state dir", target.path.display()))?;
            (beneath::open_regular_path(&snap)?, snap)
        }
    };
    let source_mode = beneath::mode_of(&source).map_err(|e| fail(&format!("read `{}`", source_path.display()), e))?;
    // Keep the current content first: nothing is replaced unless it is safe in the state dir.
    let replaced = keep_current(&target, kept_dir, step_id, cancel)?;
    let mut records = vec![replaced];
    let sha = beneath::replace(&target.dir, &target.name, &target.path, &mut source, source_mode, cancel)?;
    records.push(FileRecord {
        role: "source".into(),
        path: source_path.display().to_string(),
        sha256: Some(sha.clone()),
        mode: Some(source_mode),
        kept: None,
    });
    records.push(FileRecord {
        role: "restored".into(),
        path: target.path.display().to_string(),
        sha256: Some(sha),
        mode: Some(source_mode),
        kept: None,
    });
    Ok(records)
}

/// Keeps what `target` holds now in `kept_dir/<step_id>` (whole or not at all: temp + rename), unless an
/// earlier try of this same step (cut off by a crash, or a previous attempt of the level) already kept the
/// content from before the run touched the file: that is the original, and it must not be replaced.
fn keep_current(target: &Located, kept_dir: &Path, step_id: &str, cancel: &Cancel) -> Result<FileRecord, String> {
    let fail = |what: &str, e: io::Error| format!("cannot {what}: {e}");
    let shown = target.path.display().to_string();
    let kind = beneath::kind_at(&target.dir, &target.name).map_err(|e| fail(&format!("read `{shown}`"), e))?;
    if kind.is_none() {
        return Ok(FileRecord { role: "replaced".into(), path: shown, sha256: None, mode: None, kept: None });
    }
    let mut current = beneath::open_regular(&target.dir, &target.name, &target.path)?;
    fs::create_dir_all(kept_dir).map_err(|e| fail("create the directory for replaced files", e))?;
    let kept = kept_dir.join(step_id);
    let (sha, mode) = if kept.exists() {
        let mut file = beneath::open_regular_path(&kept)?;
        let mode = beneath::mode_of(&file).map_err(|e| fail("read the kept copy", e))?;
        (hash(&mut file).map_err(|e| fail(&format!("read `{}`", kept.display()), e))?, mode)
    } else {
        let mode = beneath::mode_of(&current).map_err(|e| fail(&format!("read `{shown}`"), e))?;
        let tmp = kept_dir.join(format!(".{step_id}.{}.tmp", std::process::id()));
        let _ = fs::remove_file(&tmp);
        let sha = copy_new(&mut current, &tmp, mode, cancel).map_err(|e| fail(&format!("keep `{shown}`"), e))?;
        fs::rename(&tmp, &kept).map_err(|e| fail("keep the replaced file", e))?;
        fsync_dir(kept_dir).map_err(|e| fail("sync the state dir", e))?;
        (sha, mode)
    };
    Ok(FileRecord {
        role: "replaced".into(),
        path: shown,
        sha256: Some(sha),
        mode: Some(mode),
        kept: Some(kept.display().to_string()),
    })
}

/// SHA-256 of what an opened file holds from where it is to its end.
fn hash(file: &mut File) -> io::Result<String> {
    beneath::stream(file, &mut io::sink(), &Cancel::new())
}

/// What the file at `path` (beneath `roots`) holds now: its SHA-256, or `None` when there is no file.
pub fn current(path: &str, roots: &[String]) -> Result<Option<String>, String> {
    let at = beneath::locate(path, roots)?;
    if beneath::kind_at(&at.dir, &at.name).map_err(|e| format!("cannot read `{path}`: {e}"))?.is_none() {
        return Ok(None);
    }
    let mut file = beneath::open_regular(&at.dir, &at.name, &at.path)?;
    hash(&mut file).map(Some).map_err(|e| format!("cannot read `{path}`: {e}"))
}

/// Copies what the file at `path` holds now into the new file `dest` (in the state dir), with its mode.
pub fn keep_aside(path: &str, roots: &[String], dest: &Path) -> Result<(), String> {
    let at = beneath::locate(path, roots)?;
    let mut file = beneath::open_regular(&at.dir, &at.name, &at.path)?;
    let fail = |e: io::Error| format!("cannot keep `{path}` in `{}`: {e}", dest.display());
    let mode = beneath::mode_of(&file).map_err(fail)?;
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).map_err(fail)?;
    }
    copy_new(&mut file, dest, mode, &Cancel::new()).map_err(fail)?;
    dest.parent().map_or(Ok(()), fsync_dir).map_err(fail)
}

/// Puts back what a restore replaced: the kept copy (content and mode), or removes the file when the
/// restore created it. The caller checks first that the file holds what the restore wrote.
pub fn undo(replaced: &FileRecord, roots: &[String]) -> Result<String, String> {
    let at = beneath::locate(&replaced.path, roots)?;
    match &replaced.kept {
        Some(kept) => {
            let mode = replaced.mode.unwrap_or(0o644);
            let mut input = beneath::open_regular_path(Path::new(kept))?;
            beneath::replace(&at.dir, &at.name, &at.path, &mut input, mode, &Cancel::new())
                .map_err(|e| format!("cannot put `{}` back from `{kept}`: {e}", at.path.display()))
        }
        None if beneath::remove(&at.dir, &at.name, &at.path)? => {
            Ok("removed (it did not exist before the run)".to_string())
        }
        None => Ok("already absent".to_string()),
    }
}
