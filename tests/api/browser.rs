//! The browser the dashboard test drives: Debian's Chromium over WebDriver (chromedriver, on a
//! free port, killed when dropped) through fantoccini, and the few moves a test makes in it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, killed when dropped.
pub(crate) struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn start_driver() -> Driver {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: the dashboard test needs Debian's `chromium` and `chromium-driver` (apt-get install chromium chromium-driver)"
        );
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Owned by `Driver` at once, so that it is killed however this ends.
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
        port,
    );
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return driver;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("chromedriver did not listen on port {port}");
}

pub(crate) async fn browser(driver: &Driver) -> Client {
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--disable-sync", "--window-size=1280,1000",
            ],
        }
    });
    let capabilities = match capabilities {
        Value::Object(map) => map,
        _ => unreachable!(),
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("a WebDriver session")
}

/// Waits until the page named `title` has rendered (its fetches done: `data-ready`).
pub(crate) async fn ready(client: &Client, title: &str) {
    let script =
        "const m = document.querySelector('main'); return [document.title, m && m.dataset.ready];";
    for _ in 0..300 {
        let state = client.execute(script, vec![]).await.unwrap();
        if state[0].as_str().is_some_and(|t| t.starts_with(title)) && state[1] == "1" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let state = client.execute(script, vec![]).await.unwrap();
    panic!("`{title}` never became ready: {state}");
}

pub(crate) async fn click(client: &Client, css: &str) {
    let element = client.find(Locator::Css(css)).await;
    element
        .unwrap_or_else(|e| panic!("no `{css}`: {e}"))
        .click()
        .await
        .unwrap();
}

pub(crate) async fn eval(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap()
}

/// The text of the first element `css` selects (null when there is none).
pub(crate) async fn text_of(client: &Client, css: &str) -> Value {
    let css = serde_json::to_string(css).unwrap();
    eval(
        client,
        &format!("const e = document.querySelector({css}); return e && e.textContent"),
    )
    .await
}

/// The whole page at desktop and phone width, under target/screenshots/.
pub(crate) async fn screenshots(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    for (label, width) in [("desktop", 1280), ("phone", 390)] {
        client.set_window_size(width, 900).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        // The window as tall as the page, so that the screenshot holds all of it.
        let tall = eval(client, "return document.documentElement.scrollHeight").await;
        let height = tall.as_u64().unwrap_or(900).clamp(600, 6000) as u32;
        client.set_window_size(width, height + 120).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}-{label}.png")), png).unwrap();
    }
    client.set_window_size(1280, 1000).await.unwrap();
}

/// Waits until `script` returns `expected` (a page's own fetch, outside `render`).
pub(crate) async fn shows(client: &Client, script: &str, expected: &Value) {
    let mut shown = Value::Null;
    for _ in 0..200 {
        shown = eval(client, script).await;
        if &shown == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(&shown, expected, "{script}");
}
