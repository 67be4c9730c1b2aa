//! `ToSocketAddrs` and `lookup_host`: turning what a user writes (`"localhost:8080"`, a
//! `SocketAddr`, `(ip, port)`) into socket addresses, with name resolution on the
//! blocking pool.

use crate::task::{JoinHandle, TaskMeta};
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::{option, vec};

/// Types that `bind`, `connect` and [`lookup_host`] accept as addresses: tokio's
/// `ToSocketAddrs`.
///
/// Implemented for [`SocketAddr`], [`SocketAddrV4`], [`SocketAddrV6`], `(IpAddr, u16)`,
/// `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)`, `&[SocketAddr]`, and for `str`, `String`,
/// `(&str, u16)` and `(String, u16)`, which are parsed as a numeric address if they are
/// one and otherwise resolved with the system resolver on the runtime's blocking pool
/// (a `Blocking` resource named `"lookup_host"`, created at the user's call). Also for
/// `&T` of any of these.
///
/// The trait is sealed: its method is internal, so it can only be used as a bound.
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

/// Resolves `host` (`"example.com:80"`, `("localhost", 8080)`, a `SocketAddr`, ...) to
/// its socket addresses. A host name is resolved on the blocking pool; a numeric address
/// at once.
///
/// # Errors
///
/// What the system resolver reports (an unknown host, a string without a port, ...).
///
/// # Panics
///
/// When the future is polled outside a runtime and `host` needs resolving.
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let addrs: Vec<_> = hookrt::net::lookup_host("127.0.0.1:80").await?.collect();
/// assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
/// let local: Vec<_> = hookrt::net::lookup_host(("localhost", 8080)).await?.collect();
/// assert!(local.iter().all(|a| a.port() == 8080 && a.ip().is_loopback()));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn lookup_host<T>(host: T) -> impl Future<Output = io::Result<impl Iterator<Item = SocketAddr>>>
where
    T: ToSocketAddrs,
{
    let internal = sealed::Internal::here();
    async move { host.to_socket_addrs(internal).await }
}

/// Resolves `addr` with the blocking job (if one is needed) attributed to `location`.
pub(crate) fn to_socket_addrs<T: ToSocketAddrs>(
    addr: &T,
    location: &'static Location<'static>,
) -> <T as sealed::ToSocketAddrsPriv>::Future {
    addr.to_socket_addrs(sealed::Internal { location })
}

