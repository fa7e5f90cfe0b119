//! The HTTP side of the fake: accepting connections, recording requests,
//! applying faults, and answering.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, LINK, RETRY_AFTER};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::fault::{Action, Fault, FaultBody};
use super::ids::{percent_decode, query_pairs};
use super::log::RecordedRequest;
use super::rate_limit::{Admission, Limiter};
use super::spec::{BodyProblem, Route, Spec};
use super::state::{Problem, State};

/// The largest body the fake reads; a larger one answers `413`.
const MAX_BODY: usize = 4 << 20;

/// Everything the server and the [`super::FakeWebex`] handle share.
pub(crate) struct Shared {
    /// The token the fake was started with.
    pub(crate) token: String,
    /// The tokens accepted now: the first one unless revoked, and those
    /// added since.
    pub(crate) accepted: Mutex<Vec<String>>,
    pub(crate) org_id: String,
    pub(crate) spec: Spec,
    pub(crate) state: Mutex<State>,
    pub(crate) log: Mutex<Vec<RecordedRequest>>,
    pub(crate) faults: Mutex<VecDeque<Fault>>,
    pub(crate) rate_limit: Mutex<Limiter>,
    /// Names the fake's own tracking IDs, unique per server.
    pub(crate) tracking_prefix: String,
    pub(crate) requests: AtomicU64,
}

/// Locks `mutex`, even if a panicking test thread poisoned it: the data is
/// plain state that stays consistent between statements.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Accepts connections until the task is aborted; aborting it drops the
/// set of connection tasks, which aborts them too.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, Arc::clone(&shared)));
                }
                // Out of file descriptors or similar: back off instead of
                // spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next() => {}
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request| handle(Arc::clone(&shared), request));
    // An error here is a client that went away or a scripted drop.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Returned by the service to make hyper close the connection unanswered.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the fault script closed the connection")
    }
}

impl std::error::Error for Dropped {}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let (body, too_large) = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => (collected.to_bytes(), false),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => (Bytes::new(), true),
        // The client went away mid-body: nobody is left to answer.
        Err(_) => return Err(Dropped),
    };
    let tracking_id = parts
        .headers
        .get("trackingid")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map_or_else(
            || {
                let n = shared.requests.fetch_add(1, Ordering::Relaxed);
                format!("{}_{n}", shared.tracking_prefix)
            },
            str::to_string,
        );
    lock(&shared.log).push(record(&parts, &body));
    let operation_id = shared.operation_of(&parts);
    let fault = {
        let mut faults = lock(&shared.faults);
        faults
            .iter()
            .position(|fault| {
                fault.applies_to(
                    parts.method.as_str(),
                    parts.uri.path(),
                    operation_id.as_deref(),
                )
            })
            .and_then(|index| faults.remove(index))
    };
    let mut scripted = None;
    if let Some(fault) = fault {
        if !fault.wait.is_zero() {
            tokio::time::sleep(fault.wait).await;
        }
        if fault.after_applying && !too_large && fault.action != Action::Proceed {
            // The update lands as usual; only its answer is lost.
            let _ = shared.answer(&parts, &body);
        }
        match fault.action {
            Action::Drop => return Err(Dropped),
            Action::Proceed => {}
            Action::Answer {
                status,
                retry_after,
                body,
            } => {
                scripted = Some(Answer {
                    status,
                    retry_after,
                    link: None,
                    body: match body {
                        FaultBody::Webex => {
                            AnswerBody::Error(Problem::new(status, status_description(status)))
                        }
                        FaultBody::Raw { content_type, text } => {
                            AnswerBody::Raw { content_type, text }
                        }
                    },
                });
            }
        }
    }
    let answer = match scripted {
        Some(answer) => answer,
        None if too_large => Answer::problem(Problem::new(
            413,
            format!("The request body is larger than {MAX_BODY} bytes."),
        )),
        None => {
            // A rate limit's round trip: half on the way in, half out.
            let half = lock(&shared.rate_limit).half_latency();
            if !half.is_zero() {
                tokio::time::sleep(half).await;
            }
            let answer = shared.answer(&parts, &body);
            if !half.is_zero() {
                tokio::time::sleep(half).await;
            }
            answer
        }
    };
    Ok(answer.into_response(&tracking_id))
}

fn record(parts: &Parts, body: &Bytes) -> RecordedRequest {
    RecordedRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        received_at: Instant::now(),
    }
}

impl Shared {
    /// The `operationId` the spec routes this request to, if any.
    fn operation_of(&self, parts: &Parts) -> Option<String> {
        let segments = parts
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect::<Option<Vec<String>>>()?;
        match self.spec.route(parts.method.as_str(), &segments) {
            Route::Found(operation, _) => Some(operation.id.clone()),
            Route::MethodNotAllowed | Route::NotFound => None,
        }
    }

