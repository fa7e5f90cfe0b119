//! Project tasks, run as `cargo xtask <task>`.

use std::process::ExitCode;

use xtask::codegen;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  codegen [--check]  regenerate sdk/src/generated/ from spec/ (--check: change nothing, fail if stale)
  check              the spec, the generated code and the doc examples agree, and every change to the
                     public API since sdk/public-api.txt is named in CHANGELOG.md (one line per check)
  public-api [--diff|--bless]
                     the public API of the webex-calling crate, one line per item, read from sdk/src/
                     (--diff: what changed since sdk/public-api.txt, the API of the last release;
                     --bless: rewrite sdk/public-api.txt, only when cutting a release, in the commit
                     that moves CHANGELOG.md's [Unreleased] entries under the version's heading)
  corpus [--doc NAME]... [--op OPERATION_ID]... [--no-compile]
                     the generator on each document of ../shared/corpus/ and xtask/corpus-constructs/,
                     one operation at a time,
                     beside progenitor alone, then the accepted operations of each document together,
                     compiled in a copy of the SDK crate; a table per document (fails on a panic, a
                     compile error, an operation progenitor takes and we refuse, a refused operation of
                     webex-calling-live.json, or a refusal that does not say where and what)
  test               every test and check, as CI runs them
  bench [ARGS]       per-call overhead of the SDK against plain reqwest, then the cost of a body,
                     then bulk updates at a rate limit (about 10 minutes)
                     (ARGS go to the overhead benchmark: --calls N, --rounds N, --warmup N, ...)
  bench --bulk [ARGS]
                     only the bulk updates at the fake's rate limit, SDK against plain reqwest
                     (ARGS: --calls N, --scenario steady-50|steady-20|drop-50-25, --concurrency N)
  bench --build [--profile release|debug]... [--tls FEATURE]...
                     cold build of a crate using the SDK against one using only its dependencies
                     (release), then of one using the SDK with each TLS feature against one using
                     it with none (release and debug, or the profiles given; every TLS feature,
                     or those given)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen::run(codegen::Mode::Write),
        ["codegen", "--check"] => codegen::run(codegen::Mode::Check),
        ["check"] => xtask::check::run(&xtask::root()),
        ["public-api", rest @ ..] => xtask::public_api::run(&xtask::root(), rest),
        ["corpus", rest @ ..] => xtask::corpus::run(&xtask::root(), rest),
        ["test"] => xtask::test::run(&xtask::root()),
        ["bench", "--build", build_args @ ..] => xtask::bench::build(&xtask::root(), build_args),
        ["bench", "--bulk", bulk_args @ ..] => xtask::bench::bulk(&xtask::root(), bulk_args),
        ["bench", overhead_args @ ..] => xtask::bench::run(&xtask::root(), overhead_args),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
