//! The command-line grammar (clap). Every subcommand has `--help`.

use crate::config::StorageConfig;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Relais: the self-hosted workbench of the community manager.
#[derive(Parser, Debug)]
#[command(name = "relais", version, about)]
pub struct Cli {
    /// Storage settings, shared by every subcommand.
    #[command(flatten)]
    pub storage: StorageConfig,

    /// The action.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run Relais: the REST API and the background jobs.
    Serve(ServeArgs),
    /// Run only the publishing engine (several workers can share one PostgreSQL database).
    Worker,
    /// Create or update the database schema, then exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage workspaces.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Manage channels.
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Check, create and list posts.
    #[command(subcommand)]
    Post(PostCommand),
    /// Import posts from a CSV file (Sprout Social bulk format plus a channel column).
    Import(ImportArgs),
    /// Print reference documentation generated from the code.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// Measure performance (results go to BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Social listening (« veille »): queries and enrichment.
    #[command(subcommand)]
    Listen(ListenCommand),
}

/// `relais listen …`.
#[derive(Subcommand, Debug)]
pub enum ListenCommand {
    /// Add language, sentiment score and label to posts: reads NDJSON (one {"text": …, "lang"?: …}
    /// per line) from FILE or standard input, writes NDJSON to standard output. Bad lines are
    /// reported on standard error with their number; the exit status is then 1.
    Enrich {
        /// The NDJSON file (standard input when absent).
        file: Option<PathBuf>,
        /// Also group copies of one message (retweets, the same text with another link…): each
        /// post gets a `story` id shared by its near-duplicates.
        #[arg(long)]
        stories: bool,
    },
    /// Explain, node by node, why a post matches a listening query or not. Exit status 0 when it
    /// matches, 1 when it does not, 2 when the query is refused.
    Explain(ExplainArgs),
}

/// `relais listen explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The query, e.g. `café* (grève OR sncf) -promo lang:fr`.
    pub query: String,
    /// The post's text; read from standard input when absent.
    #[arg(long)]
    pub text: Option<String>,
    /// The post's title.
    #[arg(long)]
    pub title: Option<String>,
    /// The post's language (`fr`, `en`…).
    #[arg(long)]
    pub post_lang: Option<String>,
    /// The post's author handle.
    #[arg(long)]
    pub author: Option<String>,
    /// The post's site domain.
    #[arg(long)]
    pub domain: Option<String>,
    /// The post's source (`bluesky`, `mastodon`, `rss`…).
    #[arg(long)]
    pub source: Option<String>,
    /// Language of the messages (fr or en).
    #[arg(long, env = "RELAIS_LANG", default_value = "fr")]
    pub lang: String,
}

