//! `OpenOptions`: how to open a file.

use super::asyncify::Asyncify;
use super::File;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::path::Path;

/// Options and flags to open a file with: tokio's `OpenOptions`, a wrapper around
/// [`std::fs::OpenOptions`] whose [`open`](OpenOptions::open) runs on the blocking pool
/// (a `Blocking` resource named `"fs::open"`).
///
/// ```
/// use hookrt::fs::OpenOptions;
/// use hookrt::io::AsyncWriteExt;
///
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let path = std::env::temp_dir().join(format!("hookrt-options-doc-{}", std::process::id()));
/// let mut log = OpenOptions::new().append(true).create(true).open(&path).await?;
/// log.write_all(b"one line\n").await?;
/// log.flush().await?;
/// # drop(log);
/// # hookrt::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// Options with every flag off (as [`std::fs::OpenOptions::new`]).
    #[must_use]
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Open for appending: every write goes to the end of the file (implies write
    /// access).
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate an existing file to length 0 (needs write access).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (needs write or append access).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create a new file, failing with `AlreadyExists` if the path exists (atomically;
    /// `create` and `truncate` are then ignored).
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// Opens `path` with these options. The path is copied now; the file is opened on
    /// the blocking pool when the future is first polled. Background operations of the
    /// returned [`File`] are located at this call.
    ///
    /// # Errors
    ///
    /// As [`std::fs::OpenOptions::open`]: `NotFound`, `AlreadyExists` (with
    /// `create_new`), `PermissionDenied`, `InvalidInput` for invalid combinations, ...
    #[track_caller]
    pub fn open(
        &self,
        path: impl AsRef<Path>,
    ) -> impl Future<Output = io::Result<File>> + Send + 'static {
        let location = Location::caller();
        let path = path.as_ref().to_owned();
        let options = self.0.clone();
        let open = Asyncify::new("fs::open", location, move || options.open(path));
        async move { open.await.map(|std| File::opened_at(std, location)) }
    }
}

#[cfg(unix)]
impl OpenOptions {
    /// The permission bits a newly created file gets (before the umask); default
    /// `0o666`. ([`std::os::unix::fs::OpenOptionsExt::mode`].)
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Extra `open(2)` flags ([`std::os::unix::fs::OpenOptionsExt::custom_flags`]).
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.0, flags);
        self
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}
