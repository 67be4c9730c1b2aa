//! Whole-file and path operations: each one blocking call, one `Blocking` resource
//! named after the function (`"fs::read"`, `"fs::rename"`, ...).

use super::asyncify::asyncify;
use std::fs::{Metadata, Permissions};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};

/// Reads a whole file into a vector ([`std::fs::read`]).
///
/// # Errors
///
/// `NotFound`, permissions, a directory, ...
#[track_caller]
pub fn read(path: impl AsRef<Path>) -> impl Future<Output = io::Result<Vec<u8>>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::read", move || std::fs::read(path))
}

/// Reads a whole file into a string ([`std::fs::read_to_string`]).
///
/// # Errors
///
/// As [`read`], and `InvalidData` if the contents are not UTF-8.
#[track_caller]
pub fn read_to_string(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<String>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::read_to_string", move || std::fs::read_to_string(path))
}

/// Creates or truncates a file and writes `contents` to it ([`std::fs::write`]). The
/// contents are copied at the call.
///
/// # Errors
///
/// `NotFound` for a missing parent directory, permissions, ...
#[track_caller]
pub fn write(
    path: impl AsRef<Path>,
    contents: impl AsRef<[u8]>,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    asyncify("fs::write", move || std::fs::write(path, contents))
}

/// Copies the contents and permissions of one file to another, creating or truncating
/// it ([`std::fs::copy`]). Returns the number of bytes copied.
///
/// # Errors
///
/// `NotFound` for a missing source, a source that is not a file, ...
#[track_caller]
pub fn copy(
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
) -> impl Future<Output = io::Result<u64>> + Send + 'static {
    let from = from.as_ref().to_owned();
    let to = to.as_ref().to_owned();
    asyncify("fs::copy", move || std::fs::copy(from, to))
}

/// Renames a file or directory, replacing `to` if it exists and may be replaced
/// ([`std::fs::rename`]).
///
/// # Errors
///
/// `NotFound`, a rename across file systems, ...
#[track_caller]
pub fn rename(
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let from = from.as_ref().to_owned();
    let to = to.as_ref().to_owned();
    asyncify("fs::rename", move || std::fs::rename(from, to))
}

/// Removes a file ([`std::fs::remove_file`]).
///
/// # Errors
///
/// `NotFound`, a directory, permissions, ...
#[track_caller]
pub fn remove_file(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::remove_file", move || std::fs::remove_file(path))
}

/// The metadata of a path, following symlinks ([`std::fs::metadata`]).
///
/// # Errors
///
/// `NotFound`, permissions, ...
#[track_caller]
pub fn metadata(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<Metadata>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::metadata", move || std::fs::metadata(path))
}

/// The metadata of a path, not following a final symlink
/// ([`std::fs::symlink_metadata`]).
///
/// # Errors
///
/// `NotFound`, permissions, ...
#[track_caller]
pub fn symlink_metadata(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<Metadata>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::symlink_metadata", move || {
        std::fs::symlink_metadata(path)
    })
}

/// Whether a path exists, following symlinks (`Ok(false)` for a broken one)
/// ([`std::fs::exists`]).
///
/// # Errors
///
/// When existence can be neither confirmed nor denied (permissions, ...).
#[track_caller]
pub fn try_exists(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<bool>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::try_exists", move || path.try_exists())
}

/// The absolute path with every symlink resolved ([`std::fs::canonicalize`]).
///
/// # Errors
///
/// `NotFound`, a non-directory component, ...
#[track_caller]
pub fn canonicalize(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<PathBuf>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::canonicalize", move || std::fs::canonicalize(path))
}

/// Creates a hard link `link` to `original` ([`std::fs::hard_link`]).
///
/// # Errors
///
/// `NotFound`, `AlreadyExists`, links across file systems, ...
#[track_caller]
pub fn hard_link(
    original: impl AsRef<Path>,
    link: impl AsRef<Path>,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let original = original.as_ref().to_owned();
    let link = link.as_ref().to_owned();
    asyncify("fs::hard_link", move || std::fs::hard_link(original, link))
}

/// The target of a symbolic link ([`std::fs::read_link`]).
///
/// # Errors
///
/// `NotFound`, not a symlink, ...
#[track_caller]
pub fn read_link(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<PathBuf>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::read_link", move || std::fs::read_link(path))
}

/// Changes the permissions of a file or directory ([`std::fs::set_permissions`]).
///
/// # Errors
///
/// `NotFound`, not permitted, ...
#[track_caller]
pub fn set_permissions(
    path: impl AsRef<Path>,
    perm: Permissions,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::set_permissions", move || {
        std::fs::set_permissions(path, perm)
    })
}

/// Creates a symbolic link `link` pointing at `original`
/// ([`std::os::unix::fs::symlink`]).
///
/// # Errors
///
/// `AlreadyExists`, a missing parent of `link`, ...
#[cfg(unix)]
#[track_caller]
pub fn symlink(
    original: impl AsRef<Path>,
    link: impl AsRef<Path>,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let original = original.as_ref().to_owned();
    let link = link.as_ref().to_owned();
    asyncify("fs::symlink", move || {
        std::os::unix::fs::symlink(original, link)
    })
}