/// `relais bench …`.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Time from launching `relais serve` on an empty data directory until `/healthz` answers,
    /// then the same for a restart on the existing data.
    Startup {
        /// How many runs of each.
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// Publishing engine: many posts due in the same minute (or the same instant) against an
    /// in-process network stand-in; reports throughput and lateness versus the due time.
    Publish {
        /// How many posts.
        #[arg(long, default_value_t = 10_000)]
        posts: usize,
        /// Workers (publisher loops) in this process.
        #[arg(long, default_value_t = 4)]
        workers: usize,
        /// Spread the due times over this many seconds (0: all due at the same instant).
        #[arg(long, default_value_t = 60)]
        spread_secs: u64,
        /// A PostgreSQL server to run on (a fresh database is created on it); SQLite otherwise.
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Listening enrichment: language, sentiment, near-duplicates per post on one core, and
    /// `relais listen enrich` end to end on a generated NDJSON file.
    Enrich {
        /// Posts per measured pass.
        #[arg(long, default_value_t = 500_000)]
        posts: usize,
        /// Passes; the best is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// The listening pipeline end to end under overload: posts in, enrich, match, group, store;
    /// throughput, memory and lag.
    ListenPipeline(crate::bench_pipeline::PipelineBench),
}

/// `relais serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "RELAIS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// E-mail of the owner account created on the first start.
    #[arg(long, env = "RELAIS_ADMIN_EMAIL", default_value = "owner@relais.localhost")]
    pub admin_email: String,
    /// Create (once) a demo workspace with a sandbox channel and sample posts going out in the
    /// next minutes, to see Relais working.
    #[arg(long)]
    pub demo: bool,
}

/// `relais user …`.
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account. The password is read from RELAIS_PASSWORD or standard input.
    Create {
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Interface language (fr or en).
        #[arg(long, default_value = "fr")]
        locale: String,
    },
    /// Issue an API token for an account (printed once).
    Token {
        /// The account's e-mail.
        #[arg(long)]
        email: String,
        /// A label for the token.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

/// `relais workspace …`.
#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    /// Create a workspace owned by an account.
    Create {
        /// Name (a brand or a client).
        #[arg(long)]
        name: String,
        /// Default IANA time zone.
        #[arg(long, default_value = "Europe/Paris")]
        timezone: String,
        /// The owner's e-mail.
        #[arg(long = "as")]
        owner: String,
    },
    /// List an account's workspaces.
    List {
        /// The account's e-mail.
        #[arg(long = "as")]
        user: String,
    },
}

/// `relais channel …`.
#[derive(Subcommand, Debug)]
pub enum ChannelCommand {
    /// Connect a channel. Credentials (a JSON object) are read from RELAIS_CHANNEL_CREDENTIALS.
    Add {
        /// Workspace id.
        #[arg(long)]
        workspace: i64,
        /// Network (bluesky, mastodon, x, linkedin, …).
        #[arg(long)]
        network: String,
        /// Account handle.
        #[arg(long)]
        handle: String,
        /// Server address (Mastodon).
        #[arg(long)]
        instance_url: Option<String>,
        /// Acting account's e-mail.
        #[arg(long = "as")]
        user: String,
    },
    /// List a workspace's channels.
    List {
        /// Workspace id.
        #[arg(long)]
        workspace: i64,
        /// Acting account's e-mail.
        #[arg(long = "as")]
        user: String,
    },
}

/// `relais post …`.
#[derive(Subcommand, Debug)]
pub enum PostCommand {
    /// Validate a text for networks without saving anything. Exit status 1 when any network has
    /// a problem.
    Check(CheckArgs),
    /// Create a post (scheduled, or a draft).
    Create {
        /// Workspace id.
        #[arg(long)]
        workspace: i64,
        /// Channel ids, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        channel: Vec<i64>,
        /// The text.
        #[arg(long)]
        text: String,
        /// Local date and time, e.g. 2027-03-28T09:30.
        #[arg(long, conflicts_with = "draft")]
        at: Option<String>,
        /// Time zone of --at (the workspace's by default).
        #[arg(long)]
        timezone: Option<String>,
        /// Save as a draft.
        #[arg(long)]
        draft: bool,
        /// Acting account's e-mail.
        #[arg(long = "as")]
        user: String,
    },
    /// Show a post's deliveries and its publish log (every attempt, with the network's answer).
    Log {
        /// Workspace id.
        #[arg(long)]
        workspace: i64,
        /// Post id.
        id: i64,
        /// Acting account's e-mail.
        #[arg(long = "as")]
        user: String,
    },
    /// List a workspace's posts (drafts included).
    List {
        /// Workspace id.
        #[arg(long)]
        workspace: i64,
        /// Acting account's e-mail.
        #[arg(long = "as")]
        user: String,
    },
}

/// `relais post check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Networks, comma-separated (bluesky,x,mastodon,…).
    #[arg(long, value_delimiter = ',', required = true)]
    pub network: Vec<String>,
    /// The text; read from standard input when absent.
    #[arg(long)]
    pub text: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Language of the messages (fr or en).
    #[arg(long, env = "RELAIS_LANG", default_value = "fr")]
    pub lang: String,
}

/// `relais import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Workspace id.
    #[arg(long)]
    pub workspace: i64,
    /// The CSV file.
    #[arg(long)]
    pub file: PathBuf,
    /// Only report problems.
    #[arg(long)]
    pub dry_run: bool,
    /// Acting account's e-mail.
    #[arg(long = "as")]
    pub user: String,
}

/// `relais docs …`.
#[derive(Subcommand, Debug)]
pub enum DocsCommand {
    /// The permission matrix (Markdown).
    Permissions,
}
