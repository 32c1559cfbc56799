//! `cuttle-mgr`: the manager daemon. Placeholder until the msgr2 messenger lands (issue 3);
//! it builds and says so rather than pretending to run.

#![forbid(unsafe_code)]

use clap::Parser;

/// cuttle's manager daemon (not yet implemented: needs the msgr2 messenger).
#[derive(Parser)]
#[command(name = "cuttle-mgr", version)]
struct Args {
    /// Manager id (Ceph's `-i`).
    #[arg(short = 'i', long)]
    id: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::bail!(
        "cuttle-mgr{} is not implemented yet: it needs the msgr2 messenger (issue 3)",
        args.id.map(|i| format!(".{i}")).unwrap_or_default()
    )
}
