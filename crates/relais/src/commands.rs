//! What each subcommand does. The CLI prints to standard output on purpose.
#![allow(clippy::print_stdout)]

use crate::cli::{
    ChannelCommand, CheckArgs, Cli, Command, DocsCommand, ImportArgs, PostCommand, ServeArgs, UserCommand,
    WorkspaceCommand,
};
use crate::config::{StorageConfig, redact_url};
use anyhow::{Context, bail};
use relais_app::channels::ChannelInput;
use relais_app::posts::{PostInput, ScheduleInput, TargetInput};
use relais_app::{Actor, App};
use relais_domain::Network;
use relais_domain::compose::{self, Draft};
use relais_domain::ids::{UserId, WorkspaceId};
use relais_domain::post::PostBody;
use relais_store::Store;
use relais_store::posts::PostFilter;
use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

/// Runs one subcommand.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Post(PostCommand::Check(args)) => return check(args),
        Command::Listen(crate::cli::ListenCommand::Explain(args)) => return crate::explain::explain(args),
        Command::Bench(crate::cli::BenchCommand::Startup { runs }) => {
            crate::bench::startup(runs).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Bench(crate::cli::BenchCommand::Publish { posts, workers, spread_secs, postgres }) => {
            crate::bench::publish(posts, workers, spread_secs, postgres).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Bench(crate::cli::BenchCommand::ListenPipeline(opts)) => {
            crate::bench_pipeline::run(opts).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Bench(crate::cli::BenchCommand::Enrich { posts, runs }) => {
            crate::bench_enrich::enrich(posts, runs)?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Listen(crate::cli::ListenCommand::Enrich { file, stories }) => {
            return crate::listen::enrich(file.as_deref(), stories);
        }
        Command::Docs(DocsCommand::Permissions) => {
            print!("{}", relais_domain::permissions::matrix_markdown());
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let app = open(&cli.storage).await?;
    match cli.command {
        Command::Serve(args) => serve(app, args, cli.storage.lease_secs).await?,
        Command::Worker => {
            println!("Relais worker {} publishing", std::process::id());
            let jobs = tokio::spawn(publishing_loop(app.clone(), cli.storage.lease_secs));
            shutdown_signal().await;
            jobs.abort();
        }
        Command::Migrate => println!("database is up to date ({})", redact_url(&cli.storage.url())),
        Command::User(cmd) => user(&app, cmd).await?,
        Command::Workspace(cmd) => workspace(&app, cmd).await?,
        Command::Channel(cmd) => channel(&app, cmd).await?,
        Command::Post(cmd) => post(&app, cmd).await?,
        Command::Import(args) => return import(&app, args).await,
        Command::Docs(_) | Command::Bench(_) | Command::Listen(_) => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens (creating and migrating when needed) the store and builds the application.
pub async fn open(storage: &StorageConfig) -> anyhow::Result<App> {
    std::fs::create_dir_all(&storage.data_dir)
        .with_context(|| format!("cannot create {}", storage.data_dir.display()))?;
    let url = storage.url();
    let store = Store::connect(&url).await.with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
    store.migrate().await.context("cannot migrate the database")?;
    let secrets = match &storage.secret_key {
        Some(key) => relais_app::crypto::SecretBox::from_base64(key)?,
        None => relais_app::crypto::SecretBox::from_key_file(&storage.data_dir.join("secret.key"))?,
    };
    Ok(App {
        store,
        secrets: Arc::new(secrets),
        media_dir: storage.data_dir.join("media"),
        clock: relais_app::system_clock(),
        http: relais_networks::GuardedClient::new(storage.allow_hosts.clone()),
        login_failures: Default::default(),
        listening: Arc::new(
            relais_app::listening::Listening::with_index_dir(storage.data_dir.join("search"))
                .with_bluesky_appview(storage.bluesky_appview()?),
        ),
    })
}

async fn actor(app: &App, email: &str) -> anyhow::Result<Actor> {
    let email = relais_app::accounts::normalize_email(email)?;
    let user = app.store.user_by_email(&email).await?.with_context(|| format!("no account with the e-mail {email}"))?;
    Ok(Actor { user: UserId(user.id), ip: Some("cli".into()) })
}

async fn serve(app: App, args: ServeArgs, lease_secs: u32) -> anyhow::Result<()> {
    first_start(&app, &args.admin_email).await?;
    if args.demo {
        demo(&app, &args.admin_email).await?;
    }
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().ok();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = ?app.store.backend(), "Relais is listening.");
    println!("Relais listens on http://{addr} (API: http://{addr}/api/v1, OpenAPI: http://{addr}/api/v1/openapi.json)");
    let jobs = tokio::spawn(publishing_loop(app.clone(), lease_secs));
    let indexer = tokio::spawn(indexing_loop(app.clone()));
    let state = relais_web::WebState { app: app.clone(), metrics };
    relais_web::serve(listener, state, shutdown_signal()).await?;
    jobs.abort();
    indexer.abort();
    // An index pass under way ends with its commit, then merges under way get a few seconds to
    // end (one cut short only throws its work away: what is committed stays).
    match tokio::time::timeout(INDEX_CLOSE_WAIT, app.close_index_writer()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "Closing the search index failed."),
        Err(_) => tracing::warn!(
            seconds = INDEX_CLOSE_WAIT.as_secs(),
            "Search index merges still running: stopping without them."
        ),
    }
    app.store.close().await;
    Ok(())
}

/// How long `serve` waits at stop for the search index's pass and merges to end.
const INDEX_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The publishing engine's loop (in `serve` and `worker`): a pass every 200 ms, so a post
/// leaves within a second of its due time; a full batch is followed by another pass at once.
pub async fn publishing_loop(app: App, lease_secs: u32) {
    let worker = format!("{}:{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "relais".into()), std::process::id());
    tokio::spawn(notifying_loop(app.clone()));
    tokio::spawn(listening_loop(app.clone()));
    let mut publisher = relais_app::publisher::Publisher::new(app, worker);
    publisher.lease_ms = i64::from(lease_secs) * 1000;
    run_publisher(publisher).await
}

/// Runs one publisher for ever: a pass every 50 ms (a post leaves well within a second of its
/// due time), and at once again after a full batch.
pub async fn run_publisher(publisher: relais_app::publisher::Publisher) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(50));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            match publisher.run_once(BATCH).await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "Publishing pass failed.");
                    break;
                }
            }
        }
    }
}

