//! Where a session lives outside the page: local storage (so a reload
//! keeps it), a share link (`#session=` + base64url JSON) and a file.
//! Everything read back goes through `Session::open`, which refuses what
//! it cannot trust; a refused session never replaces the current one.

use kafkasim_engine::{KafkaError, Session};

const STORAGE_KEY: &str = "kafkasim.session";
const LINK_PREFIX: &str = "#session=";

/// Saves the session for the next reload; storage may be full or off
/// (private windows), in which case the page just does not remember.
pub fn save(session: &Session) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(&session.to_file())) {
        let _ = storage.set_item(STORAGE_KEY, &text);
    }
}

/// The session a share link in the address bar carries, if any.
pub fn from_link() -> Option<Result<Session, KafkaError>> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let encoded = hash.strip_prefix(LINK_PREFIX)?;
    Some(decode_link(encoded))
}

/// The session saved by the last visit, if any.
pub fn from_storage() -> Option<Result<Session, KafkaError>> {
    let text = storage()?.get_item(STORAGE_KEY).ok()??;
    Some(Session::open(&text))
}

/// Removes the share link from the address bar once it has been opened, so
/// a reload shows the user's own progress rather than the link again.
pub fn clear_link() {
    if let Some(w) = web_sys::window() {
        if let (Ok(history), Ok(path)) = (w.history(), w.location().pathname()) {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
        }
    }
}

/// A link that opens this session, as it is now, in another browser.
pub fn share_link(session: &Session) -> String {
    let text = serde_json::to_string(&session.to_file()).unwrap_or_default();
    let base = web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?))
        })
        .unwrap_or_default();
    format!("{base}{LINK_PREFIX}{}", base64url_encode(text.as_bytes()))
}

fn decode_link(encoded: &str) -> Result<Session, KafkaError> {
    let refused = || {
        KafkaError::new(
            kafkasim_engine::ErrorCode::InvalidScenario,
            "The share link is damaged (it is not base64url); the current session was kept.",
        )
    };
    let bytes = base64url_decode(encoded).ok_or_else(refused)?;
    let text = String::from_utf8(bytes).map_err(|_| refused())?;
    Session::open(&text)
}

/// The page's local storage, if the browser allows it.
pub fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// RFC 4648 base64url without padding. Twenty lines here instead of a crate:
/// every dependency counts against the 150 KB download.
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The inverse of `base64url_encode`; `None` for anything else (padding is
/// tolerated, as some mail clients add it).
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u32> = text
        .trim_end_matches('=')
        .bytes()
        .map(|c| ALPHABET.iter().position(|a| *a == c).map(|p| p as u32))
        .collect::<Option<_>>()?;
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | (d << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors() {
        // RFC 4648 section 10, without padding.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url_encode(plain.as_bytes()), encoded);
            assert_eq!(base64url_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64url_decode("Zm9v!"), None);
        assert_eq!(base64url_decode("Z"), None);
    }

    #[test]
    fn every_byte_survives_a_round_trip() {
        let all: Vec<u8> = (0..=255).collect();
        for len in 0..all.len() {
            let bytes = &all[..len];
            assert_eq!(base64url_decode(&base64url_encode(bytes)).unwrap(), bytes);
        }
    }
}
