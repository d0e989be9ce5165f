//! End-to-end tests of the built `relais` binary: help texts, `post check`, and a whole session
//! (users, workspaces, channels, posts, CSV import) on SQLite and, when
//! `RELAIS_TEST_DATABASE_URL` is set (required when `CI` is set), on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use relais_store::testing::postgres_admin_url;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PASSWORD: &str = "correct horse battery staple";
const SECRET: &str = "SECRET-XYZ-123";

/// What one run of the binary produced.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success, got {self:#?}");
        self
    }

    #[track_caller]
    fn fails(self) -> Run {
        assert_ne!(self.code, 0, "expected a failure, got {self:#?}");
        self
    }

    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// One isolated Relais installation: its own data directory and, optionally, its own PostgreSQL
/// database.
struct Env {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Env {
    fn sqlite() -> Env {
        Env { dir: tempfile::tempdir().expect("temporary directory"), database_url: None }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, args: &[&str], envs: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_relais"));
        for var in [
            "RELAIS_DATA_DIR",
            "RELAIS_DATABASE_URL",
            "RELAIS_SECRET_KEY",
            "RELAIS_PASSWORD",
            "RELAIS_CHANNEL_CREDENTIALS",
            "RELAIS_LANG",
            "RELAIS_LOG",
            "RELAIS_ALLOW_HOSTS",
            "RELAIS_BLUESKY_APPVIEW",
        ] {
            cmd.env_remove(var);
        }
        cmd.arg("--data-dir").arg(self.data_dir()).args(args).envs(envs.iter().copied());
        if let Some(url) = &self.database_url {
            cmd.env("RELAIS_DATABASE_URL", url);
        }
        cmd
    }

