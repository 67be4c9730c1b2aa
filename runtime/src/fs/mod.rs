//! Asynchronous file-system access: tokio's `fs` API, run on the blocking pool.
//!
//! Operating systems offer no portable non-blocking file I/O, so (as in tokio) every
//! operation here is a blocking call made on the runtime's blocking pool while the task
//! awaits it. The names, signatures and semantics follow `tokio::fs`: free functions
//! ([`read`], [`write`](write()), [`read_dir`], [`metadata`], ...), [`File`] (with tokio's
//! [`AsyncRead`](crate::io::AsyncRead) / [`AsyncWrite`](crate::io::AsyncWrite) /
//! [`AsyncSeek`](crate::io::AsyncSeek) behaviour) and [`OpenOptions`].
//!
//! # Hooks: file I/O in the async tree
//!
//! Each blocking call is a resource of kind `Blocking`, so a request's file I/O shows up
//! in its async tree:
//!
//! - `init` fires when the call is handed to the pool, with the execution that polls the
//!   operation as trigger, that execution's async context, the source location of the
//!   call that created the operation (every public function is `#[track_caller]`; for
//!   `File`'s reads, writes and seeks it is where the file was opened or wrapped), and a
//!   name saying what it is: `"fs::read"`, `"fs::open"`, `"fs::File::write"`,
//!   `"fs::ReadDir::next_entry"`, ...;
//! - `before`/`after` surround the system call on a pool thread, which runs in the
//!   trigger's async context;
//! - `destroy` follows.
//!
//! # Nothing happens until polled
//!
//! As in tokio, the futures these functions return do nothing until they are polled:
//! the job is spawned (and its `init` fires) on the first poll, so `drop(fs::remove_file(p))`
//! removes nothing. The caller's location is captured at the call, which is why the
//! functions are plain `#[track_caller]` functions returning `impl Future` rather than
//! `async fn`s. The returned futures own their arguments (paths are copied at the call),
//! so they are `Send + 'static` whatever the argument types.
//!
//! Polling one outside a hookrt runtime panics, as spawning does.
//!
//! # Errors
//!
//! System errors come back unchanged (`NotFound`, `AlreadyExists`, ...). If a job
//! panics or is cancelled because the runtime shuts down, its [`JoinError`] becomes an
//! [`io::Error`](std::io::Error) of kind `Other`.
//!
//! # `File` writes
//!
//! As in tokio, a write copies the data into the file's buffer and returns at once; the
//! system call runs in the background. Call [`flush`](crate::io::AsyncWriteExt::flush)
//! to wait for it (and get its error, if any); seeks, reads, `sync_all`, `set_len` and
//! friends wait for a pending write first. As in tokio, file writes are *mandatory*
//! blocking jobs: one still queued when the runtime shuts down runs anyway, so written
//! data is not lost.
//!
//! ```
//! use hookrt::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let path = std::env::temp_dir().join(format!("hookrt-fs-doc-{}", std::process::id()));
//! let mut file = hookrt::fs::File::create(&path).await?;
//! file.write_all(b"hello").await?;
//! file.flush().await?;
//!
//! let mut text = String::new();
//! hookrt::fs::File::open(&path).await?.read_to_string(&mut text).await?;
//! assert_eq!(text, "hello");
//! assert_eq!(hookrt::fs::read(&path).await?, b"hello");
//! hookrt::fs::remove_file(&path).await?;
//! # std::io::Result::Ok(())
//! # }).unwrap();
//! ```
//!
//! [`JoinError`]: crate::task::JoinError

mod asyncify;
mod buf;
mod dir;
mod file;
mod open_options;
mod ops;

pub use dir::{
    create_dir, create_dir_all, read_dir, remove_dir, remove_dir_all, DirEntry, ReadDir,
};
pub use file::File;
pub use open_options::OpenOptions;
#[cfg(unix)]
pub use ops::symlink;
pub use ops::{
    canonicalize, copy, hard_link, metadata, read, read_link, read_to_string, remove_file, rename,
    set_permissions, symlink_metadata, try_exists, write,
};