/// Listening's background work: polls the sources that are due, every 2 seconds, and assesses
/// the queries' series for spikes whenever a 5-minute bucket has closed.
async fn listening_loop(app: App) {
    let poller = relais_app::listening::sources::SourcePoller::new(app.clone());
    let watch = relais_app::listening::spikes::SpikeWatch { app: app.clone() };
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut assessed_bucket = 0;
    loop {
        tick.tick().await;
        if let Err(e) = poller.run_once(16).await {
            tracing::warn!(error = %e, "Polling listening sources failed.");
        }
        let bucket = app.now_ms().div_euclid(relais_store::listen::BUCKET_MS);
        if bucket != assessed_bucket {
            match watch.run_once().await {
                Ok(_) => assessed_bucket = bucket,
                Err(e) => tracing::warn!(error = %e, "Assessing listening spikes failed."),
            }
        }
    }
}

/// Keeps the search index behind the mention table (in `serve` only: the index has one writer):
/// as soon as the pipeline stores mentions, and at least every second, until caught up.
async fn indexing_loop(app: App) {
    loop {
        if let Err(e) = app.index_until_caught_up().await {
            tracing::warn!(error = %e, "Indexing mentions failed.");
        }
        app.wait_for_new_mentions(std::time::Duration::from_secs(1)).await;
    }
}

/// Delivers queued notifications to the workspaces' webhooks, every second.
async fn notifying_loop(app: App) {
    let notifier = relais_app::notifications::Notifier { app };
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = notifier.run_once(50).await {
            tracing::warn!(error = %e, "Delivering notifications failed.");
        }
    }
}

/// Deliveries claimed per pass.
const BATCH: i64 = 256;

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}

/// On an empty database: creates the owner account and a first workspace, and prints how to log
/// in, once.
async fn first_start(app: &App, email: &str) -> anyhow::Result<()> {
    if app.store.count_users().await? > 0 {
        return Ok(());
    }
    let password = relais_app::crypto::new_token("");
    let user = app.create_user(email, "Owner", &password, "fr").await?;
    let actor = Actor { user: UserId(user.id), ip: Some("first-start".into()) };
    app.create_workspace(&actor, "Mon espace", "Europe/Paris").await?;
    println!(
        "First start: created the owner account. Log in once with / Premier démarrage : compte propriétaire créé. Connectez-vous avec :"
    );
    println!("  e-mail:   {}", user.email);
    println!("  password: {password}");
    println!(
        "  curl -s -X POST http://<address>/api/v1/auth/login -H 'content-type: application/json' -d '{{\"email\":\"{}\",\"password\":\"…\"}}'",
        user.email
    );
    Ok(())
}

