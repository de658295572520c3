//! The browser edge: URL, local storage, clipboard, downloads and files. Thin wrappers over
//! `web-sys` that never panic (every failure is a `None`/`false`), so components stay free of
//! JS plumbing. Nothing here decides whether storage may be used: callers check embed mode.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The local-storage key holding the autosaved editor state (a share-link payload).
pub const AUTOSAVE_KEY: &str = "policy-playground.autosave";

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// `location.search`, e.g. `?embed=1`.
pub fn location_search() -> String {
    window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// `location.hash` without the `#`.
pub fn location_hash() -> String {
    let hash = window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    hash.strip_prefix('#').unwrap_or(&hash).to_string()
}

/// `origin + pathname`: the page address without query or fragment.
pub fn page_url() -> String {
    let Some(location) = window().map(|w| w.location()) else {
        return String::new();
    };
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    format!("{origin}{path}")
}

/// Drops the fragment from the address bar without reloading (after a link was opened, so a
/// reload shows the autosave of later edits instead of the link's original state).
pub fn clear_hash() {
    let Some(w) = window() else { return };
    let search = location_search();
    let path = w.location().pathname().unwrap_or_default();
    if let Ok(history) = w.history() {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{search}")),
        );
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    window().and_then(|w| w.local_storage().ok().flatten())
}

pub fn load_autosave() -> Option<String> {
    local_storage().and_then(|s| s.get_item(AUTOSAVE_KEY).ok().flatten())
}

pub fn save_autosave(payload: &str) {
    if let Some(s) = local_storage() {
        let _ = s.set_item(AUTOSAVE_KEY, payload);
    }
}

pub fn clear_autosave() {
    if let Some(s) = local_storage() {
        let _ = s.remove_item(AUTOSAVE_KEY);
    }
}

/// Writes `text` to the clipboard; `done(true)` on success, `done(false)` when the clipboard
/// is unavailable or refused (the caller then shows the text to copy by hand).
pub fn copy_text(text: String, done: impl FnOnce(bool) + 'static) {
    let Some(w) = window() else {
        done(false);
        return;
    };
    let navigator = w.navigator();
    // `navigator.clipboard` is undefined on insecure origins: check before calling.
    let has_clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into())
        .map(|v| !v.is_undefined() && !v.is_null())
        .unwrap_or(false);
    if !has_clipboard {
        done(false);
        return;
    }
    let promise = navigator.clipboard().write_text(&text);
    wasm_bindgen_futures::spawn_local(async move {
        done(JsFuture::from(promise).await.is_ok());
    });
}

/// Offers `content` as a file download.
pub fn download(filename: &str, mime: &str, content: &str) -> bool {
    let Some(document) = window().and_then(|w| w.document()) else {
        return false;
    };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(content));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return false;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return false;
    };
    let Some(anchor) = document
        .create_element("a")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    else {
        return false;
    };
    anchor.set_href(&url);
    anchor.set_download(filename);
    anchor.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    true
}

/// Reads a file as text (UTF-8) and hands the result to `done`.
pub fn read_file(file: web_sys::File, done: impl FnOnce(Result<String, String>) + 'static) {
    let name = file.name();
    let promise = file.text();
    wasm_bindgen_futures::spawn_local(async move {
        let res = match JsFuture::from(promise).await {
            Ok(v) => v
                .as_string()
                .ok_or_else(|| format!("`{name}` is not a text file")),
            Err(_) => Err(format!("could not read `{name}`")),
        };
        done(res);
    });
}

/// The outer HTML of the element with this id (for the SVG export).
pub fn outer_html(id: &str) -> Option<String> {
    window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .map(|e| e.outer_html())
}