    /// The answer of a Webex that is working normally.
    fn answer(&self, parts: &Parts, body: &[u8]) -> Answer {
        match self.try_answer(parts, body) {
            Ok(answer) => answer,
            Err(problem) => Answer::problem(problem),
        }
    }

    fn try_answer(&self, parts: &Parts, body: &[u8]) -> Result<Answer, Problem> {
        let token = self.authorize(parts)?;
        let admission = {
            let mut limiter = lock(&self.rate_limit);
            limiter.admit(token, tokio::time::Instant::now())
        };
        if let Admission::Refuse { retry_after } = admission {
            return Ok(Answer {
                status: 429,
                retry_after,
                link: None,
                body: AnswerBody::Error(Problem::new(429, status_description(429))),
            });
        }
        let not_found = || {
            Problem::new(
                404,
                format!(
                    "The requested resource {} could not be found.",
                    parts.uri.path()
                ),
            )
        };
        let segments = parts
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect::<Option<Vec<String>>>()
            .ok_or_else(not_found)?;
        let (operation, params) = match self.spec.route(parts.method.as_str(), &segments) {
            Route::Found(operation, params) => (operation, params),
            Route::MethodNotAllowed => {
                return Err(Problem::new(
                    405,
                    format!(
                        "The method {} is not supported on {}.",
                        parts.method,
                        parts.uri.path()
                    ),
                ));
            }
            Route::NotFound => return Err(not_found()),
        };
        if !body.iter().all(u8::is_ascii_whitespace) && !is_json(parts.headers.get(CONTENT_TYPE)) {
            return Err(Problem::new(
                415,
                "The request body must be sent with the content type application/json.",
            ));
        }
        let value = operation
            .check_body(body)
            .map_err(|problem| match problem {
                BodyProblem::Missing => Problem::new(400, "A request body is required."),
                BodyProblem::NotJson(reason) => Problem::new(
                    400,
                    format!("The request body is not valid JSON: {reason}."),
                ),
                BodyProblem::Invalid(details) => Problem {
                    status: 400,
                    message: match details.as_slice() {
                        [only] => only.clone(),
                        many => format!("The request body has {} problems.", many.len()),
                    },
                    details,
                },
            })?;
        let query = parts.uri.query().map(query_pairs).unwrap_or_default();
        let org_id = query
            .iter()
            .find(|(name, _)| name == "orgId")
            .map(|(_, value)| value.clone());
        let param = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .ok_or_else(not_found)
        };
        let fields = operation.declared_fields(&value);
        let mut state = lock(&self.state);
        match operation.id.as_str() {
            "updateCallPickup" => {
                let id = state.update_call_pickup(
                    param("locationId")?,
                    param("callPickupId")?,
                    org_id.as_deref(),
                    &fields,
                )?;
                Ok(Answer::json(operation.success, json!({ "id": id })))
            }
            "getCallPickup" => {
                let answer = state.read_call_pickup(
                    param("locationId")?,
                    param("callPickupId")?,
                    org_id.as_deref(),
                )?;
                Ok(Answer::json(operation.success, answer))
            }
            "getHuntGroup" => {
                let answer = state.read_hunt_group(
                    param("locationId")?,
                    param("huntGroupId")?,
                    org_id.as_deref(),
                )?;
                Ok(Answer::json(operation.success, answer))
            }
            "updateHuntGroup" => {
                state.update_hunt_group(
                    param("locationId")?,
                    param("huntGroupId")?,
                    org_id.as_deref(),
                    &fields,
                )?;
                Ok(Answer::empty(operation.success))
            }
            "listCallPickups" => {
                let all =
                    state.list_call_pickups(param("locationId")?, org_id.as_deref(), &query)?;
                page(operation.success, "callPickups", all, &query, None)
            }
            "createCallPickup" => {
                let id =
                    state.create_call_pickup(param("locationId")?, org_id.as_deref(), &fields)?;
                Ok(Answer::json(operation.success, json!({ "id": id })))
            }
            "deleteCallPickup" => {
                state.delete_call_pickup(
                    param("locationId")?,
                    param("callPickupId")?,
                    org_id.as_deref(),
                )?;
                Ok(Answer::empty(operation.success))
            }
            "listCallPickupAvailableAgents" => {
                let all =
                    state.available_agents(param("locationId")?, org_id.as_deref(), &query)?;
                page(operation.success, "agents", all, &query, None)
            }
            "listHuntGroups" => {
                let org = org_id.as_deref().unwrap_or(&self.org_id);
                let all = state.list_hunt_groups(org, &query);
                page(operation.success, "huntGroups", all, &query, Some(parts))
            }
            "createHuntGroup" => {
                let id =
                    state.create_hunt_group(param("locationId")?, org_id.as_deref(), &fields)?;
                Ok(Answer::json(operation.success, json!({ "id": id })))
            }
            "deleteHuntGroup" => {
                state.delete_hunt_group(
                    param("locationId")?,
                    param("huntGroupId")?,
                    org_id.as_deref(),
                )?;
                Ok(Answer::empty(operation.success))
            }
            "getHuntGroupCallForwardingSettings" => {
                let answer = state.read_forwarding(
                    param("locationId")?,
                    param("huntGroupId")?,
                    org_id.as_deref(),
                )?;
                Ok(Answer::json(operation.success, answer))
            }
            "updateHuntGroupCallForwardingSettings" => {
                state.update_forwarding(
                    param("locationId")?,
                    param("huntGroupId")?,
                    org_id.as_deref(),
                    &fields,
                )?;
                Ok(Answer::empty(operation.success))
            }
            "switchHuntGroupCallForwardingMode" => {
                state.switch_mode(
                    param("locationId")?,
                    param("huntGroupId")?,
                    org_id.as_deref(),
                )?;
                Ok(Answer::empty(operation.success))
            }
            "createHuntGroupSelectiveCallForwardingRule" => {
                let id = state.create_rule(
                    param("locationId")?,
                    param("huntGroupId")?,
                    org_id.as_deref(),
                    &fields,
                )?;
                Ok(Answer::json(operation.success, json!({ "id": id })))
            }
            "getHuntGroupSelectiveCallForwardingRule" => {
                let answer = state.read_rule(
                    param("locationId")?,
                    param("huntGroupId")?,
                    param("ruleId")?,
                    org_id.as_deref(),
                )?;
                Ok(Answer::json(operation.success, answer))
            }
            "updateHuntGroupSelectiveCallForwardingRule" => {
                let id = state.update_rule(
                    param("locationId")?,
                    param("huntGroupId")?,
                    param("ruleId")?,
                    org_id.as_deref(),
                    &fields,
                )?;
                Ok(Answer::json(operation.success, json!({ "id": id })))
            }
            "deleteHuntGroupSelectiveCallForwardingRule" => {
                state.delete_rule(
                    param("locationId")?,
                    param("huntGroupId")?,
                    param("ruleId")?,
                    org_id.as_deref(),
                )?;
                Ok(Answer::empty(operation.success))
            }
            "getHuntGroupPrimaryAvailablePhoneNumbers"
            | "getHuntGroupAlternateAvailablePhoneNumbers" => {
                let all = state.available_numbers(
                    param("locationId")?,
                    org_id.as_deref(),
                    false,
                    &query,
                )?;
                page(operation.success, "phoneNumbers", all, &query, None)
            }
            "getHuntGroupCallForwardAvailablePhoneNumbers" => {
                let all = state.available_numbers(
                    param("locationId")?,
                    org_id.as_deref(),
                    true,
                    &query,
                )?;
                page(operation.success, "phoneNumbers", all, &query, None)
            }
            other => Err(Problem::new(
                501,
                format!("The fake Webex does not implement the operation {other}."),
            )),
        }
    }

    /// The token presented, when the fake accepts it.
    fn authorize<'a>(&self, parts: &'a Parts) -> Result<&'a str, Problem> {
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        match presented {
            Some(token) if lock(&self.accepted).iter().any(|t| t == token) => Ok(token),
            _ => Err(Problem::new(
                401,
                "The request requires a valid access token set in the Authorization request header.",
            )),
        }
    }
}

