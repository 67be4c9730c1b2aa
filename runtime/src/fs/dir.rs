//! Directories: creating, removing, listing (`ReadDir`, `DirEntry`).

use super::asyncify::{asyncify, poll_op, spawn_op};
use crate::task::JoinHandle;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{FileType, Metadata};
use std::future::{poll_fn, Future};
use std::io;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Entries one background job reads ahead.
const CHUNK_SIZE: usize = 32;

/// Creates a directory ([`std::fs::create_dir`]). A `Blocking` resource named
/// `"fs::create_dir"`.
///
/// # Errors
///
/// `AlreadyExists` if the path exists, `NotFound` if a parent is missing, ...
#[track_caller]
pub fn create_dir(path: impl AsRef<Path>) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::create_dir", move || std::fs::create_dir(path))
}

/// Creates a directory and every missing parent ([`std::fs::create_dir_all`]). A
/// `Blocking` resource named `"fs::create_dir_all"`.
///
/// # Errors
///
/// If a component exists and is not a directory, permissions, ...
#[track_caller]
pub fn create_dir_all(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::create_dir_all", move || std::fs::create_dir_all(path))
}

/// Removes an empty directory ([`std::fs::remove_dir`]). A `Blocking` resource named
/// `"fs::remove_dir"`.
///
/// # Errors
///
/// `NotFound`, a directory that is not empty, ...
#[track_caller]
pub fn remove_dir(path: impl AsRef<Path>) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::remove_dir", move || std::fs::remove_dir(path))
}

/// Removes a directory and everything in it ([`std::fs::remove_dir_all`]), in one
/// blocking job: a `Blocking` resource named `"fs::remove_dir_all"`.
///
/// # Errors
///
/// `NotFound`, permissions, ...
#[track_caller]
pub fn remove_dir_all(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let path = path.as_ref().to_owned();
    asyncify("fs::remove_dir_all", move || std::fs::remove_dir_all(path))
}

/// Opens a directory for listing ([`std::fs::read_dir`]) and reads its first entries
/// ahead: a `Blocking` resource named `"fs::read_dir"`. Later entries are read 32 at a
/// time by `"fs::ReadDir::next_entry"` jobs, located at this call.
///
/// The order of the entries is the system's; `.` and `..` are skipped.
///
/// # Errors
///
/// `NotFound`, not a directory, permissions, ...
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut entries = hookrt::fs::read_dir(std::env::temp_dir()).await?;
/// while let Some(entry) = entries.next_entry().await? {
///     let _ = (entry.file_name(), entry.file_type().await?);
/// }
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[track_caller]
pub fn read_dir(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<ReadDir>> + Send + 'static {
    let location = Location::caller();
    let path = path.as_ref().to_owned();
    let open = asyncify("fs::read_dir", move || {
        let mut std = std::fs::read_dir(path)?;
        let mut buf = VecDeque::with_capacity(CHUNK_SIZE);
        let more = next_chunk(&mut buf, &mut std);
        Ok(Chunk { buf, std, more })
    });
    async move {
        let chunk = open.await?;
        Ok(ReadDir {
            state: State::Idle(Some(chunk)),
            location,
        })
    }
}

/// The entries of a directory, read ahead in chunks on the blocking pool (tokio's
/// `ReadDir`). Made by [`read_dir`].
#[must_use = "a ReadDir does nothing unless its entries are read"]
pub struct ReadDir {
    state: State,
    location: &'static Location<'static>,
}

/// Entries read ahead, the directory handle, and whether it may have more.
struct Chunk {
    buf: VecDeque<io::Result<DirEntry>>,
    std: std::fs::ReadDir,
    more: bool,
}

enum State {
    /// `None` only while a job is being started.
    Idle(Option<Chunk>),
    Pending(JoinHandle<Chunk>),
    /// A read-ahead job failed (panicked, or was cancelled at shutdown): its error was
    /// reported; the listing is over.
    Done,
}

