//! Files beneath a `files under` root, reached only through opened directory handles: the root is resolved
//! and opened once (it may itself be reached through symbolic links), then every component below it is
//! opened with `openat` and `O_NOFOLLOW`, so a directory swapped for a link between a check and a use can
//! never lead outside the root. Only regular files are read or replaced (a FIFO, a device or a directory is
//! refused before it is opened for reading). Temporary files, the rename over the target and the directory
//! fsync all go through the target's opened directory. Used by the file steps (`file_steps.rs`).
//!
//! INVARIANT: nothing beneath a root is reached by a path string; only by a name relative to an opened
//! directory, with no symbolic link followed.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use sha2::{Digest, Sha256};

/// Set when the step that started a file operation is over (timeout, deadline, interruption): the
/// operation stops at its next chunk and never renames anything into place afterwards.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// An error once cancelled, for the checks between steps of an operation.
    pub fn check(&self) -> io::Result<()> {
        if self.is_cancelled() {
            Err(io::Error::new(io::ErrorKind::Interrupted, "the step ended before the file operation finished"))
        } else {
            Ok(())
        }
    }
}

/// Lexical normalisation: `.` dropped, `..` pops (never above `/`).
pub fn normalise(path: &Path) -> PathBuf {
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

/// One file beneath a root: its directory, opened, and its name in it.
#[derive(Debug)]
pub struct Located {
    /// The file's directory, opened without following any link below the root.
    pub dir: File,
    pub name: OsString,
    /// The root as opened (links in the root's own path resolved) joined with the path below it: what the
    /// journal records and what snapshots are filed under.
    pub path: PathBuf,
}

fn flags_dir() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// Where the opened root really is (`/proc/self/fd`), so the path recorded is the one that was opened.
fn opened_path(dir: &File, fallback: &Path) -> PathBuf {
    std::fs::read_link(format!("/proc/self/fd/{}", dir.as_raw_fd()))
        .ok()
        .filter(|p| p.is_absolute())
        .or_else(|| std::fs::canonicalize(fallback).ok())
        .unwrap_or_else(|| normalise(fallback))
}

/// The root `path` lies beneath and the components below it. A path may name its root as written in the
/// runbook or as the root resolves now; the components below are taken as written (`..` lexically).
fn split<'a>(path: &str, roots: &'a [String]) -> Result<(&'a str, Vec<OsString>), String> {
    let normal = normalise(Path::new(path));
    let below = |root: &Path| -> Option<Vec<OsString>> {
        normal.strip_prefix(root).ok().map(|rest| rest.components().map(|c| c.as_os_str().to_os_string()).collect())
    };
    let found = roots.iter().find_map(|r| below(&normalise(Path::new(r))).map(|rel| (r.as_str(), rel))).or_else(|| {
        roots.iter().find_map(|r| std::fs::canonicalize(r).ok().and_then(|c| below(&c)).map(|rel| (r.as_str(), rel)))
    });
    match found {
        Some((_, rel)) if rel.is_empty() => Err(format!("`{path}` is a `files under` root, not a file in it")),
        Some(found) => Ok(found),
        None => Err(format!("`{path}` is outside `files under` ({})", roots.join(", "))),
    }
}

/// Why opening `name` beneath `dir` failed, in words: a link is named as such.
fn refuse(dir: &File, name: &OsStr, shown: &Path, e: Errno) -> String {
    let what = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Some(FileType::from_raw_mode(st.st_mode)),
        Err(_) => None,
    };
    match what {
        Some(FileType::Symlink) => format!(
            "`{}` is a symbolic link: file steps follow no link beneath a root, since one could lead outside \
             `files under`",
            shown.display()
        ),
        Some(t) if e == Errno::NOTDIR => format!("`{}` is {}, not a directory", shown.display(), kind_name(t)),
        _ => format!("cannot open `{}`: {}", shown.display(), io::Error::from(e)),
    }
}