/// `serve --demo`: a demo workspace (created once) with a sandbox channel and posts due in the
/// next minutes, including a thread and a post waiting for approval.
async fn demo(app: &App, owner_email: &str) -> anyhow::Result<()> {
    let owner = actor(app, owner_email).await?;
    if app.my_workspaces(&owner).await?.iter().any(|(w, _)| w.name == "Démo Relais") {
        return Ok(());
    }
    let ws = WorkspaceId(app.create_workspace(&owner, "Démo Relais", "Europe/Paris").await?.id);
    let input = ChannelInput {
        network: "sandbox".into(),
        handle: "boulangerie-demo".into(),
        display_name: Some("Boulangerie (bac à sable)".into()),
        ..Default::default()
    };
    let channel = app.create_channel(&owner, ws, input).await?.id;
    let zone = relais_domain::schedule::parse_time_zone("Europe/Paris").map_err(|m| anyhow::anyhow!("{m}"))?;
    let samples: [(&str, &[&str], i64); 3] = [
        ("Bonjour ! Le pain de campagne sort du four à 7 h 🥖 #boulangerie", &[], 1),
        (
            "Notre recette de la semaine, en trois étapes 🧵",
            &["1. La farine et l'eau, la veille.", "2. Le levain, le matin.", "3. Cuisson à 250 °C."],
            2,
        ),
        ("Jeu concours : gagnez une galette des rois ! Règlement : https://example.fr/reglement", &[], 3),
    ];
    for (text, thread, minutes) in samples {
        let due = app.now() + jiff::SignedDuration::from_mins(minutes);
        let local = due.to_zoned(zone.clone()).datetime().round(jiff::Unit::Second)?.to_string();
        let input = PostInput {
            body: PostBody {
                text: text.into(),
                thread: thread.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
            channels: vec![TargetInput { channel_id: channel, variant: None }],
            media: Vec::new(),
            schedule: Some(ScheduleInput::At { local, timezone: None, dst: Default::default() }),
            draft: false,
            evergreen_secs: None,
        };
        app.create_post(&owner, ws, input).await?;
    }
    println!(
        "Demo workspace {} \"Démo Relais\": 3 posts go to its sandbox channel {channel} in the next 3 minutes.",
        ws.0
    );
    println!("  timeline: GET /api/v1/workspaces/{}/channels/{channel}/sandbox", ws.0);
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("RELAIS_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn user(app: &App, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create { email, name, locale } => {
            let u = app.create_user(&email, &name, &read_password()?, &locale).await?;
            println!("created user {} <{}>", u.id, u.email);
        }
        UserCommand::Token { email, name } => {
            let a = actor(app, &email).await?;
            let t = app.issue_token(&a, &name, None).await?;
            println!("{}", t.token);
        }
    }
    Ok(())
}

async fn workspace(app: &App, cmd: WorkspaceCommand) -> anyhow::Result<()> {
    match cmd {
        WorkspaceCommand::Create { name, timezone, owner } => {
            let w = app.create_workspace(&actor(app, &owner).await?, &name, &timezone).await?;
            println!("created workspace {} \"{}\" ({})", w.id, w.name, w.timezone);
        }
        WorkspaceCommand::List { user } => {
            for (w, role) in app.my_workspaces(&actor(app, &user).await?).await? {
                println!("{}\t{}\t{}\t{}{}", w.id, w.name, w.timezone, role, if w.paused { "\tpaused" } else { "" });
            }
        }
    }
    Ok(())
}

async fn channel(app: &App, cmd: ChannelCommand) -> anyhow::Result<()> {
    match cmd {
        ChannelCommand::Add { workspace, network, handle, instance_url, user } => {
            let credentials = match std::env::var("RELAIS_CHANNEL_CREDENTIALS") {
                Ok(json) => {
                    Some(serde_json::from_str(&json).context("RELAIS_CHANNEL_CREDENTIALS must be a JSON object")?)
                }
                Err(_) => None,
            };
            let input = ChannelInput { network, handle, instance_url, credentials, ..Default::default() };
            let c = app.create_channel(&actor(app, &user).await?, WorkspaceId(workspace), input).await?;
            println!("created channel {} ({} {})", c.id, c.network, c.handle);
        }
        ChannelCommand::List { workspace, user } => {
            for c in app.channels(&actor(app, &user).await?, WorkspaceId(workspace)).await? {
                println!("{}\t{}\t{}\t{}", c.id, c.network, c.handle, c.display_name);
            }
        }
    }
    Ok(())
}

