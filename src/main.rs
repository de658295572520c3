//! Entry point of the web app: render [`playground::App`] into `<body>`.

fn main() {
    yew::Renderer::<playground::App>::new().render();
}
