//! Webex-style IDs, and the percent-encoding they travel in.

pub(crate) use crate::runtime::base64;

/// The ID Webex gives a call pickup named `name`.
///
/// It is base64 of `ciscospark://us/CALL_PICKUP/` followed by base64 of the
/// name. As in the Webex docs' example, the inner base64 keeps its `=`
/// padding and the outer one drops it: `callPickup2` has the ID
/// `Y2lzY29zcGFyazovL3VzL0NBTExfUElDS1VQL1kyRnNiRkJwWTJ0MWNEST0`.
///
/// ```
/// assert_eq!(
///     webex_calling::fake::call_pickup_id("callPickup2"),
///     "Y2lzY29zcGFyazovL3VzL0NBTExfUElDS1VQL1kyRnNiRkJwWTJ0MWNEST0",
/// );
/// ```
pub fn call_pickup_id(name: &str) -> String {
    let uri = format!(
        "ciscospark://us/CALL_PICKUP/{}",
        base64(name.as_bytes(), true)
    );
    base64(uri.as_bytes(), false)
}

/// Decodes `%XX` escapes. `None` when an escape is broken or the result is
/// not UTF-8.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'%' => {
                let high = hex_value(*bytes.get(i + 1)?)?;
                let low = hex_value(*bytes.get(i + 2)?)?;
                out.push((high << 4) | low);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// The decoded `name=value` pairs of a query string.
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(name, true)?, percent_decode(value, true)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_only_when_asked() {
        assert_eq!(base64(b"callPickup2", true), "Y2FsbFBpY2t1cDI=");
        assert_eq!(base64(b"callPickup2", false), "Y2FsbFBpY2t1cDI");
        assert_eq!(base64(b"ab", true), "YWI=");
        assert_eq!(base64(b"abc", true), "YWJj");
        assert_eq!(base64(b"", true), "");
        assert_eq!(base64(&[0xfb, 0xff], true), "+/8=");
    }

    #[test]
    fn call_pickup_ids_match_the_docs_example() {
        assert_eq!(
            call_pickup_id("callPickup2"),
            "Y2lzY29zcGFyazovL3VzL0NBTExfUElDS1VQL1kyRnNiRkJwWTJ0MWNEST0"
        );
        assert_eq!(
            call_pickup_id("callPickup1"),
            "Y2lzY29zcGFyazovL3VzL0NBTExfUElDS1VQL1kyRnNiRkJwWTJ0MWNERT0"
        );
    }

    #[test]
    fn percent_decoding_restores_slashes_plus_and_equals() {
        assert_eq!(
            percent_decode("a%2Fb%2Bc%3D%3d", false).as_deref(),
            Some("a/b+c==")
        );
        assert_eq!(percent_decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(percent_decode("a+b", true).as_deref(), Some("a b"));
        assert_eq!(percent_decode("%C3%A9", false).as_deref(), Some("é"));
    }

    #[test]
    fn broken_escapes_do_not_decode() {
        for text in ["%", "%2", "%zz", "%+1", "%FF"] {
            assert_eq!(percent_decode(text, false), None, "{text}");
        }
    }

    #[test]
    fn query_pairs_are_decoded() {
        assert_eq!(
            query_pairs("orgId=a%2Bb&x&=y"),
            vec![
                ("orgId".to_string(), "a+b".to_string()),
                ("x".to_string(), String::new()),
                (String::new(), "y".to_string()),
            ]
        );
    }
}
