//! A loopback TCP proxy the tests control, to break a client's link to the server the ways
//! networks do: [`Proxy::kill`] resets every open connection at once (a dropped Wi-Fi), and
//! [`Proxy::pause`] stops moving bytes in both directions while keeping the sockets open (a
//! link that silently stalls, which only a ping timeout can notice).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

use crate::HarnessError;

/// A running proxy on 127.0.0.1 in front of one target address. Stops when dropped.
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

struct Shared {
    target: SocketAddr,
    /// `true` while paused.
    paused: watch::Sender<bool>,
    /// Open connections: client side (to reset on kill) and the pump task.
    links: Mutex<HashMap<u64, Link>>,
    next: AtomicU64,
    accepted: AtomicU64,
}

struct Link {
    client: std::net::TcpStream,
    pump: AbortHandle,
}

impl Proxy {
    /// Starts a proxy to `target` on a free loopback port.
    pub async fn start(target: SocketAddr) -> Result<Proxy, HarnessError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| HarnessError::io("binding the proxy", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError::io("reading the proxy's address", e))?
            .port();
        let shared = Arc::new(Shared {
            target,
            paused: watch::channel(false).0,
            links: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Proxy {
            port,
            shared,
            accept,
        })
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted since start.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.shared.links.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// Resets every open connection (RST to the client, close to the server); returns how
    /// many there were. New connections are accepted as before.
    pub fn kill(&self) -> usize {
        let links: Vec<Link> = match self.shared.links.lock() {
            Ok(mut l) => l.drain().map(|(_, link)| link).collect(),
            Err(_) => return 0,
        };
        for link in &links {
            link.pump.abort();
            // Linger 0 turns the close into a reset, as a dropped link looks to the peer.
            let _ = set_linger_zero(&link.client);
        }
        links.len()
    }

    /// Stops forwarding bytes, in both directions, on open and new connections, until
    /// [`Proxy::resume`].
    pub fn pause(&self) {
        self.shared.paused.send_replace(true);
    }

    /// Forwards bytes again after [`Proxy::pause`].
    pub fn resume(&self) {
        self.shared.paused.send_replace(false);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.kill();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((client, _)) = listener.accept().await {
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        let Ok(std_client) = client.into_std() else {
            continue;
        };
        let Ok(handle) = std_client.try_clone() else {
            continue;
        };
        let Ok(client) = TcpStream::from_std(std_client) else {
            continue;
        };
        let id = shared.next.fetch_add(1, Ordering::SeqCst);
        let pump = tokio::spawn(pump(client, shared.clone(), id));
        if let Ok(mut links) = shared.links.lock() {
            links.insert(
                id,
                Link {
                    client: handle,
                    pump: pump.abort_handle(),
                },
            );
        }
    }
}

/// Connects to the target and copies bytes both ways, holding them while paused.
async fn pump(client: TcpStream, shared: Arc<Shared>, id: u64) {
    if let Ok(server) = TcpStream::connect(shared.target).await {
        let _ = server.set_nodelay(true);
        let _ = client.set_nodelay(true);
        let (cr, cw) = client.into_split();
        let (sr, sw) = server.into_split();
        let paused = shared.paused.subscribe();
        tokio::select! {
            _ = copy(cr, sw, paused.clone()) => {}
            _ = copy(sr, cw, paused) => {}
        }
    }
    if let Ok(mut links) = shared.links.lock() {
        links.remove(&id);
    }
}

async fn copy(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut paused: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if paused.wait_for(|p| !*p).await.is_err() {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Bytes read just before a pause are held until it ends.
        if paused.wait_for(|p| !*p).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

fn set_linger_zero(stream: &std::net::TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized `linger` value.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::addr_of!(linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
