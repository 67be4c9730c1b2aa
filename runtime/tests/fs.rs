//! `hookrt::fs`: tokio's file-system API on the blocking pool, each operation a
//! `Blocking` resource triggered by the task that awaits it.

mod support;

use hookrt::context::LocalStorage;
use hookrt::fs::{self, File, OpenOptions};
use hookrt::hooks::{execution_async_id, AsyncId, Hook, Resource, ResourceKind};
use hookrt::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::{check, Ev, Recorder};

/// A fresh path under the temp directory (pid + counter), removed (file or tree) on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(tag: &str) -> TempPath {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("hookrt-fs-test-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }
}

impl AsRef<Path> for TempPath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for TempPath {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.0.is_dir() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// Deterministic pseudo-random bytes.
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// `Blocking` inits with their trigger and name, in order.
fn blocking_inits(rec: &Recorder) -> Vec<(AsyncId, AsyncId, String)> {
    rec.events()
        .into_iter()
        .filter_map(|e| match e {
            Ev::Init {
                id,
                trigger,
                kind: ResourceKind::Blocking,
                name,
            } => Some((id, trigger, name.unwrap_or_default())),
            _ => None,
        })
        .collect()
}

const TEN_MIB: usize = 10 * 1024 * 1024;

#[test]
fn ten_mib_round_trip_through_file_and_whole_file_functions() {
    let data = Arc::new(pattern(TEN_MIB));
    check(|rt, _| {
        let data = data.clone();
        let path = TempPath::new("big");
        let other = TempPath::new("big2");
        rt.block_on(async {
            let p = path.to_owned();
            let o = other.to_owned();
            // Spawned so that the multi-thread flavours run it on a worker.
            hookrt::spawn(async move {
                let mut file = File::create(&p).await.unwrap();
                // Uneven chunks, some larger than the 2 MiB background buffer.
                let sizes = [1, 4095, 64 * 1024, 3 * 1024 * 1024 + 7, 100_000];
                let mut written = 0;
                let mut i = 0;
                while written < data.len() {
                    let n = sizes[i % sizes.len()].min(data.len() - written);
                    file.write_all(&data[written..written + n]).await.unwrap();
                    written += n;
                    i += 1;
                }
                file.flush().await.unwrap();
                drop(file);
                assert_eq!(std::fs::metadata(&p).unwrap().len(), TEN_MIB as u64);

                let mut back = Vec::new();
                let mut file = File::open(&p).await.unwrap();
                let n = file.read_to_end(&mut back).await.unwrap();
                assert_eq!(n, TEN_MIB);
                assert!(back == *data, "the bytes read back differ");

                fs::write(&o, &data[..]).await.unwrap();
                let back = fs::read(&o).await.unwrap();
                assert!(back == *data, "fs::read differs from fs::write");
            })
            .await
            .unwrap();
        });
    });
}

#[test]
fn read_to_string_and_utf8_errors() {
    check(|rt, _| {
        let path = TempPath::new("text");
        rt.block_on(async {
            fs::write(&path, "héllo\nworld").await.unwrap();
            assert_eq!(fs::read_to_string(&path).await.unwrap(), "héllo\nworld");
            let mut s = String::new();
            File::open(&path)
                .await
                .unwrap()
                .read_to_string(&mut s)
                .await
                .unwrap();
            assert_eq!(s, "héllo\nworld");
            fs::write(&path, [0xff, 0xfe]).await.unwrap();
            let err = fs::read_to_string(&path).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidData);
        });
    });
}

#[test]
fn seek_and_read() {
    check(|rt, _| {
        let path = TempPath::new("seek");
        rt.block_on(async {
            fs::write(&path, b"0123456789").await.unwrap();
            let mut file = File::open(&path).await.unwrap();
            assert_eq!(file.seek(SeekFrom::Start(3)).await.unwrap(), 3);
            let mut four = [0; 4];
            file.read_exact(&mut four).await.unwrap();
            assert_eq!(&four, b"3456");
            assert_eq!(file.stream_position().await.unwrap(), 7);
            assert_eq!(file.seek(SeekFrom::Current(-5)).await.unwrap(), 2);
            let mut two = [0; 2];
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"23");
            assert_eq!(file.seek(SeekFrom::End(-1)).await.unwrap(), 9);
            let mut rest = Vec::new();
            file.read_to_end(&mut rest).await.unwrap();
            assert_eq!(rest, b"9");
            // At the end, a read returns 0.
            assert_eq!(file.read(&mut two).await.unwrap(), 0);
        });
    });
}

