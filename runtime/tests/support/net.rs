//! Helpers shared by the TCP test files.

use super::{Ev, Recorder};
use hookrt::hooks::{AsyncId, ResourceKind};
use hookrt::net::{TcpListener, TcpStream};
use hookrt::time::Duration;
use std::net::SocketAddr;

/// How long any single wait in these tests may take before it counts as a hang.
pub const HANG: Duration = Duration::from_secs(10);

/// A listener on an ephemeral loopback port, and its address.
pub async fn bind_local() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// A connected pair: (client side, server side).
pub async fn pair() -> (TcpStream, TcpStream) {
    let (listener, addr) = bind_local().await;
    let (client, accepted) = hookrt::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

/// The ids of the resources of `kind` initialised so far.
pub fn inits_of(rec: &Recorder, kind: ResourceKind) -> Vec<AsyncId> {
    rec.events()
        .iter()
        .filter_map(|e| match e {
            Ev::Init { id, kind: k, .. } if *k == kind => Some(*id),
            _ => None,
        })
        .collect()
}

pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
