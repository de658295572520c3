//! Share controls: "Copy link" (the whole state in the URL fragment) and "Copy embed snippet"
//! (an `<iframe>` for docs). Uses the clipboard when the browser allows it; otherwise, and always
//! as a confirmation, shows the text in a read-only field to copy by hand.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::browser;

#[derive(Properties, PartialEq)]
pub struct ShareProps {
    /// Builds the share link for the current state.
    pub make_link: Callback<(), String>,
    /// Builds the iframe snippet for the current state.
    pub make_snippet: Callback<(), String>,
}

#[component]
pub fn ShareBar(props: &ShareProps) -> Html {
    // (what was produced, the text, whether the clipboard took it)
    let shown = use_state(|| None::<(&'static str, String, Option<bool>)>);
    let field_ref = use_node_ref();
    let copy = |what: &'static str, make: Callback<(), String>| {
        let shown = shown.clone();
        Callback::from(move |_: MouseEvent| {
            let text = make.emit(());
            shown.set(Some((what, text.clone(), None)));
            let shown = shown.clone();
            let copied = text.clone();
            browser::copy_text(text, move |ok| shown.set(Some((what, copied, Some(ok)))));
        })
    };
    // Select the shown text so Ctrl+C works right away.
    {
        let field_ref = field_ref.clone();
        use_effect_with((*shown).clone(), move |_| {
            if let Some(input) = field_ref.cast::<HtmlInputElement>() {
                input.select();
            }
        });
    }
    html! {
        <div class="share">
            <button type="button" id="copy-link" onclick={copy("link", props.make_link.clone())}
                title="Copy a link that holds the YAML, settings, selection and expectations">
                { "Copy link" }
            </button>
            <button type="button" id="copy-embed" onclick={copy("embed snippet", props.make_snippet.clone())}
                title="Copy an <iframe> that embeds this state in a docs page">
                { "Embed snippet" }
            </button>
            if let Some((what, text, ok)) = &*shown {
                <div class="share-out" role="status">
                    <span class="share-status">{ match ok {
                        Some(true) => format!("{what} copied"),
                        Some(false) => format!("copy the {what}:"),
                        None => format!("{what}:"),
                    } }</span>
                    <input id="share-output" ref={field_ref} type="text" readonly=true
                        value={text.clone()} aria-label={format!("The {what}")} />
                    <button type="button" class="close" aria-label="Close"
                        onclick={let shown = shown.clone(); move |_| shown.set(None)}>{ "×" }</button>
                </div>
            }
        </div>
    }
}