fn is_json(content_type: Option<&HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// What the fake answers, before the tracking ID is filled in.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    /// A `Link` header, on a page of a list that has one after it.
    link: Option<String>,
    body: AnswerBody,
}

enum AnswerBody {
    Empty,
    Json(Value),
    Error(Problem),
    Raw {
        content_type: Option<String>,
        text: String,
    },
}

impl Answer {
    fn problem(problem: Problem) -> Self {
        Self {
            status: problem.status,
            retry_after: None,
            link: None,
            body: AnswerBody::Error(problem),
        }
    }

    fn json(status: u16, value: Value) -> Self {
        Self {
            status,
            retry_after: None,
            link: None,
            body: AnswerBody::Json(value),
        }
    }

    fn empty(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
            link: None,
            body: AnswerBody::Empty,
        }
    }

    fn into_response(self, tracking_id: &str) -> Response<Full<Bytes>> {
        let (content_type, bytes) = match self.body {
            AnswerBody::Empty => (None, Bytes::new()),
            AnswerBody::Json(value) => (Some("application/json".to_string()), json_bytes(&value)),
            AnswerBody::Error(problem) => {
                let value = json!({
                    "message": problem.message,
                    "errors": problem
                        .details
                        .iter()
                        .map(|d| json!({ "description": d }))
                        .collect::<Vec<_>>(),
                    "trackingId": tracking_id,
                });
                (Some("application/json".to_string()), json_bytes(&value))
            }
            AnswerBody::Raw { content_type, text } => (content_type, Bytes::from(text)),
        };
        let mut response = Response::new(Full::new(bytes));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        let mut set = |name: &'static str, value: &str| {
            // A scripted value that is not valid in a header is left out.
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        };
        set("trackingid", tracking_id);
        if let Some(content_type) = &content_type {
            set(CONTENT_TYPE.as_str(), content_type);
        }
        if let Some(retry_after) = &self.retry_after {
            set(RETRY_AFTER.as_str(), retry_after);
        }
        if let Some(link) = &self.link {
            set(LINK.as_str(), link);
        }
        response
    }
}