    fn run_with(&self, args: &[&str], envs: &[(&str, &str)], stdin: Option<&str>) -> Run {
        let mut cmd = self.command(args, envs);
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run relais");
        if let Some(input) = stdin {
            child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait for relais");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[], None)
    }
}

fn next_year() -> i16 {
    jiff::Zoned::now().year() + 1
}

/// Lines of `post list` (one per post).
fn post_lines(env: &Env, ws: &str) -> Vec<String> {
    env.run(&["post", "list", "--workspace", ws, "--as", "a@example.fr"])
        .ok()
        .stdout
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The number after `created <what> ` in a command's output.
fn created_id(run: &Run, what: &str) -> String {
    let prefix = format!("created {what} ");
    let rest =
        run.stdout.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no `{prefix}` in {run:#?}"));
    rest.split_whitespace().next().expect("an id").to_owned()
}

fn every_file(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read data dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            every_file(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// Help

#[test]
fn help_of_every_command() {
    let env = Env::sqlite();
    let cases: &[(&[&str], &str)] = &[
        (&[], "self-hosted workbench"),
        (&["serve"], "REST API"),
        (&["migrate"], "database schema"),
        (&["user"], "Manage accounts"),
        (&["user", "create"], "Create an account"),
        (&["user", "token"], "API token"),
        (&["workspace"], "Manage workspaces"),
        (&["workspace", "create"], "Create a workspace"),
        (&["workspace", "list"], "List an account's workspaces"),
        (&["channel"], "Manage channels"),
        (&["channel", "add"], "Connect a channel"),
        (&["channel", "list"], "List a workspace's channels"),
        (&["post"], "Check, create and list posts"),
        (&["post", "check"], "Validate a text"),
        (&["post", "create"], "Create a post"),
        (&["post", "list"], "List a workspace's posts"),
        (&["import"], "Import posts from a CSV"),
        (&["docs"], "reference documentation"),
        (&["docs", "permissions"], "permission matrix"),
        (&["listen"], "Social listening"),
        (&["listen", "enrich"], "sentiment score"),
        (&["listen", "explain"], "why a post matches"),
    ];
    for (path, purpose) in cases {
        let mut args = path.to_vec();
        args.push("--help");
        let run = env.run(&args).ok();
        assert!(run.stdout.contains(purpose), "`relais {}` does not mention {purpose:?}: {run:#?}", args.join(" "));
        assert!(run.stdout.contains("Usage: relais"), "{run:#?}");
    }
    assert!(!env.data_dir().exists(), "--help must not create the data directory");
}

#[test]
fn docs_permissions_prints_the_markdown_matrix() {
    let env = Env::sqlite();
    let run = env.run(&["docs", "permissions"]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("| action |"), "{run:#?}");
    for role in ["owner", "admin", "editor", "contributor", "viewer"] {
        assert!(lines[0].contains(role), "role {role} missing: {}", lines[0]);
    }
    assert!(lines[1].starts_with("|---|"), "{run:#?}");
    assert!(lines.len() > 3);
    assert!(lines[2..].iter().all(|l| l.starts_with("| ") && l.ends_with('|')), "{run:#?}");
    assert!(run.stdout.contains('✓') && run.stdout.contains('—'));
}

// ---------------------------------------------------------------------------------------------
// listen explain

#[test]
fn listen_explain_shows_each_node_and_exits_by_match() {
    let env = Env::sqlite();
    let q = "café* (grève OR sncf) -promo lang:fr";
    let run = env.run(&["listen", "explain", q, "--text", "Deux CAFÉS, la SNCF en grève", "--post-lang", "fr"]).ok();
    assert!(run.stdout.contains("✓ cafe*  — trouvé dans le texte au mot 2"), "{run:#?}");
    assert!(run.stdout.contains("✗ promo  — absent du texte"), "{run:#?}");
    assert!(run.stdout.trim_end().ends_with("=> le post correspond"), "{run:#?}");
    let run = env.run(&["listen", "explain", q, "--text", "Deux cafés en promo", "--lang", "en"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stdout.contains("✗ lang:fr  — the post has no language"), "{run:#?}");
    let run = env.run(&["listen", "explain", "a b OR c", "--text", "a", "--lang", "en"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stdout.contains("    ^\n[query.mixed_and_or] AND and OR are mixed"), "{run:#?}");
    assert!(!env.data_dir().exists(), "explain must not create the data directory");
}

// ---------------------------------------------------------------------------------------------
// post check

#[test]
fn post_check_prints_one_line_per_network() {
    let env = Env::sqlite();
    let run = env.run(&["post", "check", "--network", "bluesky,x,mastodon", "--text", "Bonjour à tous !"]).ok();
    for network in ["bluesky", "x", "mastodon"] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(network))
            .unwrap_or_else(|| panic!("no {network} line: {run:#?}"));
        assert!(line.trim_end().ends_with("ok"), "{line}");
    }
    assert!(!run.stdout.contains("PROBLEM"));
}

#[test]
fn post_check_too_long_for_bluesky_exits_1() {
    let env = Env::sqlite();
    let text = "a".repeat(301);
    let run = env.run(&["post", "check", "--network", "bluesky", "--text", &text, "--lang", "en"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stdout.contains("PROBLEM"), "{run:#?}");
    assert!(run.stdout.contains("301") && run.stdout.contains("300"), "{run:#?}");
    assert!(run.stdout.contains("- ["), "the problem itself is printed: {run:#?}");
    // Exactly at the limit is fine.
    env.run(&["post", "check", "--network", "bluesky", "--text", &"a".repeat(300)]).ok();
}

#[test]
fn post_check_json_counts_hard_cases() {
    let env = Env::sqlite();
    let family = "👨‍👩‍👧‍👦";
    let run = env.run(&["post", "check", "--network", "bluesky,x,mastodon", "--text", family, "--json"]).ok();
    let reports: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON output");
    let reports = reports.as_array().expect("a JSON array");
    assert_eq!(reports.len(), 3);
    for r in reports {
        for key in ["network", "counted", "limit", "problems"] {
            assert!(r.get(key).is_some(), "missing {key} in {r}");
        }
        assert!(r["problems"].as_array().expect("problems array").is_empty(), "{r}");
    }
    let by = |n: &str| reports.iter().find(|r| r["network"] == n).unwrap_or_else(|| panic!("no {n} report"));
    assert_eq!(by("x")["counted"], 2, "an emoji sequence weighs 2 on X");
    assert_eq!(by("x")["limit"], 280);
    assert_eq!(by("bluesky")["counted"], 1, "one grapheme on Bluesky");
    assert_eq!(by("bluesky")["limit"], 300);
    assert_eq!(by("mastodon")["limit"], 500);

    // A URL counts 23 on X whatever its length.
    let url = format!("https://example.com/{}", "x".repeat(100));
    let run = env.run(&["post", "check", "--network", "x", "--text", &url, "--json"]).ok();
    let reports: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON output");
    assert_eq!(reports[0]["counted"], 23, "{run:#?}");

    // Failing JSON run: still JSON, exit 1, with the problem listed.
    let run = env.run(&["post", "check", "--network", "bluesky", "--text", &"é".repeat(301), "--json"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let reports: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON output");
    assert_eq!(reports[0]["counted"], 301);
    assert!(!reports[0]["problems"].as_array().expect("problems").is_empty());
}

#[test]
fn post_check_reads_stdin_without_text() {
    let env = Env::sqlite();
    let run = env.run_with(&["post", "check", "--network", "bluesky", "--json"], &[], Some("hello\n")).ok();
    let reports: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON output");
    assert_eq!(reports[0]["counted"], 5, "text from stdin without its final newline: {run:#?}");
    let run = env.run_with(&["post", "check", "--network", "bluesky"], &[], Some(&"b".repeat(301)));
    assert_eq!(run.code, 1, "{run:#?}");
}

#[test]
fn post_check_unknown_network() {
    let env = Env::sqlite();
    let run = env.run(&["post", "check", "--network", "bluesky,myspace", "--text", "hi", "--lang", "en"]).fails();
    assert!(run.stderr.contains("unknown network `myspace`"), "{run:#?}");
    let run = env.run(&["post", "check", "--network", "myspace", "--text", "hi"]).fails();
    assert!(run.stderr.contains("myspace"), "{run:#?}");
    assert!(run.stdout.is_empty(), "{run:#?}");
}

// ---------------------------------------------------------------------------------------------
// A whole session, on each backend

#[test]
fn session_on_sqlite() {
    let env = Env::sqlite();
    session(&env);
    // SQLite: the secret appears in no file of the data directory (database, WAL, SHM…).
    let mut files = Vec::new();
    every_file(&env.data_dir(), &mut files);
    assert!(files.iter().any(|f| f.ends_with("relais.db")), "{files:?}");
    for file in &files {
        let bytes = std::fs::read(file).expect("read file");
        assert!(!contains(&bytes, SECRET.as_bytes()), "the channel secret is in clear in {}", file.display());
    }
}

#[test]
fn session_on_postgres() {
    let Some(admin) = postgres_admin_url("session_on_postgres") else { return };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let url = runtime.block_on(relais_store::testing::fresh_postgres_url(&admin)).expect("fresh PostgreSQL database");
    let env = Env { dir: tempfile::tempdir().expect("temporary directory"), database_url: Some(url) };
    session(&env);
    assert!(!env.data_dir().join("relais.db").exists(), "PostgreSQL mode must not create a SQLite file");
}

fn session(env: &Env) {
    let with_password = [("RELAIS_PASSWORD", PASSWORD)];
    let year = next_year();

    // migrate, twice.
    let first = env.run(&["migrate"]).ok();
    assert!(first.stdout.contains("database is up to date"), "{first:#?}");
    env.run(&["migrate"]).ok();

    // A password too short creates nothing.
    let run = env.run_with(
        &["user", "create", "--email", "short@example.fr", "--name", "S"],
        &[("RELAIS_PASSWORD", "short")],
        None,
    );
    assert!(run.fails().all().contains("12"), "the message gives the rule");
    env.run(&["user", "token", "--email", "short@example.fr"]).fails();

    // Users.
    let run = env.run_with(&["user", "create", "--email", "a@example.fr", "--name", "A"], &with_password, None).ok();
    assert!(run.stdout.contains("a@example.fr"), "{run:#?}");
    env.run_with(&["user", "create", "--email", "a@example.fr", "--name", "A again"], &with_password, None).fails();
    let token = env.run(&["user", "token", "--email", "a@example.fr"]).ok();
    assert!(token.stdout.trim().len() >= 20, "a token is printed: {token:#?}");
    // Password from stdin.
    env.run_with(&["user", "create", "--email", "b@example.fr", "--name", "B"], &[], Some(&format!("{PASSWORD}\n")))
        .ok();
    env.run(&["user", "token", "--email", "b@example.fr"]).ok();

    // Workspaces.
    let run = env.run(&["workspace", "create", "--name", "Brand", "--as", "a@example.fr"]).ok();
    let ws = created_id(&run, "workspace");
    let list = env.run(&["workspace", "list", "--as", "a@example.fr"]).ok();
    let line = list.stdout.lines().find(|l| l.starts_with(&format!("{ws}\t"))).unwrap_or_else(|| panic!("{list:#?}"));
    assert!(line.contains("Brand") && line.contains("Europe/Paris") && line.contains("owner"), "{line}");
    assert!(env.run(&["workspace", "list", "--as", "b@example.fr"]).ok().stdout.trim().is_empty());
    env.run(&["workspace", "create", "--name", "Nobody", "--as", "nobody@example.fr"]).fails();

    // Channels: Mastodon needs its server address; the credentials never reach the disk in clear.
    let run = env
        .run_with(
            &[
                "channel",
                "add",
                "--workspace",
                &ws,
                "--network",
                "mastodon",
                "--handle",
                "@x@example.social",
                "--as",
                "a@example.fr",
            ],
            &[("RELAIS_CHANNEL_CREDENTIALS", r#"{"access_token":"SECRET-XYZ-123"}"#)],
            None,
        )
        .fails();
    assert!(run.all().contains("instance_url"), "{run:#?}");
    assert!(env.run(&["channel", "list", "--workspace", &ws, "--as", "a@example.fr"]).ok().stdout.trim().is_empty());
    let run = env
        .run_with(
            &[
                "channel",
                "add",
                "--workspace",
                &ws,
                "--network",
                "mastodon",
                "--handle",
                "@x@example.social",
                "--instance-url",
                "https://example.social",
                "--as",
                "a@example.fr",
            ],
            &[("RELAIS_CHANNEL_CREDENTIALS", r#"{"access_token":"SECRET-XYZ-123"}"#)],
            None,
        )
        .ok();
    let channel = created_id(&run, "channel");
    assert!(!run.all().contains(SECRET), "the secret is not echoed: {run:#?}");
    let list = env.run(&["channel", "list", "--workspace", &ws, "--as", "a@example.fr"]).ok();
    assert!(list.stdout.starts_with(&format!("{channel}\tmastodon\t")), "{list:#?}");
    assert!(!list.all().contains(SECRET));
    // A stranger cannot add a channel to the workspace.
    env.run(&[
        "channel",
        "add",
        "--workspace",
        &ws,
        "--network",
        "bluesky",
        "--handle",
        "b.example",
        "--as",
        "b@example.fr",
    ])
    .fails();
    let key = env.data_dir().join("secret.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("secret.key exists").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "secret.key mode is {:o}", mode & 0o777);
    }
    // The stored credentials are ciphertext, on either backend.
    check_stored_credentials(env, &ws, &channel);

    // Posts.
    assert!(post_lines(env, &ws).is_empty());
    let at = format!("{year}-06-15T10:00");
    let run = env
        .run(&[
            "post",
            "create",
            "--workspace",
            &ws,
            "--channel",
            &channel,
            "--text",
            "hi",
            "--at",
            &at,
            "--as",
            "a@example.fr",
        ])
        .ok();
    let post = created_id(&run, "post");
    let lines = post_lines(env, &ws);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with(&format!("{post}\tscheduled\t")), "{lines:?}");
    assert!(lines[0].ends_with("\thi"), "{lines:?}");
    assert!(lines[0].contains(&format!("{year}-06-15")), "{lines:?}");
    // Bad input changes nothing: a past time, an unknown channel, a text too long, no --at.
    let bad: [&[&str]; 4] = [
        &["--channel", &channel, "--text", "past", "--at", "2001-01-01T10:00"],
        &["--channel", "999", "--text", "nowhere", "--at", &at],
        &["--channel", &channel, "--text", &"z".repeat(501), "--at", &at],
        &["--channel", &channel, "--text", "when?"],
    ];
    for extra in bad {
        let mut args = vec!["post", "create", "--workspace", &ws, "--as", "a@example.fr"];
        args.extend_from_slice(extra);
        env.run(&args).fails();
        assert_eq!(post_lines(env, &ws), lines, "a refused post must not be written ({extra:?})");
    }
    // A draft.
    env.run(&[
        "post",
        "create",
        "--workspace",
        &ws,
        "--channel",
        &channel,
        "--text",
        "draft",
        "--draft",
        "--as",
        "a@example.fr",
    ])
    .ok();
    let lines = post_lines(env, &ws);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].contains("\tdraft\t-\tdraft"), "drafts last, without due time: {lines:?}");
    // Another user is not a member.
    env.run(&["post", "list", "--workspace", &ws, "--as", "b@example.fr"]).fails();

    import(env, &ws, &channel, year, lines.len());
}

fn check_stored_credentials(env: &Env, ws: &str, channel: &str) {
    let url = env
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", env.data_dir().join("relais.db").display()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let store = relais_store::Store::connect(&url).await.expect("open the database");
        let c = store
            .channel(
                relais_domain::ids::WorkspaceId(ws.parse().expect("workspace id")),
                relais_domain::ids::ChannelId(channel.parse().expect("channel id")),
            )
            .await
            .expect("the channel");
        let stored = c.credentials.expect("credentials are stored");
        assert!(stored.len() > SECRET.len(), "ciphertext is stored");
        assert!(!contains(&stored, SECRET.as_bytes()), "credentials are stored in clear");
        store.close().await;
    });
}

fn csv(rows: &[String]) -> String {
    let mut out = String::from("date;time_24hr;message_text;link;image_url;channel\n");
    for r in rows {
        out.push_str(r);
        out.push('\n');
    }
    out
}

fn import(env: &Env, ws: &str, channel: &str, year: i16, existing: usize) {
    let dir = env.dir.path();
    let import = |file: &Path, dry: bool| {
        let mut args =
            vec!["import", "--workspace", ws, "--file", file.to_str().expect("utf-8 path"), "--as", "a@example.fr"];
        if dry {
            args.push("--dry-run");
        }
        env.run(&args)
    };
    let before = post_lines(env, ws);
    assert_eq!(before.len(), existing);

    // A file with problems: a dry run reports them and writes nothing.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        csv(&[
            format!("01/07/{year};09:00;Bonjour;;;{channel}"),
            "01/01/2001;09:00;Trop tard;;;".to_owned() + channel,
            format!("02/07/{year};09:00;Nulle part;;;999"),
            format!("31/02/{year};09:00;Date impossible;;;{channel}"),
        ]),
    )
    .expect("write csv");
    let run = import(&bad, true);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stdout.contains("4 rows"), "{run:#?}");
    assert!(run.stdout.contains("separator `;`"), "{run:#?}");
    for line in ["line 3", "line 4", "line 5"] {
        assert!(run.stdout.contains(line), "{line} missing: {run:#?}");
    }
    assert!(!run.stdout.contains("line 2"), "line 2 is valid: {run:#?}");
    assert!(run.stdout.contains("nothing imported"), "{run:#?}");
    assert_eq!(post_lines(env, ws), before, "a dry run writes nothing");

    // A valid file: a dry run reports no problem and writes nothing; the import writes them all.
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        csv(&[
            format!("01/07/{year};09:00;Premier;;;{channel}"),
            format!("02/07/{year};13:30;\"Deuxième, avec ; et \"\"guillemets\"\"\";https://example.com/a;;{channel}"),
            format!("03/07/{year};18:45;Troisième;;;{channel}"),
        ]),
    )
    .expect("write csv");
    let run = import(&good, true).ok();
    assert!(run.stdout.contains("0 problems"), "{run:#?}");
    assert_eq!(post_lines(env, ws), before, "a dry run writes nothing");
    let run = import(&good, false).ok();
    assert!(run.stdout.contains("imported 3 posts"), "{run:#?}");
    let after = post_lines(env, ws);
    assert_eq!(after.len(), before.len() + 3, "{after:?}");
    for (text, day) in [("Premier", "07-01"), ("Deuxième, avec ; et \"guillemets\"", "07-02"), ("Troisième", "07-03")]
    {
        let line = after
            .iter()
            .find(|l| l.ends_with(&format!("\t{text}")))
            .unwrap_or_else(|| panic!("{text} missing: {after:?}"));
        assert!(line.contains(&format!("{year}-{day}")), "{line}");
        assert!(line.contains("\tscheduled\t"), "{line}");
    }

    // A broken row in the middle: nothing is imported.
    let broken = dir.join("broken.csv");
    std::fs::write(
        &broken,
        csv(&[
            format!("04/07/{year};09:00;Un;;;{channel}"),
            format!("05/07/{year};25:99;Deux;;;{channel}"),
            format!("06/07/{year};09:00;Trois;;;{channel}"),
        ]),
    )
    .expect("write csv");
    let run = import(&broken, false).fails();
    assert!(
        run.stdout.contains("line 3 (time_24hr): invalid time"),
        "the broken row is named, as in a dry run: {run:#?}"
    );
    assert!(run.stderr.contains("nothing was imported"), "{run:#?}");
    assert_eq!(post_lines(env, ws), after, "an import with a broken row writes nothing");
}

/// The pipeline benchmark's `--json` path (posts encoded as NDJSON, read and checked as the
/// ingest endpoint does) stores the same mentions as handing the posts over directly (the posts
/// are drawn from fixed seeds), with the index following; the benchmark itself fails when the
/// database holds another count or the pipeline held more than its capacity. Both runs report the
/// CPU they took per post.
#[test]
fn pipeline_benchmark_reads_posts_as_the_ingest_endpoint_does() {
    let env = Env::sqlite();
    let args =
        ["bench", "listen-pipeline", "--posts", "3000", "--brands", "200", "--chunk", "500", "--submitters", "2"];
    let stored = |run: &Run| -> u64 {
        run.stdout
            .split_once("3000 posts in ")
            .and_then(|(_, rest)| rest.split_once("posts/s; "))
            .and_then(|(_, rest)| rest.split_once(" stored"))
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or_else(|| panic!("no count of 3000 posts and their stored mentions in {}", run.stdout))
    };
    let direct = env.run(&args).ok();
    let json = env.run(&[&args[..], &["--json", "--index"]].concat()).ok();
    assert!(json.stdout.contains("as NDJSON read and checked as the ingest endpoint does"), "{}", json.stdout);
    assert!(json.stdout.contains("stored and searchable"), "{}", json.stdout);
    // About 92 % of the benchmark's posts match at 200 brands.
    assert!(stored(&direct) > 2_500, "{}", direct.stdout);
    assert_eq!(stored(&json), stored(&direct), "{}\n{}", json.stdout, direct.stdout);
    // The CPU the run took, per post, until the posts are stored (and searchable with the index).
    let cpu_per_post = |run: &Run, until: &str| -> f64 {
        run.stdout
            .lines()
            .find(|l| l.starts_with("CPU, every thread, from the first post until every post ") && l.contains(until))
            .and_then(|l| l.rsplit_once(" system, ")?.1.split_once(" µs per post")?.0.parse().ok())
            .unwrap_or_else(|| panic!("no CPU per post until every post {until} in {}", run.stdout))
    };
    assert!(cpu_per_post(&direct, "stored:") > 0.0, "{}", direct.stdout);
    assert!(cpu_per_post(&json, "searchable:") > 0.0, "{}", json.stdout);
    // The peak memory, and its heap part (Linux, where these run): not zero, and within the total.
    let peak_mb = |run: &Run, what: &str| -> u64 {
        run.stdout
            .split_once(what)
            .and_then(|(_, rest)| rest.split_once(" MB"))
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or_else(|| panic!("no {what:?} in {}", run.stdout))
    };
    for run in [&direct, &json] {
        let (total, heap) = (peak_mb(run, "before, peak "), peak_mb(run, "(heap peak "));
        assert!(heap > 0 && heap <= total, "{}", run.stdout);
    }
}