fn kind_name(t: FileType) -> &'static str {
    match t {
        FileType::RegularFile => "a regular file",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symbolic link",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Unknown => "not a regular file",
    }
}

/// Opens the root `path` lies beneath, then every directory down to the file's, following no link below
/// the root. The file itself is not opened.
pub fn locate(path: &str, roots: &[String]) -> Result<Located, String> {
    let (root, rel) = split(path, roots)?;
    let root_fd = rustix::fs::open(root, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| format!("cannot open the `files under` root `{root}`: {}", io::Error::from(e)))?;
    let mut dir = File::from(root_fd);
    let mut shown = opened_path(&dir, Path::new(root));
    let Some((name, parents)) = rel.split_last() else {
        return Err(format!("`{path}` names no file"));
    };
    for c in parents {
        shown.push(c);
        let next = rustix::fs::openat(&dir, c.as_os_str(), flags_dir(), Mode::empty())
            .map_err(|e| refuse(&dir, c, &shown, e))?;
        dir = File::from(next);
    }
    shown.push(name);
    Ok(Located { dir, name: name.clone(), path: shown })
}

/// What is at `name` in `dir` (links not followed): `None` when nothing is.
pub fn kind_at(dir: &File, name: &OsStr) -> io::Result<Option<FileType>> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Opens the regular file `name` in `dir` for reading; anything else (a link, a FIFO, a device, a
/// directory) is refused before it is opened, and checked again on the opened file.
pub fn open_regular(dir: &File, name: &OsStr, shown: &Path) -> Result<File, String> {
    match kind_at(dir, name) {
        Ok(Some(FileType::RegularFile)) => {}
        Ok(Some(FileType::Symlink)) => return Err(refuse(dir, name, shown, Errno::LOOP)),
        Ok(Some(t)) => return Err(not_regular(shown, t)),
        Ok(None) => return Err(format!("`{}` does not exist", shown.display())),
        Err(e) => return Err(format!("cannot read `{}`: {e}", shown.display())),
    }
    // Non-blocking, so that a file swapped for a FIFO after the check cannot block the open.
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty()).map_err(|e| refuse(dir, name, shown, e))?;
    checked_regular(File::from(fd), shown)
}

/// Opens the regular file at `path` (outside any root: the state dir), the last component not followed.
pub fn open_regular_path(path: &Path) -> Result<File, String> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(path, flags, Mode::empty())
        .map_err(|e| format!("cannot open `{}`: {}", path.display(), io::Error::from(e)))?;
    checked_regular(File::from(fd), path)
}

fn checked_regular(file: File, shown: &Path) -> Result<File, String> {
    let st =
        rustix::fs::fstat(&file).map_err(|e| format!("cannot read `{}`: {}", shown.display(), io::Error::from(e)))?;
    let t = FileType::from_raw_mode(st.st_mode);
    if t != FileType::RegularFile {
        return Err(not_regular(shown, t));
    }
    let flags = rustix::fs::fcntl_getfl(&file)
        .map_err(io::Error::from)
        .and_then(|f| rustix::fs::fcntl_setfl(&file, f & !OFlags::NONBLOCK).map_err(io::Error::from));
    flags.map_err(|e| format!("cannot read `{}`: {e}", shown.display()))?;
    Ok(file)
}

fn not_regular(shown: &Path, t: FileType) -> String {
    format!("`{}` is {}; file steps read and replace only regular files", shown.display(), kind_name(t))
}

/// The permission bits of an opened file.
pub fn mode_of(file: &File) -> io::Result<u32> {
    Ok(file.metadata()?.permissions().mode() & 0o7777)
}

/// Copies `input` to `out` (hashing on the way), sets `mode` and fsyncs; stops when cancelled.
pub fn copy(input: &mut File, out: &mut File, mode: u32, cancel: &Cancel) -> io::Result<String> {
    let sha = stream(input, out, cancel)?;
    out.set_permissions(std::fs::Permissions::from_mode(mode))?;
    out.sync_all()?;
    Ok(sha)
}