/// Runs `f` once per address of `addrs` until one succeeds; the last error otherwise
/// (`InvalidInput` if there was no address at all).
pub(crate) async fn try_each<T, F, Fut>(
    addrs: impl Iterator<Item = SocketAddr>,
    mut f: F,
) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last_err = None;
    for addr in addrs {
        match f(addr).await {
            Ok(value) => return Ok(value),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

/// The iterator of addresses [`lookup_host`] returns (and `ToSocketAddrs` yields).
#[derive(Debug)]
#[allow(unreachable_pub)] // named only by the sealed trait
pub enum OneOrMore {
    One(option::IntoIter<SocketAddr>),
    More(vec::IntoIter<SocketAddr>),
}

impl Iterator for OneOrMore {
    type Item = SocketAddr;

    fn next(&mut self) -> Option<SocketAddr> {
        match self {
            OneOrMore::One(it) => it.next(),
            OneOrMore::More(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            OneOrMore::One(it) => it.size_hint(),
            OneOrMore::More(it) => it.size_hint(),
        }
    }
}

/// The future of `ToSocketAddrs`: ready at once for numeric addresses, otherwise the
/// blocking resolver job.
#[allow(unreachable_pub)] // named only by the sealed trait
pub struct MaybeReady(State);

enum State {
    Ready(Option<OneOrMore>),
    Blocking(JoinHandle<io::Result<vec::IntoIter<SocketAddr>>>),
}

impl MaybeReady {
    fn one(addr: SocketAddr) -> MaybeReady {
        MaybeReady(State::Ready(Some(OneOrMore::One(Some(addr).into_iter()))))
    }

    /// Resolves `host` with the system resolver on the blocking pool.
    fn blocking<H>(host: H, location: &'static Location<'static>) -> MaybeReady
    where
        H: std::net::ToSocketAddrs + Send + 'static,
    {
        let meta = TaskMeta::here(Some("lookup_host".into()), location);
        let job = move || {
            std::net::ToSocketAddrs::to_socket_addrs(&host)
                .map(|addrs| addrs.collect::<Vec<_>>().into_iter())
        };
        let handle =
            crate::runtime::context::with_current_handle(|h| h.blocking_pool().spawn(job, meta))
                .unwrap_or_else(|| crate::task::spawn::panic_outside_runtime("net::lookup_host"));
        MaybeReady(State::Blocking(handle))
    }
}

impl Future for MaybeReady {
    type Output = io::Result<OneOrMore>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            State::Ready(addrs) => Poll::Ready(Ok(addrs
                .take()
                .expect("hookrt: an address future polled after it completed"))),
            State::Blocking(handle) => match Pin::new(handle).poll(cx) {
                Poll::Ready(Ok(result)) => Poll::Ready(result.map(OneOrMore::More)),
                Poll::Ready(Err(join_error)) => Poll::Ready(Err(join_error.into())),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl fmt::Debug for MaybeReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            State::Ready(addrs) => f.debug_tuple("MaybeReady::Ready").field(addrs).finish(),
            State::Blocking(handle) => f.debug_tuple("MaybeReady::Blocking").field(handle).finish(),
        }
    }
}

pub(crate) mod sealed {
    //! The sealed half of `ToSocketAddrs`.

    use std::future::Future;
    use std::io;
    use std::net::SocketAddr;
    use std::panic::Location;

    /// The method `ToSocketAddrs` hides.
    #[allow(unreachable_pub)] // reachable only as the supertrait of the sealed trait
    pub trait ToSocketAddrsPriv {
        /// The addresses.
        type Iter: Iterator<Item = SocketAddr> + Send + 'static;
        /// Resolves them.
        type Future: Future<Output = io::Result<Self::Iter>> + Send + 'static;

        /// Starts resolving `self`.
        fn to_socket_addrs(&self, internal: Internal) -> Self::Future;
    }

    /// The token that keeps the method internal; carries the user's call site for the
    /// resolver's blocking job.
    #[allow(unreachable_pub)]
    #[derive(Clone, Copy, Debug)]
    pub struct Internal {
        pub(crate) location: &'static Location<'static>,
    }

    impl Internal {
        #[track_caller]
        pub(crate) fn here() -> Internal {
            Internal {
                location: Location::caller(),
            }
        }
    }
}

use sealed::{Internal, ToSocketAddrsPriv};

/// Implements the trait for a type that converts into one `SocketAddr`.
macro_rules! one_addr {
    ($($ty:ty),* $(,)?) => {$(
        impl ToSocketAddrs for $ty {}

        impl ToSocketAddrsPriv for $ty {
            type Iter = OneOrMore;
            type Future = MaybeReady;

            fn to_socket_addrs(&self, _: Internal) -> MaybeReady {
                MaybeReady::one(SocketAddr::from(*self))
            }
        }
    )*};
}

one_addr!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
);

impl ToSocketAddrs for &[SocketAddr] {}

impl ToSocketAddrsPriv for &[SocketAddr] {
    type Iter = OneOrMore;
    type Future = MaybeReady;

    fn to_socket_addrs(&self, _: Internal) -> MaybeReady {
        let addrs: Vec<SocketAddr> = self.to_vec();
        MaybeReady(State::Ready(Some(OneOrMore::More(addrs.into_iter()))))
    }
}

impl ToSocketAddrs for str {}

impl ToSocketAddrsPriv for str {
    type Iter = OneOrMore;
    type Future = MaybeReady;

    fn to_socket_addrs(&self, internal: Internal) -> MaybeReady {
        match self.parse::<SocketAddr>() {
            Ok(addr) => MaybeReady::one(addr),
            Err(_) => MaybeReady::blocking(self.to_owned(), internal.location),
        }
    }
}

impl ToSocketAddrs for String {}

impl ToSocketAddrsPriv for String {
    type Iter = OneOrMore;
    type Future = MaybeReady;

    fn to_socket_addrs(&self, internal: Internal) -> MaybeReady {
        self.as_str().to_socket_addrs(internal)
    }
}

impl ToSocketAddrs for (&str, u16) {}

impl ToSocketAddrsPriv for (&str, u16) {
    type Iter = OneOrMore;
    type Future = MaybeReady;

    fn to_socket_addrs(&self, internal: Internal) -> MaybeReady {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => MaybeReady::one(SocketAddr::new(ip, port)),
            Err(_) => MaybeReady::blocking((host.to_owned(), port), internal.location),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}

impl ToSocketAddrsPriv for (String, u16) {
    type Iter = OneOrMore;
    type Future = MaybeReady;

    fn to_socket_addrs(&self, internal: Internal) -> MaybeReady {
        (self.0.as_str(), self.1).to_socket_addrs(internal)
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}

impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    type Iter = T::Iter;
    type Future = T::Future;

    fn to_socket_addrs(&self, internal: Internal) -> Self::Future {
        (**self).to_socket_addrs(internal)
    }
}