#[test]
fn seek_waits_for_a_pending_write() {
    check(|rt, _| {
        let path = TempPath::new("write-seek");
        rt.block_on(async {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .await
                .unwrap();
            file.write_all(b"hello world").await.unwrap();
            // No flush: the seek waits for the background write.
            file.seek(SeekFrom::Start(6)).await.unwrap();
            let mut s = String::new();
            file.read_to_string(&mut s).await.unwrap();
            assert_eq!(s, "world");
            // Overwrite in the middle, after a read.
            file.seek(SeekFrom::Start(0)).await.unwrap();
            file.write_all(b"J").await.unwrap();
            file.flush().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"Jello world");
        });
    });
}

#[test]
fn set_len_truncates_and_extends() {
    check(|rt, _| {
        let path = TempPath::new("set-len");
        rt.block_on(async {
            let mut file = File::create(&path).await.unwrap();
            file.write_all(&[7; 100]).await.unwrap();
            // set_len waits for the write.
            file.set_len(10).await.unwrap();
            assert_eq!(file.metadata().await.unwrap().len(), 10);
            file.set_len(20).await.unwrap();
            drop(file);
            let mut expected = vec![7; 10];
            expected.extend([0; 10]);
            assert_eq!(fs::read(&path).await.unwrap(), expected);
        });
    });
}

#[test]
fn append_mode_writes_at_the_end() {
    check(|rt, _| {
        let path = TempPath::new("append");
        rt.block_on(async {
            fs::write(&path, b"first\n").await.unwrap();
            let mut file = OpenOptions::new().append(true).open(&path).await.unwrap();
            file.write_all(b"second\n").await.unwrap();
            file.write_all(b"third\n").await.unwrap();
            file.flush().await.unwrap();
            drop(file);
            let mut file = OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .await
                .unwrap();
            file.write_all(b"fourth\n").await.unwrap();
            file.shutdown().await.unwrap();
            assert_eq!(
                fs::read_to_string(&path).await.unwrap(),
                "first\nsecond\nthird\nfourth\n"
            );
        });
    });
}

#[test]
fn create_new_open_missing_and_write_errors() {
    check(|rt, _| {
        let path = TempPath::new("exists");
        let missing = TempPath::new("missing");
        rt.block_on(async {
            let mut file = File::create_new(&path).await.unwrap();
            file.write_all(b"x").await.unwrap();
            file.flush().await.unwrap();
            let err = File::create_new(&path).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AlreadyExists);
            let err = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AlreadyExists);

            for err in [
                File::open(&missing).await.unwrap_err(),
                fs::read(&missing).await.unwrap_err(),
                fs::metadata(&missing).await.unwrap_err(),
                fs::remove_file(&missing).await.unwrap_err(),
                fs::read_dir(&missing).await.unwrap_err(),
            ] {
                assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
            }

            // A write to a read-only file is accepted (buffered) and fails on flush, as
            // in tokio.
            let mut ro = File::open(&path).await.unwrap();
            assert_eq!(ro.write(b"nope").await.unwrap(), 4);
            assert!(ro.flush().await.is_err());
            assert_eq!(fs::read(&path).await.unwrap(), b"x");
        });
    });
}

