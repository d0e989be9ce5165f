//! The `relais` binary: command-line interface, configuration, and the `serve` role.

mod bench;
mod bench_enrich;
mod bench_pipeline;
mod cli;
mod commands;
mod config;
mod explain;
mod listen;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: the listening pipeline allocates per post on every
/// core, and glibc's malloc took about 8 % of its CPU (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let huge_pages = without_transparent_huge_pages();
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RELAIS_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = huge_pages {
        // Not fatal: the process works with them, with more page zeroing.
        tracing::warn!("could not turn transparent huge pages off ({e}); going on with them");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("relais: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("relais: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Transparent huge pages off for this process (Linux), before the heap grows.
///
/// mimalloc asks the kernel for huge pages on its memory (`madvise(MADV_HUGEPAGE)`) and gives
/// freed memory back after about a second (mimalloc v3's purge delay); touched again, each such
/// region faults in a whole 2 MiB page that the kernel zeroes first. Under the listening
/// pipeline's churn (posts in flight, tantivy's per-segment arenas) that zeroing was about 5 % of
/// the CPU samples. With huge pages off: about a second less kernel time per 600,000 posts and a
/// little more user time, 1–4 % less CPU per post over 600,000 posts, no gain measured over three
/// million, and 50–100 MB less peak RSS over three million (BENCHMARKS.md, eighteenth session).
/// Nearly the same as `MIMALLOC_ALLOW_THP=0` (which safe code cannot set, and which also covers
/// the few allocations before `main`), and it holds whatever the system's THP mode: mimalloc's
/// `no_thp` feature would only drop its `madvise`, which leaves huge pages on where the mode is
/// `always`.
fn without_transparent_huge_pages() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    rustix::thread::disable_transparent_huge_pages(true)?;
    Ok(())
}