async fn post(app: &App, cmd: PostCommand) -> anyhow::Result<()> {
    match cmd {
        PostCommand::Check(_) => {}
        PostCommand::Create { workspace, channel, text, at, timezone, draft, user } => {
            let schedule = at.map(|local| ScheduleInput::At { local, timezone, dst: Default::default() });
            if schedule.is_none() && !draft {
                bail!("give --at or --draft / indiquez --at ou --draft");
            }
            let input = PostInput {
                body: PostBody { text, ..Default::default() },
                channels: channel.into_iter().map(|channel_id| TargetInput { channel_id, variant: None }).collect(),
                media: Vec::new(),
                schedule,
                draft,
                evergreen_secs: None,
            };
            let p = app.create_post(&actor(app, &user).await?, WorkspaceId(workspace), input).await?;
            println!(
                "created post {} ({}{})",
                p.id,
                p.status,
                p.due_at.map(|d| format!(", due {d}")).unwrap_or_default()
            );
            for w in p.warnings {
                println!("warning: {w}");
            }
        }
        PostCommand::Log { workspace, id, user } => {
            let a = actor(app, &user).await?;
            let log = app.publish_log(&a, WorkspaceId(workspace), relais_domain::ids::PostId(id)).await?;
            for t in &log.targets {
                println!(
                    "channel {}\t{}\tattempts {}{}{}",
                    t.channel_id,
                    t.state,
                    t.attempts,
                    t.remote_url.as_ref().map(|u| format!("\t{u}")).unwrap_or_default(),
                    t.last_error.as_ref().map(|e| format!("\terror: {e}")).unwrap_or_default()
                );
            }
            for e in &log.attempts {
                let at = relais_app::posts::rfc3339(e.at);
                println!(
                    "{at}\tchannel {}\tpart {}\t{}\t{} ms\t{}",
                    e.channel_id,
                    e.part,
                    e.outcome,
                    e.latency_ms,
                    e.message.as_deref().unwrap_or("")
                );
            }
        }
        PostCommand::List { workspace, user } => {
            let filter = PostFilter { include_undated: true, limit: 1000, ..Default::default() };
            for p in app.calendar(&actor(app, &user).await?, WorkspaceId(workspace), filter).await? {
                let first_line = p.body.text.lines().next().unwrap_or("");
                println!("{}\t{}\t{}\t{}", p.id, p.status, p.due_at.unwrap_or_else(|| "-".into()), first_line);
            }
        }
    }
    Ok(())
}

/// `relais post check`: the same functions as the API and the composer, no database.
fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let networks = args
        .network
        .iter()
        .map(|n| n.parse::<Network>().map_err(|m| anyhow::anyhow!("{}", m.in_locale(&args.lang))))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let text = match args.text {
        Some(t) => t,
        None => {
            let mut t = String::new();
            std::io::stdin().read_to_string(&mut t).context("cannot read the text from standard input")?;
            t.strip_suffix('\n').map(str::to_owned).unwrap_or(t)
        }
    };
    let draft = Draft { text: &text, ..Default::default() };
    let reports = compose::check_all(&networks, &draft, &Default::default());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for r in &reports {
            println!(
                "{:<10} {:>6} / {:<6} {}  {}",
                r.network.as_str(),
                r.counted,
                r.limit,
                r.unit,
                if r.ok() { "ok" } else { "PROBLEM" }
            );
            for p in &r.problems {
                println!("    - [{}] {}", p.code, p.message.in_locale(&args.lang));
            }
        }
    }
    Ok(if reports.iter().all(|r| r.ok()) { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn import(app: &App, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let a = actor(app, &args.user).await?;
    match app.import_csv(&a, WorkspaceId(args.workspace), &bytes, Default::default(), args.dry_run).await {
        Ok(report) => {
            println!("{} rows, encoding {}, separator `{}`", report.rows, report.encoding, report.delimiter);
            for p in &report.problems {
                println!(
                    "line {}{}: {}",
                    p.line,
                    p.column.as_ref().map(|c| format!(" ({c})")).unwrap_or_default(),
                    p.message
                );
            }
            if args.dry_run {
                println!("dry run: nothing imported ({} problems)", report.problems.len());
                return Ok(if report.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) });
            }
            println!("imported {} posts", report.created.len());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            // The same lines as a dry run, not the API's JSON objects.
            for p in &e.problems {
                let line = p.get("line").and_then(serde_json::Value::as_u64);
                let message =
                    p.get("message").and_then(|m| serde_json::from_value::<relais_domain::Msg>(m.clone()).ok());
                match (line, message) {
                    (Some(line), Some(message)) => {
                        let column = p.get("column").and_then(serde_json::Value::as_str);
                        println!("line {line}{}: {message}", column.map(|c| format!(" ({c})")).unwrap_or_default());
                    }
                    _ => println!("{p}"),
                }
            }
            bail!("{e}")
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn readme_shows_the_permission_matrix_from_the_code() {
        let readme = include_str!("../../../README.md");
        let matrix = relais_domain::permissions::matrix_markdown();
        assert!(
            readme.contains(matrix.trim()),
            "README.md's permission table differs from `relais docs permissions`:\n{matrix}"
        );
    }
}