#[test]
fn directories() {
    check(|rt, _| {
        let root = TempPath::new("dir");
        rt.block_on(async {
            let deep = root.join("a/b/c");
            fs::create_dir_all(&deep).await.unwrap();
            fs::create_dir_all(&deep).await.unwrap(); // already there: fine
            let err = fs::create_dir(&deep).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AlreadyExists);
            fs::create_dir(root.join("a/b/d")).await.unwrap();
            // More entries than one read-ahead chunk (32).
            for i in 0..70 {
                fs::write(root.join(format!("a/b/f{i:02}")), [i as u8])
                    .await
                    .unwrap();
            }
            let mut entries = fs::read_dir(root.join("a/b")).await.unwrap();
            let mut names = Vec::new();
            let mut dirs = Vec::new();
            while let Some(entry) = entries.next_entry().await.unwrap() {
                let name = entry.file_name().into_string().unwrap();
                assert_eq!(entry.path(), root.join("a/b").join(&name));
                let ty = entry.file_type().await.unwrap();
                assert_eq!(ty.is_dir(), entry.metadata().await.unwrap().is_dir());
                if ty.is_dir() {
                    dirs.push(name.clone());
                }
                names.push(name);
            }
            assert!(entries.next_entry().await.unwrap().is_none());
            names.sort();
            dirs.sort();
            let mut expected: Vec<_> = (0..70).map(|i| format!("f{i:02}")).collect();
            expected.extend(["c".to_owned(), "d".to_owned()]);
            expected.sort();
            assert_eq!(names, expected);
            assert_eq!(dirs, ["c", "d"]);

            assert!(fs::remove_dir(root.join("a/b")).await.is_err(), "not empty");
            fs::remove_dir(root.join("a/b/d")).await.unwrap();
            assert!(!fs::try_exists(root.join("a/b/d")).await.unwrap());
            fs::remove_dir_all(root.join("a")).await.unwrap();
            assert!(!fs::try_exists(root.join("a")).await.unwrap());
            assert!(fs::try_exists(&root).await.unwrap());
        });
    });
}

#[test]
fn rename_copy_remove_and_friends() {
    check(|rt, _| {
        let root = TempPath::new("ops");
        rt.block_on(async {
            fs::create_dir(&root).await.unwrap();
            let a = root.join("a");
            let b = root.join("b");
            let c = root.join("c");
            fs::write(&a, b"payload").await.unwrap();
            assert!(fs::try_exists(&a).await.unwrap());
            fs::rename(&a, &b).await.unwrap();
            assert!(!fs::try_exists(&a).await.unwrap());
            assert_eq!(fs::copy(&b, &c).await.unwrap(), 7);
            assert_eq!(fs::read(&c).await.unwrap(), b"payload");
            assert_eq!(fs::metadata(&c).await.unwrap().len(), 7);
            assert_eq!(
                fs::canonicalize(&c).await.unwrap(),
                std::fs::canonicalize(&c).unwrap()
            );
            fs::hard_link(&c, root.join("d")).await.unwrap();
            assert_eq!(fs::read(root.join("d")).await.unwrap(), b"payload");
            #[cfg(unix)]
            {
                fs::symlink(&c, root.join("e")).await.unwrap();
                assert_eq!(fs::read_link(root.join("e")).await.unwrap(), c);
                let meta = fs::symlink_metadata(root.join("e")).await.unwrap();
                assert!(meta.file_type().is_symlink());
            }
            let original = fs::metadata(&c).await.unwrap().permissions();
            let mut perm = original.clone();
            perm.set_readonly(true);
            fs::set_permissions(&c, perm).await.unwrap();
            assert!(fs::metadata(&c).await.unwrap().permissions().readonly());
            let file = File::open(&c).await.unwrap();
            file.set_permissions(original).await.unwrap();
            assert!(!file.metadata().await.unwrap().permissions().readonly());
            drop(file);
            fs::remove_file(&b).await.unwrap();
            fs::remove_file(&c).await.unwrap();
            assert!(!fs::try_exists(&b).await.unwrap());
            assert!(!fs::try_exists(&c).await.unwrap());
        });
    });
}

#[test]
fn sync_all_sync_data_std_conversions() {
    check(|rt, _| {
        let path = TempPath::new("sync");
        rt.block_on(async {
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"durable").await.unwrap();
            // sync_all waits for the pending write first.
            file.sync_all().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"durable");
            file.write_all(b"!").await.unwrap();
            file.sync_data().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"durable!");

            let clone = file.try_clone().await.unwrap();
            assert_eq!(clone.metadata().await.unwrap().len(), 8);
            let std_file = file.into_std().await;
            let mut file = File::from_std(std_file);
            file.write_all(b"?").await.unwrap();
            file.flush().await.unwrap();
            let std_file = file.try_into_std().unwrap();
            drop(std_file);
            assert_eq!(std::fs::read(&path).unwrap(), b"durable!?");
        });
    });
}

