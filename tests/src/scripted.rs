//! A small HTTP/1.1 server on loopback that answers from a script and
//! records every request exactly as it arrived.
//!
//! Each test starts its own server with the answers it needs, in order:
//!
//! ```no_run
//! # async fn example() {
//! use webex_calling_tests::scripted::{Reply, Script, ScriptedServer};
//!
//! let server = ScriptedServer::start(
//!     Script::new()
//!         .then(Reply::status(503))
//!         .then(Reply::json(200, serde_json::json!({ "id": "new-id" }))),
//! )
//! .await;
//! // ... point a client at `server.base_url()`, then:
//! assert_eq!(server.requests().len(), 2);
//! # }
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The most bytes of request head the server reads before giving up.
const MAX_HEAD: usize = 64 * 1024;

/// What the server does with one request.
#[derive(Clone, Debug)]
pub struct Reply {
    action: Action,
    delay: Duration,
}

#[derive(Clone, Debug)]
enum Action {
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Close,
    Hang,
    Switch,
}

impl Reply {
    /// An answer with `status` and no body.
    pub fn status(status: u16) -> Self {
        Self {
            action: Action::Answer {
                status,
                headers: Vec::new(),
                body: Vec::new(),
            },
            delay: Duration::ZERO,
        }
    }

    /// An answer with `status` and `body` as JSON.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::text(status, "application/json", body.to_string())
    }

    /// An answer with `status` and `body` of the given content type.
    pub fn text(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Self::status(status)
            .header("Content-Type", content_type)
            .body(body.into().into_bytes())
    }

    /// Closes the connection after reading the request, without answering.
    pub fn close() -> Self {
        Self {
            action: Action::Close,
            delay: Duration::ZERO,
        }
    }

    /// Never answers; the connection stays open until the client gives up.
    pub fn hang() -> Self {
        Self {
            action: Action::Hang,
            delay: Duration::ZERO,
        }
    }

    /// Switches protocols: answers `101 Switching Protocols` to a
    /// WebSocket, then on the same connection writes `hello\n` and echoes
    /// every byte the client writes until it closes its end.
    pub fn switch_protocols() -> Self {
        Self {
            action: Action::Switch,
            delay: Duration::ZERO,
        }
    }

    /// Adds a response header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        if let Action::Answer { headers, .. } = &mut self.action {
            headers.push((name.to_string(), value.into()));
        }
        self
    }

    /// Replaces the body.
    #[must_use]
    pub fn body(mut self, bytes: Vec<u8>) -> Self {
        if let Action::Answer { body, .. } = &mut self.action {
            *body = bytes;
        }
        self
    }

    /// Waits this long after reading the request before acting.
    #[must_use]
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// The replies, in the order requests arrive.
#[derive(Clone, Debug, Default)]
pub struct Script {
    replies: VecDeque<Reply>,
    otherwise: Option<Reply>,
}

impl Script {
    /// An empty script: every request gets a `500` saying so.
    pub fn new() -> Self {
        Self::default()
    }

    /// The reply to the next request not yet scripted.
    #[must_use]
    pub fn then(mut self, reply: Reply) -> Self {
        self.replies.push_back(reply);
        self
    }

    /// The reply to every request after the scripted ones.
    #[must_use]
    pub fn otherwise(mut self, reply: Reply) -> Self {
        self.otherwise = Some(reply);
        self
    }

    fn next(&mut self) -> Reply {
        self.replies.pop_front().unwrap_or_else(|| {
            self.otherwise.clone().unwrap_or_else(|| {
                Reply::text(
                    500,
                    "text/plain",
                    "the test script has no reply for this request",
                )
            })
        })
    }
}

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method, such as `PUT`.
    pub method: String,
    /// The request target exactly as sent: path and query, still encoded.
    pub target: String,
    /// Every header in the order sent, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body, decoded from chunked transfer coding if it used it.
    pub body: Vec<u8>,
    /// When the request had fully arrived.
    pub received: Instant,
    /// Which connection it came on, numbered from 0 in accept order.
    pub connection: usize,
}

impl Request {
    /// The first value of header `name`, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header name, lowercased and sorted.
    pub fn header_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        names.sort();
        names
    }

    /// The body as text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Default)]
