//! Walking every page of a list operation as one stream of items.
//!
//! The generated `stream()` of a list builder (an operation the spec marks
//! with `x-list`) hands this module a way to fetch one page; everything
//! else, where the next page starts and when the list ends, is here and
//! names no operation. Each page is one ordinary call of the operation:
//! its rules are checked, the rate limiter and the retry policy apply to
//! it, and nothing is sent for a page the stream is not asked for.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::error::Error;

/// How many items a page asks for when the builder's `max` is not set.
pub(crate) const DEFAULT_PAGE_SIZE: i64 = 100;

/// Where one page starts and how many items it asks for: the list's
/// `start` and `max` parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// The zero-based offset of the page's first item.
    pub(crate) start: i64,
    /// The most items the page holds.
    pub(crate) max: i64,
}

/// One page, as the generated code hands it over: its items and what the
/// answer said about the next page.
pub(crate) struct Page<T> {
    items: Vec<T>,
    /// The `Link` header of the answer, if any.
    link: Option<String>,
    status: u16,
    tracking_id: String,
    attempts: u32,
}

impl<T> Page<T> {
    /// The page in `response`, whose items `items` takes out of the answer.
    pub(crate) fn new<W>(response: crate::Response<W>, items: impl FnOnce(W) -> Vec<T>) -> Self {
        let link = response.link().map(str::to_string);
        let (status, attempts) = (response.status(), response.attempts());
        let tracking_id = response.tracking_id().to_string();
        Page {
            items: items(response.into_value()),
            link,
            status,
            tracking_id,
            attempts,
        }
    }
}

/// An argument the caller may have borrowed, copied so that a stream
/// borrows nothing.
pub(crate) fn owned(value: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
    value.map(|value| Cow::Owned(value.into_owned()))
}

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<Page<T>, Error>> + Send>>;
type Fetch<T> = Box<dyn FnMut(Cursor) -> PageFuture<T> + Send>;

/// Every item of a list, page after page: a [`Stream`] of
/// `Result<T, Error>`, made by the `stream()` method of a list operation's
/// builder.
///
/// Pages are fetched one at a time, when the stream is polled past the
/// items already read: stopping early (dropping the stream, or `take(n)`)
/// sends nothing more. An error ends the stream after it is yielded. The
/// stream owns its arguments, so it is `Send + 'static` and can be moved
/// into a spawned task.
///
/// The next page is the one the answer's `Link` header names with
/// `rel="next"`, when there is one. Otherwise, for a list whose answers
/// carry no `Link`, it starts after the items read so far, and a page with
/// fewer items than it asked for is the last; for a list that does carry
/// `Link`, its absence ends the list.
///
/// ```no_run
/// # async fn example(client: &webex_calling::Client) -> Result<(), webex_calling::Error> {
/// use futures_util::StreamExt;
///
/// let mut groups = client.list_hunt_groups().max(100).stream();
/// while let Some(group) = groups.next().await {
///     let group = group?;
///     println!("{} in {}", group.name, group.location_name);
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "a stream sends nothing until it is polled"]
pub struct Items<T> {
    fetch: Fetch<T>,
    /// Whether the list's answers carry a `Link` header, so that its
    /// absence means the last page.
    linked: bool,
    /// The page to fetch next; `None` once the list has ended.
    next: Option<Cursor>,
    pending: Option<(Cursor, PageFuture<T>)>,
    read: std::vec::IntoIter<T>,
}

// No field is ever pinned in place: the page future is boxed.
impl<T> Unpin for Items<T> {}

impl<T> fmt::Debug for Items<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items")
            .field("next", &self.next)
            .field("fetching", &self.pending.as_ref().map(|(cursor, _)| cursor))
            .field("buffered", &self.read.len())
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Items<T> {
    /// A stream that starts at `start` (default 0) with pages of
    /// `page_size` items (default 100) and fetches each
    /// page with `fetch`. `linked` says whether the list's answers carry a
    /// `Link` header (the spec's `x-list: {link: true}`).
    pub(crate) fn new<F, Fut>(
        page_size: Option<i64>,
        start: Option<i64>,
        linked: bool,
        mut fetch: F,
    ) -> Self
    where
        F: FnMut(Cursor) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Page<T>, Error>> + Send + 'static,
    {
        Items {
            fetch: Box::new(move |cursor| Box::pin(fetch(cursor))),
            linked,
            next: Some(Cursor {
                start: start.unwrap_or(0),
                max: page_size.unwrap_or(DEFAULT_PAGE_SIZE),
            }),
            pending: None,
            read: Vec::new().into_iter(),
        }
    }
}

impl<T> Stream for Items<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.read.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            if let Some((cursor, page)) = &mut this.pending {
                let cursor = *cursor;
                let outcome = match page.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(outcome) => outcome,
                };
                this.pending = None;
                match outcome.and_then(|page| after(cursor, this.linked, page)) {
                    Ok((items, next)) => {
                        this.next = next;
                        this.read = items.into_iter();
                        continue;
                    }
                    Err(error) => {
                        this.next = None;
                        return Poll::Ready(Some(Err(error)));
                    }
                }
            }
            match this.next.take() {
                None => return Poll::Ready(None),
                Some(cursor) => this.pending = Some((cursor, (this.fetch)(cursor))),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let more = self.next.is_some() || self.pending.is_some();
        (self.read.len(), (!more).then_some(self.read.len()))
    }
}