#[test]
fn every_operation_is_a_blocking_resource_of_the_calling_task() {
    check(|rt, rec| {
        let root = TempPath::new("hooks");
        let root_path = root.to_path_buf();
        let caller = rt.block_on(async move {
            hookrt::spawn(async move {
                let me = execution_async_id();
                let f = root_path.join("f");
                fs::create_dir(&root_path).await.unwrap();
                fs::write(&f, b"abc").await.unwrap();
                fs::read(&f).await.unwrap();
                fs::metadata(&f).await.unwrap();
                let mut file = File::open(&f).await.unwrap();
                let mut s = String::new();
                file.read_to_string(&mut s).await.unwrap();
                let mut dir = fs::read_dir(&root_path).await.unwrap();
                while dir.next_entry().await.unwrap().is_some() {}
                fs::remove_dir_all(&root_path).await.unwrap();
                me
            })
            .await
            .unwrap()
        });
        let inits = blocking_inits(rec);
        let names: Vec<&str> = inits.iter().map(|(_, _, n)| n.as_str()).collect();
        for expected in [
            "fs::create_dir",
            "fs::write",
            "fs::read",
            "fs::metadata",
            "fs::open",
            "fs::File::read",
            "fs::read_dir",
            "fs::remove_dir_all",
        ] {
            assert!(names.contains(&expected), "{expected} missing in {names:?}");
        }
        // One job per free function call.
        assert_eq!(names.iter().filter(|n| **n == "fs::read").count(), 1);
        for (id, trigger, name) in &inits {
            assert_eq!(*trigger, caller, "{name}'s trigger is the calling task");
            assert_eq!(rec.trigger_of(*id), Some(caller));
            assert_eq!(
                rec.names_for(*id),
                ["init", "before", "after", "destroy"],
                "{name}"
            );
        }
    });
}

#[test]
fn background_writes_are_triggered_by_the_writing_task() {
    check(|rt, rec| {
        let path = TempPath::new("bg-writes");
        let p = path.to_path_buf();
        let (opener, writer) = rt.block_on(async move {
            let file = File::create(&p).await.unwrap();
            let opener = execution_async_id();
            // The file moves to another task, which writes it.
            hookrt::spawn(async move {
                let mut file = file;
                file.write_all(b"from another task").await.unwrap();
                file.flush().await.unwrap();
                (opener, execution_async_id())
            })
            .await
            .unwrap()
        });
        assert_ne!(opener, writer);
        let inits = blocking_inits(rec);
        let open = inits.iter().find(|(_, _, n)| n == "fs::open").unwrap();
        assert_eq!(open.1, opener);
        let writes: Vec<_> = inits
            .iter()
            .filter(|(_, _, n)| n == "fs::File::write")
            .collect();
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].1, writer);
        assert_eq!(std::fs::read(&path).unwrap(), b"from another task");
    });
}

/// Records the source file of every `Blocking` init, and the context value it saw.
#[derive(Default)]
struct Locations(Mutex<Vec<(String, Option<u32>)>>);

static REQUEST: LocalStorage<u32> = LocalStorage::new();

impl Hook for Locations {
    fn init(&self, r: &Resource<'_>) {
        if r.kind() == ResourceKind::Blocking {
            let file = r
                .location()
                .map(|l| l.file().to_owned())
                .unwrap_or_default();
            let value = r.context().get(&REQUEST).map(|v| *v);
            self.0.lock().unwrap().push((file, value));
        }
    }
}

#[test]
fn jobs_carry_the_callers_location_and_context() {
    let locations = Arc::new(Locations::default());
    let rt = hookrt::runtime::Builder::new_current_thread()
        .hook(locations.clone())
        .build()
        .unwrap();
    let path = TempPath::new("location");
    rt.block_on(REQUEST.run(7, async {
        fs::write(&path, b"x").await.unwrap();
        let mut file = File::open(&path).await.unwrap();
        let mut buf = Vec::new();
        file.read_to_end(&mut buf).await.unwrap();
    }));
    drop(rt);
    let seen = locations.0.lock().unwrap();
    assert!(seen.len() >= 3, "{seen:?}");
    for (file, value) in seen.iter() {
        assert!(
            file.ends_with("fs.rs"),
            "located in the test, not in hookrt: {file}"
        );
        assert_eq!(*value, Some(7), "the job runs in the caller's context");
    }
}