struct State {
    script: Script,
    requests: Vec<Request>,
    in_flight: usize,
    max_in_flight: usize,
}

/// A running server. Dropping it stops it and closes every connection.
pub struct ScriptedServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl ScriptedServer {
    /// Starts a server on `127.0.0.1` with a free port.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub async fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let state = Arc::new(Mutex::new(State {
            script,
            ..State::default()
        }));
        let task = tokio::spawn(serve(listener, Arc::clone(&state)));
        Self { addr, state, task }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A base URL for the client: `http://127.0.0.1:<port>/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.state).requests.clone()
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        lock(&self.state).max_in_flight
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panicking connection task must not hide what was recorded.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn serve(listener: TcpListener, state: Arc<Mutex<State>>) {
    // Connections live in this set, so aborting the server ends them too.
    let mut connections = JoinSet::new();
    let mut next_id = 0;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                connections.spawn(connection(stream, next_id, Arc::clone(&state)));
                next_id += 1;
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Counts a request as in flight until dropped.
struct InFlight(Arc<Mutex<State>>);

impl InFlight {
    fn start(state: &Arc<Mutex<State>>) -> Self {
        let mut guard = lock(state);
        guard.in_flight += 1;
        guard.max_in_flight = guard.max_in_flight.max(guard.in_flight);
        Self(Arc::clone(state))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.0).in_flight -= 1;
    }
}

async fn connection(mut stream: TcpStream, id: usize, state: Arc<Mutex<State>>) {
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buffer, id).await else {
            return;
        };
        let in_flight = InFlight::start(&state);
        let reply = {
            let mut guard = lock(&state);
            guard.requests.push(request);
            guard.script.next()
        };
        tokio::time::sleep(reply.delay).await;
        match reply.action {
            Action::Answer {
                status,
                headers,
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
                for (name, value) in &headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                if !matches!(status, 100..=199 | 204 | 304) {
                    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
                }
                head.push_str("\r\n");
                let mut bytes = head.into_bytes();
                bytes.extend_from_slice(&body);
                if stream.write_all(&bytes).await.is_err() || stream.flush().await.is_err() {
                    return;
                }
                drop(in_flight);
            }
            Action::Close => return,
            Action::Switch => {
                let head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nhello\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                // Bytes the client wrote right after its request are the
                // first to echo.
                let mut chunk = std::mem::take(&mut buffer);
                loop {
                    if !chunk.is_empty() && stream.write_all(&chunk).await.is_err() {
                        return;
                    }
                    chunk.resize(1024, 0);
                    match stream.read(&mut chunk).await {
                        Ok(n) if n > 0 => chunk.truncate(n),
                        _ => return,
                    }
                }
            }
            Action::Hang => {
                // Read until the client closes its end.
                let mut sink = [0u8; 1024];
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
        }
    }
}

/// Reads one request; `None` when the connection ends first or the request
/// is malformed.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>, id: usize) -> Option<Request> {
    let head_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > MAX_HEAD || !fill(stream, buffer).await {
            return None;
        }
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).ok()?;
    buffer.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let target = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_string(), value.trim().to_string()))
        })
        .collect::<Option<_>>()?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(stream, buffer).await?
    } else {
        let length: usize = header("content-length").map_or(Some(0), |v| v.parse().ok())?;
        while buffer.len() < length {
            if !fill(stream, buffer).await {
                return None;
            }
        }
        buffer.drain(..length).collect()
    };
    Some(Request {
        method,
        target,
        headers,
        body,
        received: Instant::now(),
        connection: id,
    })
}

async fn read_chunked(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(at) = find(buffer, b"\r\n") {
                break at;
            }
            if !fill(stream, buffer).await {
                return None;
            }
        };
        let size_text = std::str::from_utf8(&buffer[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        buffer.drain(..line_end + 2);
        while buffer.len() < size + 2 {
            if !fill(stream, buffer).await {
                return None;
            }
        }
        body.extend(buffer.drain(..size));
        buffer.drain(..2);
        if size == 0 {
            return Some(body);
        }
    }
}

/// Reads more bytes into `buffer`; `false` at the end of the stream.
async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        409 => "Conflict",
        423 => "Locked",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
