//! A minimal WebDriver client (W3C protocol over plain HTTP on loopback) driving Debian's
//! headless Chromium through chromedriver — real clicks in a real browser, no extra crate.
//! Kept rather than `fantoccini` or `thirtyfour`: they bring an HTTP client stack and an async
//! runtime into the test build for the ten WebDriver calls these tests make.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

fn which(names: &[&str]) -> Option<String> {
    names.iter().find(|p| std::path::Path::new(p).exists()).map(|s| (*s).to_owned())
}

/// `name` on the PATH.
fn on_path(name: &str) -> Option<String> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file()).map(|p| p.to_string_lossy().into_owned())
}

impl Browser {
    /// `None` (with a note) where Chromium or chromedriver is not installed.
    pub fn start(test: &str) -> Option<Browser> {
        if cfg!(windows) {
            // The page is the same on every system; on Windows the Linux binaries a Wine run
            // would find cannot open its `C:\` paths.
            println!("{test}: skipped: the browser tests run on Linux and macOS");
            return None;
        }
        let chromium = which(&["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]).or_else(|| on_path("chromium"));
        let driver =
            which(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]).or_else(|| on_path("chromedriver")).or_else(|| {
                let d = std::path::Path::new(&std::env::var_os("CHROMEWEBDRIVER")?).join("chromedriver");
                d.is_file().then(|| d.to_string_lossy().into_owned())
            });
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            println!("{test}: skipped: Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        // From here on, dropping the browser stops the driver, even if a step below panics.
        let mut browser = Browser { driver: child, port, session: String::new(), _profile: tempfile::tempdir().unwrap() };
        let deadline = Instant::now() + Duration::from_secs(20);
        while http(port, "GET", "/status", "").is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = browser._profile.path().to_path_buf();
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
                     "--window-size=1400,1000", format!("--user-data-dir={}", profile.display())]
        }}}});
        let v = browser.call("POST", "/session", caps);
        browser.session = v["sessionId"].as_str().expect("a session").to_owned();
        Some(browser)
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let body = if body.is_null() { String::new() } else { body.to_string() };
        let (status, text) = http(self.port, method, path, &body).expect("chromedriver answers");
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(status < 300, "{method} {path}: {status} {text}");
        v["value"].clone()
    }

    fn at(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", &self.at("/url"), json!({ "url": url }));
    }

    pub fn eval(&self, script: &str) -> Value {
        self.call("POST", &self.at("/execute/sync"), json!({ "script": script, "args": [] }))
    }

    pub fn find(&self, css: &str) -> String {
        let v = self.call("POST", &self.at("/element"), json!({ "using": "css selector", "value": css }));
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("an element for {css}: {v}")).to_owned()
    }

    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &self.at(&format!("/element/{id}/click")), json!({}));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call("POST", &self.at(&format!("/element/{id}/value")), json!({ "text": text }));
    }

    /// Sets the window's outer size.
    pub fn resize(&self, width: u32, height: u32) {
        self.call("POST", &self.at("/window/rect"), json!({ "width": width, "height": height }));
    }

    /// Makes the page's viewport `width` × `height` CSS pixels, as a phone's (`mobile`) or a
    /// desktop's, through Chromium's DevTools protocol (a window cannot be made this narrow).
    pub fn emulate(&self, width: u32, height: u32, mobile: bool) {
        self.call(
            "POST",
            &self.at("/goog/cdp/execute"),
            json!({ "cmd": "Emulation.setDeviceMetricsOverride", "params": { "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile } }),
        );
    }

    pub fn screenshot_png(&self) -> Vec<u8> {
        base64_decode(self.call("GET", &self.at("/screenshot"), Value::Null).as_str().expect("base64"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(self.port, "DELETE", &format!("/session/{}", self.session), "");
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One HTTP/1.1 request on loopback; (status, body).
fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    // Read the head, then exactly the body: the driver may keep the connection open.
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break raw.len();
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end.min(raw.len())]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let length = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let have = raw.len() - head_end.min(raw.len());
        let done = match length {
            Some(n) => have >= n,
            None if chunked => raw.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let rest = String::from_utf8_lossy(&raw[head_end.min(raw.len())..]).into_owned();
    let body = if chunked { dechunk(&rest) } else { rest };
    Ok((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
