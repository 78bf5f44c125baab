//! Where a session lives outside the page: local storage (so a reload
//! keeps it), a share link and a file. A share link is `#z=` + base64url of
//! the session's JSON compressed with deflate-raw by the browser's own
//! `CompressionStream` (no compressor in the download); `#session=` +
//! base64url JSON, the first format, still opens.
//! Everything read back goes through `Session::open`, which refuses what
//! it cannot trust; a refused session never replaces the current one.

use kafkasim_engine::{KafkaError, Session};
use wasm_bindgen::JsValue;

const STORAGE_KEY: &str = "kafkasim.session";
const LINK_PREFIX: &str = "#session=";
const PACKED_PREFIX: &str = "#z=";

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

/// Whether an address's `#…` is a shared session.
pub fn is_session_link(hash: &str) -> bool {
    hash.starts_with(LINK_PREFIX) || hash.starts_with(PACKED_PREFIX)
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

/// A link that opens the session `text` (its file's JSON), as it is now, in
/// another browser: compressed when the browser can, plain otherwise.
pub async fn share_link(text: String) -> String {
    let base = web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?))
        })
        .unwrap_or_default();
    match deflate(text.as_bytes()).await {
        Ok(packed) => format!("{base}{PACKED_PREFIX}{}", base64url_encode(&packed)),
        Err(_) => format!("{base}{LINK_PREFIX}{}", base64url_encode(text.as_bytes())),
    }
}

/// The compressed session a share link in the address bar carries, still
/// encoded: opening it waits for the browser's decompressor.
pub fn packed_link() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    hash.strip_prefix(PACKED_PREFIX).map(str::to_string)
}

/// The session JSON inside a `#z=` link. A link that is not base64url, not
/// deflate-raw, not UTF-8 or that unpacks beyond the session size limit is
/// refused before anything is parsed.
pub async fn unpack_link(encoded: &str) -> Result<String, KafkaError> {
    let refused = |why: &str| {
        KafkaError::new(
            kafkasim_engine::ErrorCode::InvalidScenario,
            format!("The share link is damaged ({why}); the current session was kept."),
        )
    };
    let packed = base64url_decode(encoded).ok_or_else(|| refused("it is not base64url"))?;
    let limit = kafkasim_engine::run::scenario::MAX_SCENARIO_BYTES;
    let bytes = inflate(&packed, limit)
        .await
        .map_err(|_| refused("it does not unpack to a session of at most 2 MiB"))?;
    String::from_utf8(bytes).map_err(|_| refused("it is not UTF-8 text"))
}

// The Compression Streams API: in every current browser, but behind
// `web_sys_unstable_apis` in web-sys, so bound here.
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    type CompressionStream;
    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<CompressionStream, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn readable(this: &CompressionStream) -> web_sys::ReadableStream;
    #[wasm_bindgen(method, getter)]
    fn writable(this: &CompressionStream) -> web_sys::WritableStream;

    type DecompressionStream;
    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<DecompressionStream, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn readable(this: &DecompressionStream) -> web_sys::ReadableStream;
    #[wasm_bindgen(method, getter)]
    fn writable(this: &DecompressionStream) -> web_sys::WritableStream;
}

/// deflate-raw through the browser's `CompressionStream`.
async fn deflate(bytes: &[u8]) -> Result<Vec<u8>, JsValue> {
    let codec = CompressionStream::new("deflate-raw")?;
    let pair = web_sys::ReadableWritablePair::new(&codec.readable(), &codec.writable());
    read_all(as_stream(bytes)?.pipe_through(&pair), usize::MAX).await
}

/// The inverse of `deflate`, stopping once the output passes `limit` bytes
/// (a small link could otherwise unpack to gigabytes).
async fn inflate(bytes: &[u8], limit: usize) -> Result<Vec<u8>, JsValue> {
    let codec = DecompressionStream::new("deflate-raw")?;
    let pair = web_sys::ReadableWritablePair::new(&codec.readable(), &codec.writable());
    read_all(as_stream(bytes)?.pipe_through(&pair), limit).await
}

fn as_stream(bytes: &[u8]) -> Result<web_sys::ReadableStream, JsValue> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    Ok(web_sys::Blob::new_with_u8_array_sequence(&parts)?.stream())
}

async fn read_all(stream: web_sys::ReadableStream, limit: usize) -> Result<Vec<u8>, JsValue> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut out = Vec::new();
    loop {
        let step = JsFuture::from(reader.read()).await?;
        if js_sys::Reflect::get(&step, &"done".into())?.is_truthy() {
            return Ok(out);
        }
        let chunk = js_sys::Uint8Array::new(&js_sys::Reflect::get(&step, &"value".into())?);
        out.extend(chunk.to_vec());
        if out.len() > limit {
            let _ = reader.cancel();
            return Err("too large".into());
        }
    }
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
