//! Test helpers: a temporary workspace that runs the binary with the repository's pipelines, rules
//! and report queries, and the Python interpreter with the tests' independent tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python with duckdb and aiosmtpd (set by `scripts/test`), or `python3`.
pub fn python() -> String {
    std::env::var("CLOUDOPTIMA_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Run `tests/support/<script>` with `args`, `input` on its stdin; its stdout as JSON. A script that
/// fails fails the test with its stderr.
pub fn python_json(script: &str, args: &[&std::ffi::OsStr], input: &str) -> serde_json::Value {
    use std::io::Write as _;
    let mut child = Command::new(python())
        .arg(repo().join("tests/support").join(script))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{script}: {e}"));
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub pipelines: PathBuf,
    pub rules: PathBuf,
}

impl Workspace {
    /// A workspace using the repository's `pipelines/`.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("cloudoptima it ")
            .tempdir()
            .expect("temp dir");
        Workspace {
            dir,
            pipelines: repo().join("pipelines"),
            rules: repo().join("sql/rules"),
        }
    }

    /// A workspace with its own pipelines folder holding `files`.
    pub fn with_pipelines(files: &[(&str, &str)]) -> Self {
        let mut ws = Self::new();
        let p = ws.path().join("pipelines");
        std::fs::create_dir_all(&p).unwrap();
        for (name, text) in files {
            std::fs::write(p.join(name), text).unwrap();
        }
        ws.pipelines = p;
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cloudoptima"));
        c.current_dir(self.path())
            .arg("--pipelines")
            .arg(&self.pipelines)
            .arg("--rules")
            .arg(&self.rules)
            .arg("--report-sql")
            .arg(repo().join("sql/report"))
            .args(args)
            .env_remove("CLOUDOPTIMA_CONFIG")
            .env_remove("CLOUDOPTIMA_LAKE")
            .env_remove("CLOUDOPTIMA_PIPELINES");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("binary runs")
    }

    /// Run and require exit code 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "cloudoptima {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// `cloudoptima sql --format json` parsed.
    pub fn sql(&self, query: &str) -> Vec<serde_json::Value> {
        let out = self.ok(&["sql", "--format", "json", query]);
        serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("bad JSON from sql ({e}): {out}"))
    }

    pub fn count(&self, table: &str) -> i64 {
        let rows = self.sql(&format!("SELECT COUNT(*) AS n FROM {table}"));
        rows[0]["n"].as_i64().expect("count is an integer")
    }
}

/// Copy the folder `from` (recursively) to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let p = entry.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// Every file directly in `dir` with extension `ext`.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Azurite's blob service, started for one test and stopped when dropped.
pub struct Azurite {
    child: std::process::Child,
    pub port: u16,
}

impl Azurite {
    /// Start Azurite with its data under `dir` and create `container`.
    pub fn start(dir: &Path, container: &str) -> Self {
        let bin = std::env::var("CLOUDOPTIMA_TEST_AZURITE").unwrap_or_else(|_| {
            repo()
                .join("target/azurite/node_modules/.bin/azurite-blob")
                .display()
                .to_string()
        });
        let port = free_port();
        let child = Command::new(&bin)
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &port.to_string(),
                "--silent",
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry", // never phone home: tests talk to loopback only
            ])
            .arg("--location")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start Azurite ({bin}): {e}; run ./scripts/test, which installs it")
            });
        let azurite = Azurite { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "Azurite did not listen on {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let out = Command::new(python())
            .arg(repo().join("tests/support/azurite_container.py"))
            .args([&port.to_string(), container])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "create container: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        azurite
    }

    /// Environment that points object_store at this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
            (
                "AZURITE_BLOB_STORAGE_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
        ]
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Azure API emulator (`tests/support/azure_emulator.py`), stopped when dropped.
pub struct AzureEmulator {
    server: Served,
}

impl AzureEmulator {
    pub fn start() -> Self {
        let fixtures = repo().join("tests/fixtures/azure-api");
        let server = Served::start("azure_emulator.py", &[fixtures.as_os_str()]);
        AzureEmulator { server }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
    }

    /// `config/cloudoptima.toml` text: the lake in `lake`, every Azure endpoint on the emulator,
    /// managed identity, short retry delays.
    pub fn config(&self, lake: &str) -> String {
        let url = self.url();
        format!(
            "[lake]\nurl = \"{lake}\"\n\n[azure]\nauth = \"managed_identity\"\n\n\
             [azure.endpoints]\nresource_manager = \"{url}\"\nmetrics = \"{url}\"\n\
             retail_prices = \"{url}\"\n\n[azure.retry]\nmax_attempts = 4\nbase_delay_ms = 50\n\
             max_delay_secs = 10\ntimeout_secs = 3\n"
        )
    }

    /// The App Service managed-identity variables that point azure_identity at the emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("IDENTITY_ENDPOINT", format!("{}/msi/token", self.url())),
            ("IDENTITY_HEADER", "emulator-identity-secret".into()),
        ]
    }

    /// One request to the emulator's control endpoints.
    pub fn call(&self, method: &str, path: &str, body: &serde_json::Value) -> serde_json::Value {
        use std::io::{Read, Write};
        let body = body.to_string();
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.server.port)).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (_, json) = response.split_once("\r\n\r\n").expect("HTTP response");
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{path}: {e}: {json}"))
    }

    pub fn faults(&self, faults: serde_json::Value) {
        self.call("POST", "/_emulator/faults", &faults);
    }

    pub fn log(&self) -> Vec<serde_json::Value> {
        self.call("GET", "/_emulator/log", &serde_json::Value::Null)
            .as_array()
            .cloned()
            .unwrap()
    }

    pub fn truth(&self) -> serde_json::Value {
        self.call("GET", "/_emulator/truth", &serde_json::Value::Null)
    }
}

/// A test server from `tests/support/` that prints its port and serves until its stdin closes;
/// dropping this closes its stdin and, should it still run, kills it.
pub struct Served {
    child: std::process::Child,
    pub port: u16,
}

impl Served {
    pub fn start(script: &str, args: &[&std::ffi::OsStr]) -> Served {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = Command::new(python())
            .arg(repo().join("tests/support").join(script))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {script}: {e}"));
        let mut port = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        let port = port
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{script} printed no port: {port:?}"));
        Served { child, port }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `url` (plain HTTP) and parse its JSON body; std only, so the tests need no HTTP client.
pub fn http_get_json(url: &str) -> Vec<serde_json::Value> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    let json = body.split_once("\r\n\r\n").expect("headers end").1;
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}