/// The largest page Webex answers, and its size when `max` is not sent.
const MAX_PAGE: usize = 2000;

/// One page of `all`, from the request's `start` (default 0) and `max`
/// (default and at most [`MAX_PAGE`]), under `name`. With `linked` (the
/// request of a list Webex pages with `Link`), a page with more after it
/// carries `Link: <...>; rel="next"`: the same URL with the next `start`.
fn page(
    status: u16,
    name: &str,
    all: Vec<Value>,
    query: &[(String, String)],
    linked: Option<&Parts>,
) -> Result<Answer, Problem> {
    let number = |param: &str, least: usize, default: usize| -> Result<usize, Problem> {
        match query.iter().find(|(n, _)| n == param) {
            None => Ok(default),
            Some((_, value)) => match value.parse::<usize>() {
                Ok(number) if number >= least => Ok(number),
                _ => Err(Problem::new(
                    400,
                    format!("{param}: {value:?} is not a whole number of at least {least}."),
                )),
            },
        }
    };
    let start = number("start", 0, 0)?;
    let max = number("max", 1, MAX_PAGE)?.min(MAX_PAGE);
    let total = all.len();
    let items: Vec<Value> = all.into_iter().skip(start).take(max).collect();
    let mut answer = Answer::json(status, json!({ name: items }));
    if let Some(parts) = linked
        && start.saturating_add(max) < total
    {
        let host = parts
            .headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("127.0.0.1");
        let mut url = format!("http://{host}{}", parts.uri.path());
        let mut separator = '?';
        for (param, value) in query.iter().filter(|(n, _)| n != "start" && n != "max") {
            url.push(separator);
            separator = '&';
            url.push_str(&format!("{}={}", encode(param), encode(value)));
        }
        url.push(separator);
        url.push_str(&format!("max={max}&start={}", start + max));
        answer.link = Some(format!("<{url}>; rel=\"next\""));
    }
    Ok(answer)
}

/// Percent-encodes a query name or value.
fn encode(text: &str) -> String {
    let mut out = String::new();
    // Infallible: writing to a String.
    let _ = crate::runtime::encode(text, &mut out);
    out
}

fn json_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

/// The Webex docs' description of each status, for scripted answers.
fn status_description(status: u16) -> String {
    let text = match status {
        400 => "The request was invalid or cannot be otherwise served.",
        401 => "Authentication credentials were missing or incorrect.",
        403 => "The request is understood, but it has been refused or access is not allowed.",
        404 => "The URI requested is invalid or the resource requested does not exist.",
        405 => {
            "The request was made to a resource using an HTTP request method that is not supported."
        }
        409 => {
            "The request could not be processed because it conflicts with some established rule of the system."
        }
        410 => "The requested resource is no longer available.",
        415 => {
            "The request was made to a resource without specifying a media type or used a media type that is not supported."
        }
        423 => "The requested resource is temporarily unavailable.",
        428 => "File(s) cannot be scanned for malware and need to be force downloaded.",
        429 => {
            "Too many requests have been sent in a given amount of time and the request has been rate limited."
        }
        500 => "Something went wrong on the server.",
        502 => {
            "The server received an invalid response from an upstream server while processing the request."
        }
        503 => "Server is overloaded with requests. Try again later.",
        504 => "An upstream server failed to respond on time.",
        _ => {
            return match StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
            {
                Some(reason) => format!("{reason}."),
                None => format!("The service answered {status}."),
            };
        }
    };
    text.to_string()
}