impl ReadDir {
    /// The next entry, or `None` at the end.
    ///
    /// Cancel safe: dropping the future loses no entry.
    ///
    /// # Errors
    ///
    /// An error reading the directory (the listing may go on after it).
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry: `Ready(Ok(None))` at the end. Starts a background
    /// read when the read-ahead is used up.
    ///
    /// # Errors
    ///
    /// As [`next_entry`](ReadDir::next_entry).
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match self.state {
                State::Idle(ref mut cell) => {
                    let chunk = cell.as_mut().expect("an idle ReadDir holds its chunk");
                    if let Some(entry) = chunk.buf.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    if !chunk.more {
                        return Poll::Ready(Ok(None));
                    }
                    let mut chunk = cell.take().expect("an idle ReadDir holds its chunk");
                    self.state = State::Pending(spawn_op(
                        "fs::ReadDir::next_entry",
                        self.location,
                        move || {
                            chunk.more = next_chunk(&mut chunk.buf, &mut chunk.std);
                            chunk
                        },
                    ));
                }
                State::Pending(ref mut handle) => match ready!(poll_op(handle, cx)) {
                    Ok(chunk) => self.state = State::Idle(Some(chunk)),
                    Err(e) => {
                        self.state = State::Done;
                        return Poll::Ready(Err(e));
                    }
                },
                State::Done => return Poll::Ready(Ok(None)),
            }
        }
    }
}

/// Reads up to [`CHUNK_SIZE`] entries (stopping after an error); returns whether the
/// directory may have more.
fn next_chunk(buf: &mut VecDeque<io::Result<DirEntry>>, std: &mut std::fs::ReadDir) -> bool {
    for _ in 0..CHUNK_SIZE {
        let Some(entry) = std.next() else {
            return false;
        };
        let failed = entry.is_err();
        buf.push_back(entry.map(|std| DirEntry {
            // Usually free (from the directory listing itself); when not, it is one
            // more system call here rather than a job later.
            file_type: std.file_type().ok(),
            std: Arc::new(std),
        }));
        if failed {
            break;
        }
    }
    true
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle(Some(chunk)) => format!("idle, {} read ahead", chunk.buf.len()),
            State::Idle(None) => "starting".to_owned(),
            State::Pending(_) => "reading".to_owned(),
            State::Done => "failed".to_owned(),
        };
        f.debug_struct("ReadDir")
            .field("state", &state)
            .field("location", &format_args!("{}", self.location))
            .finish()
    }
}

/// An entry of a directory listing (tokio's `DirEntry`).
#[derive(Debug)]
pub struct DirEntry {
    /// The type, when the listing gave it.
    file_type: Option<FileType>,
    std: Arc<std::fs::DirEntry>,
}

impl DirEntry {
    /// The full path: the listed directory's path joined with the file name.
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The bare file name.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's metadata, not following a symlink ([`std::fs::DirEntry::metadata`]):
    /// a `Blocking` resource named `"fs::DirEntry::metadata"`.
    ///
    /// # Errors
    ///
    /// The system call's error (the entry may be gone).
    #[track_caller]
    pub fn metadata(&self) -> impl Future<Output = io::Result<Metadata>> + Send + 'static {
        let std = self.std.clone();
        asyncify("fs::DirEntry::metadata", move || std.metadata())
    }

    /// The entry's type, not following a symlink. Usually known from the listing (then
    /// no job runs); otherwise a `Blocking` resource named `"fs::DirEntry::file_type"`.
    ///
    /// # Errors
    ///
    /// The system call's error.
    #[track_caller]
    pub fn file_type(&self) -> impl Future<Output = io::Result<FileType>> + Send + 'static {
        let known = self.file_type;
        let std = self.std.clone();
        let lookup = asyncify("fs::DirEntry::file_type", move || std.file_type());
        async move {
            match known {
                Some(file_type) => Ok(file_type),
                None => lookup.await,
            }
        }
    }
}

#[cfg(unix)]
impl DirEntry {
    /// The entry's inode number ([`std::os::unix::fs::DirEntryExt::ino`]).
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }
}