/// The items of the page fetched at `cursor`, and where the next one
/// starts (`None`: this was the last).
fn after<T>(
    cursor: Cursor,
    linked: bool,
    page: Page<T>,
) -> Result<(Vec<T>, Option<Cursor>), Error> {
    let count = i64::try_from(page.items.len()).unwrap_or(i64::MAX);
    let linked_next = page.link.as_deref().and_then(next_link);
    let next = match linked_next {
        Some(link) => {
            let next = Cursor {
                start: link
                    .start
                    .unwrap_or_else(|| cursor.start.saturating_add(count)),
                max: link.max.unwrap_or(cursor.max),
            };
            // A next page that does not move forward would be fetched
            // forever.
            if next.start <= cursor.start || next.max < 1 {
                return Err(Error::UnreadableResponse {
                    status: page.status,
                    snippet: page.link.unwrap_or_default(),
                    reason: format!(
                        "the Link header's next page (start {}, max {}) does not follow the page at start {}",
                        next.start, next.max, cursor.start
                    ),
                    tracking_id: page.tracking_id,
                    attempts: page.attempts,
                });
            }
            Some(next)
        }
        None if linked => None,
        None if count == 0 || count < cursor.max => None,
        None => Some(Cursor {
            start: cursor.start.saturating_add(count),
            max: cursor.max,
        }),
    };
    Ok((page.items, next))
}

/// The `start` and `max` of a `Link` target, when they are numbers.
#[derive(Debug, PartialEq, Eq)]
struct NextLink {
    start: Option<i64>,
    max: Option<i64>,
}

/// The `start` and `max` of the `rel="next"` target of a `Link` header
/// (RFC 8288): `<https://…?start=100&max=100>; rel="next"`. Only these two
/// are read from it, and the next page is asked for with the list's own
/// URL and parameters: the token never goes to a host the link names.
fn next_link(header: &str) -> Option<NextLink> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().strip_prefix('<')?.split_once('>')?;
        let is_next = params.split(';').any(|param| {
            param.split_once('=').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("rel")
                    && value
                        .trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|rel| rel.eq_ignore_ascii_case("next"))
            })
        });
        if !is_next {
            return None;
        }
        let query = target.split_once('?').map_or("", |(_, query)| query);
        let query = query.split('#').next().unwrap_or_default();
        let number = |name: &str| {
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| *key == name)
                .and_then(|(_, value)| value.parse::<i64>().ok())
        };
        Some(NextLink {
            start: number("start"),
            max: number("max"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(items: usize, link: Option<&str>) -> Page<usize> {
        Page {
            items: (0..items).collect(),
            link: link.map(str::to_string),
            status: 200,
            tracking_id: "t".into(),
            attempts: 1,
        }
    }

    const AT_ZERO: Cursor = Cursor { start: 0, max: 100 };

    #[test]
    fn the_next_link_gives_start_and_max() {
        let header = r#"<https://webexapis.com/v1/telephony/config/huntGroups?max=100&start=100>; rel="next", <https://webexapis.com/v1/telephony/config/huntGroups?max=100&start=0>; rel="first""#;
        assert_eq!(
            next_link(header),
            Some(NextLink {
                start: Some(100),
                max: Some(100)
            })
        );
        assert_eq!(next_link(r#"<https://x/y?start=0>; rel="first""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn a_full_page_without_link_is_followed_by_the_next_offset() {
        let (items, next) = after(AT_ZERO, false, page(100, None)).unwrap();
        assert_eq!(items.len(), 100);
        assert_eq!(
            next,
            Some(Cursor {
                start: 100,
                max: 100
            })
        );
    }

    #[test]
    fn a_short_or_empty_page_without_link_is_the_last() {
        assert_eq!(after(AT_ZERO, false, page(50, None)).unwrap().1, None);
        assert_eq!(after(AT_ZERO, false, page(0, None)).unwrap().1, None);
    }

    #[test]
    fn a_linked_list_ends_where_the_link_does() {
        assert_eq!(after(AT_ZERO, true, page(100, None)).unwrap().1, None);
        let next = after(
            AT_ZERO,
            true,
            page(100, Some(r#"<https://x/l?start=100&max=100>; rel="next""#)),
        )
        .unwrap()
        .1;
        assert_eq!(
            next,
            Some(Cursor {
                start: 100,
                max: 100
            })
        );
    }

    #[test]
    fn a_next_link_that_does_not_move_forward_is_an_error() {
        let error = after(
            Cursor {
                start: 100,
                max: 100,
            },
            true,
            page(100, Some(r#"<https://x/l?start=100>; rel="next""#)),
        )
        .unwrap_err();
        assert!(error.to_string().contains("does not follow"), "{error}");
    }
}