/// Copies `input` to `out` and returns the SHA-256 of what went through; stops when cancelled.
pub fn stream(input: &mut File, out: &mut impl Write, cancel: &Cancel) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        cancel.check()?;
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
    }
    Ok(super::hex(&hasher.finalize()))
}

/// A temporary name beside `name`: hidden, this process's, unique enough, short enough for any file system.
fn temp_name(name: &OsStr) -> OsString {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let base: String = String::from_utf8_lossy(name.as_bytes()).chars().take(100).collect();
    OsString::from(format!(".{base}.ripcord-{}-{nanos}.tmp", std::process::id()))
}

/// Atomically replaces the regular file `name` in `dir` (or creates it) with a copy of `input` (mode
/// `mode`): a temporary file in `dir`, fsync, rename over, fsync `dir`, all through the handle. Refuses a
/// target that is not a regular file. Returns the new content's SHA-256.
pub fn replace(
    dir: &File,
    name: &OsStr,
    shown: &Path,
    input: &mut File,
    mode: u32,
    cancel: &Cancel,
) -> Result<String, String> {
    let fail = |e: io::Error| format!("cannot replace `{}`: {e}", shown.display());
    let target_ok = |dir: &File| -> Result<(), String> {
        match kind_at(dir, name).map_err(fail)? {
            None | Some(FileType::RegularFile) => Ok(()),
            Some(FileType::Symlink) => Err(refuse(dir, name, shown, Errno::LOOP)),
            Some(t) => Err(not_regular(shown, t)),
        }
    };
    target_ok(dir)?;
    let tmp = temp_name(name);
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, tmp.as_os_str(), flags, Mode::from_raw_mode(0o600)).map_err(|e| fail(e.into()))?;
    let mut out = File::from(fd);
    let result = copy(input, &mut out, mode, cancel).map_err(fail).and_then(|sha| {
        drop(out);
        // Checked again just before the rename; a rename never follows a link, so whatever is there now is
        // replaced in `dir` itself.
        target_ok(dir)?;
        cancel.check().map_err(fail)?;
        rustix::fs::renameat(dir, tmp.as_os_str(), dir, name).map_err(|e| fail(e.into()))?;
        Ok(sha)
    });
    match result {
        Ok(sha) => {
            rustix::fs::fsync(dir).map_err(|e| fail(e.into()))?;
            Ok(sha)
        }
        Err(e) => {
            let _ = rustix::fs::unlinkat(dir, tmp.as_os_str(), AtFlags::empty());
            Err(e)
        }
    }
}

/// Removes the regular file `name` from `dir` and fsyncs `dir`; `Ok(false)` when it was already absent.
pub fn remove(dir: &File, name: &OsStr, shown: &Path) -> Result<bool, String> {
    match kind_at(dir, name).map_err(|e| format!("cannot remove `{}`: {e}", shown.display()))? {
        None => return Ok(false),
        Some(FileType::RegularFile) => {}
        Some(FileType::Symlink) => return Err(refuse(dir, name, shown, Errno::LOOP)),
        Some(t) => return Err(not_regular(shown, t)),
    }
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) => {
            let _ = rustix::fs::fsync(dir);
            Ok(true)
        }
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(format!("cannot remove `{}`: {}", shown.display(), io::Error::from(e))),
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

    #[test]
    fn splits_below_the_root_as_written() {
        let roots = vec!["/no/such/root".to_string()];
        let (root, rel) = split("/no/such/root/a/../b/c", &roots).expect("inside");
        assert_eq!(root, "/no/such/root");
        assert_eq!(rel, vec![OsString::from("b"), OsString::from("c")]);
        assert!(split("/no/such/rootx/a", &roots).is_err());
        assert!(split("/no/such/root/../x", &roots).is_err());
    }
}