#[test]
fn nothing_happens_until_polled() {
    check(|rt, rec| {
        let path = TempPath::new("lazy");
        // Creating the future needs no runtime and does nothing.
        let write = fs::write(&path, b"late");
        drop(write);
        rt.block_on(async {
            let write = fs::write(&path, b"late");
            assert!(!path.exists());
            drop(write);
            assert!(!path.exists());
        });
        assert!(blocking_inits(rec).is_empty());
        // The futures are 'static: they can be spawned even when the path is borrowed.
        let borrowed: &Path = &path;
        let write = fs::write(borrowed, b"now");
        rt.block_on(async { hookrt::spawn(write).await.unwrap().unwrap() });
        assert_eq!(std::fs::read(&path).unwrap(), b"now");
    });
}

/// Polls one read of `n` bytes once and abandons it (as a timeout would): when the poll
/// is pending, the background read's bytes stay buffered in the file. Returns how many
/// bytes the poll consumed (0 unless it completed at once).
async fn abandon_read(file: &mut File, n: usize) -> usize {
    use hookrt::io::{AsyncRead, ReadBuf};
    use std::pin::Pin;
    use std::task::Poll;

    let mut space = vec![0u8; n];
    std::future::poll_fn(|cx| {
        let mut rb = ReadBuf::new(&mut space);
        Poll::Ready(match Pin::new(&mut *file).poll_read(cx, &mut rb) {
            Poll::Ready(res) => {
                res.unwrap();
                rb.filled().len()
            }
            Poll::Pending => 0,
        })
    })
    .await
}

#[test]
fn read_ahead_left_by_a_cancelled_read_is_accounted_for() {
    check(|rt, _| {
        let path = TempPath::new("read-ahead");
        let data = pattern(1000);
        rt.block_on(async {
            fs::write(&path, &data).await.unwrap();
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            let mut pos = abandon_read(&mut file, 100).await;
            // A smaller read takes 10 of the buffered bytes.
            let mut ten = [0u8; 10];
            file.read_exact(&mut ten).await.unwrap();
            assert_eq!(ten, data[pos..pos + 10]);
            pos += 10;
            // The cursor is where the task stands, not where the OS read up to.
            assert_eq!(file.stream_position().await.unwrap(), pos as u64);
            file.read_exact(&mut ten).await.unwrap();
            assert_eq!(ten, data[pos..pos + 10]);
            assert_eq!(file.seek(SeekFrom::Current(-10)).await.unwrap(), pos as u64);
            // A write lands at the task's position too (the read-ahead is dropped).
            pos += abandon_read(&mut file, 100).await;
            let mut three = [0u8; 3];
            file.read_exact(&mut three).await.unwrap();
            assert_eq!(three, data[pos..pos + 3]);
            pos += 3;
            file.write_all(b"XY").await.unwrap();
            file.flush().await.unwrap();
            let mut expected = data.clone();
            expected[pos..pos + 2].copy_from_slice(b"XY");
            assert_eq!(std::fs::read(&path).unwrap(), expected);
            // And set_len does not move the cursor.
            pos += 2;
            pos += abandon_read(&mut file, 100).await;
            file.read_exact(&mut three).await.unwrap();
            pos += 3;
            file.set_len(900).await.unwrap();
            assert_eq!(file.stream_position().await.unwrap(), pos as u64);
        });
    });
}

#[test]
fn a_buffered_write_survives_runtime_shutdown() {
    use hookrt::io::AsyncWriteExt;
    let path = std::env::temp_dir().join(format!("hookrt-fs-shutdown-{}", std::process::id()));
    let rt = hookrt::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut file = hookrt::fs::File::create(&path).await.unwrap();
        // The write returns at once; the system call is a queued blocking job.
        file.write_all(b"must not be lost").await.unwrap();
        std::mem::forget(file);
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    assert_eq!(std::fs::read(&path).unwrap(), b"must not be lost");
    std::fs::remove_file(&path).unwrap();
}
