//! `cargo xtask corpus`: the generator on real OpenAPI documents that
//! nobody here wrote (`../shared/corpus/`), and on the synthetic documents
//! of `xtask/corpus-constructs/` (one construct an operation), beside
//! progenitor alone.
//!
//! Each operation of each document is generated alone (the operation, its
//! path's parameters and every component it references), by our generator
//! and by progenitor with its default settings and with the builder
//! interface. Then the operations our generator took are generated together
//! and compiled in a copy of the SDK crate, in place of `src/generated/`.
//! It prints a table per document and fails when a panic reaches the user,
//! when the accepted operations do not compile together, when we refuse an
//! operation progenitor generates (but for `KNOWN_GAPS`), when an operation of
//! `webex-calling-live.json` is refused, or when a refusal does not say
//! where and what.

pub mod slice;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use serde_json::Value;
use slice::OperationRef;

/// The folder of documents, relative to the workspace root.
pub const CORPUS: &str = "../shared/corpus";
/// Synthetic documents in the repository, each operation of which holds
/// one construct real documents use and the folder above may not: they
/// are run the same way, beside the real ones.
pub const CONSTRUCTS: &str = "xtask/corpus-constructs";
/// The document whose every operation must be taken: Webex's Call Pickup
/// and Hunt Group features as published.
pub const LIVE: &str = "webex-calling-live.json";

const USAGE: &str =
    "usage: cargo xtask corpus [--doc NAME]... [--op OPERATION_ID]... [--no-compile]";

/// What to run.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    docs: Vec<String>,
    ops: Vec<String>,
    compile: bool,
}

fn options(args: &[&str]) -> Result<Options, String> {
    let mut options = Options {
        compile: true,
        ..Options::default()
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match *arg {
            "--doc" => {
                let name = args.next().ok_or(USAGE)?;
                options.docs.push(
                    name.trim_end_matches(".json")
                        .trim_end_matches(".yaml")
                        .to_string(),
                );
            }
            "--op" => options.ops.push(args.next().ok_or(USAGE)?.to_string()),
            "--no-compile" => options.compile = false,
            _ => return Err(USAGE.to_string()),
        }
    }
    Ok(options)
}

/// A refusal as the generator reports it.
#[derive(Clone, Debug)]
struct Refused {
    operation: String,
    location: String,
    construct: String,
    detail: String,
}

/// What a generator did with one input.
#[derive(Debug)]
enum Outcome {
    Generated,
    /// Our generator refused, with its refusals; an error with none is
    /// kept as its message.
    Refused(Vec<Refused>, String),
    /// progenitor returned an error, or the slice is not OpenAPI to it.
    Failed,
    Panicked(String),
}

impl Outcome {
    fn generated(&self) -> bool {
        matches!(self, Outcome::Generated)
    }
}

/// One operation, generated alone.
#[derive(Debug)]
struct OperationRun {
    name: String,
    ours: Outcome,
    progenitor: Outcome,
    progenitor_builder: Outcome,
}

/// Whether the accepted operations of a document compiled together.
#[derive(Debug)]
enum Compiled {
    /// Nothing was accepted, so nothing was compiled.
    Nothing,
    /// Not asked for (`--no-compile`).
    Skipped,
    /// Generated together, waiting for the compiler.
    Pending(Vec<webex_calling_codegen::GeneratedFile>),
    Yes,
    /// The compiler's first errors, or why generating them together failed.
    No(Vec<String>),
}

/// One document's results.
#[derive(Debug)]
struct DocumentRun {
    file: String,
    operations: Vec<OperationRun>,
    compiled: Compiled,
    /// A panic of our generator on the operations together.
    together_panic: Option<String>,
}

impl DocumentRun {
    fn count(&self, pick: impl Fn(&OperationRun) -> bool) -> usize {
        self.operations.iter().filter(|op| pick(op)).count()
    }

    fn generated(&self) -> usize {
        self.count(|op| op.ours.generated())
    }

    fn refused(&self) -> usize {
        self.count(|op| matches!(op.ours, Outcome::Refused(..)))
    }

    fn panicked(&self) -> usize {
        self.count(|op| matches!(op.ours, Outcome::Panicked(_)))
    }

    fn progenitor(&self) -> usize {
        self.count(|op| op.progenitor.generated())
    }

    fn progenitor_builder(&self) -> usize {
        self.count(|op| op.progenitor_builder.generated())
    }

    /// Operations refused, by construct (an operation refused for two
    /// constructs counts under each).
    fn by_construct(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for op in &self.operations {
            if let Outcome::Refused(refusals, _) = &op.ours {
                let mut constructs: Vec<&str> =
                    refusals.iter().map(|r| r.construct.as_str()).collect();
                constructs.sort_unstable();
                constructs.dedup();
                if constructs.is_empty() {
                    constructs.push("(no refusal given)");
                }
                for construct in constructs {
                    *counts.entry(construct.to_string()).or_insert(0) += 1;
                }
            }
        }
        counts
    }
}

/// Time spent in each phase.
#[derive(Debug, Default)]
struct Timings {
    alone: Duration,
    ours_alone: Duration,
    progenitor_alone: Duration,
    together: Duration,
    compile: Duration,
}

/// Runs `cargo xtask corpus [ARGS]` on the workspace at `root`.
pub fn run(root: &Path, args: &[&str]) -> Result<String, String> {
    let options = options(args)?;
    let started = Instant::now();
    let folder = root.join(CORPUS);
    let mut documents = read_folder(&folder, &options.docs)?;
    documents.extend(read_folder(&root.join(CONSTRUCTS), &options.docs)?);
    if documents.is_empty() {
        return Err(no_document(&folder, &options.docs));
    }
    if !options.ops.is_empty() {
        // Only the documents that hold an operation asked for, so that a
        // name that matches nothing is an error rather than an empty pass.
        documents.retain(|(_, document)| {
            slice::operations(document)
                .iter()
                .any(|op| options.ops.contains(&op.name()))
        });
        if documents.is_empty() {
            return Err(format!(
                "corpus: no document in {} has an operation named {}",
                folder.display(),
                options.ops.join(" or ")
            ));
        }
    }
    let mut timings = Timings::default();

    let phase = Instant::now();
    let mut runs = run_alone(&documents, &options.ops, &mut timings);
    timings.alone = phase.elapsed();

    let phase = Instant::now();
    for (run, (_, document)) in runs.iter_mut().zip(&documents) {
        generate_together(run, document, options.compile);
    }
    timings.together = phase.elapsed();

    if options.compile {
        let phase = Instant::now();
        compile(root, &mut runs)?;
        timings.compile = phase.elapsed();
    }

    let report = report(&runs);
    println!("{report}");
    println!(
        "time: {:.1} s in all; each operation alone {:.1} s (summed over threads: ours {:.1} s, \
         progenitor twice {:.1} s); accepted operations together {:.1} s; compiling {}",
        started.elapsed().as_secs_f64(),
        timings.alone.as_secs_f64(),
        timings.ours_alone.as_secs_f64(),
        timings.progenitor_alone.as_secs_f64(),
        timings.together.as_secs_f64(),
        if options.compile {
            format!("{:.1} s", timings.compile.as_secs_f64())
        } else {
            "skipped (--no-compile)".to_string()
        },
    );
    let failures = failures(&runs, KNOWN_GAPS);
    if failures.is_empty() {
        Ok("corpus: every check passed".to_string())
    } else {
        Err(format!(
            "corpus: FAILED\n{}",
            failures
                .iter()
                .map(|f| format!("- {f}"))
                .collect::<Vec<_>>()
                .join("\n")
        ))
    }
}

fn no_document(folder: &Path, wanted: &[String]) -> String {
    format!(
        "corpus: no document {} in {}",
        if wanted.is_empty() {
            "at all".to_string()
        } else {
            format!("named {}", wanted.join(", "))
        },
        folder.display()
    )
}

/// The documents of the folder (or those named), JSON or YAML, by file
/// name, in order.
fn read_folder(folder: &Path, wanted: &[String]) -> Result<Vec<(String, Value)>, String> {
    let entries = std::fs::read_dir(folder).map_err(|e| {
        format!(
            "corpus: cannot read {} ({e}); the documents live in {CORPUS}/, beside the repository, and in {CONSTRUCTS}/",
            folder.display()
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "json" || ext == "yaml")
        })
        .collect();
    files.sort();
    let mut documents = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = name.trim_end_matches(".json").trim_end_matches(".yaml");
        if !wanted.is_empty() && !wanted.iter().any(|w| w == stem) {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("corpus: cannot read {}: {e}", path.display()))?;
        let document: Value = serde_yaml::from_str(&text)
            .map_err(|e| format!("corpus: {} is not JSON or YAML: {e}", path.display()))?;
        documents.push((name, document));
    }
    Ok(documents)
}

/// Every operation of every document, generated alone by each generator,
/// on as many threads as there are cores.
fn run_alone(
    documents: &[(String, Value)],
    only: &[String],
    timings: &mut Timings,
) -> Vec<DocumentRun> {
    let jobs: Vec<(usize, OperationRef)> = documents
        .iter()
        .enumerate()
        .flat_map(|(index, (_, document))| {
            slice::operations(document)
                .into_iter()
                .filter(|op| only.is_empty() || only.iter().any(|o| *o == op.name()))
                .map(move |op| (index, op))
        })
        .collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<OperationRun>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    let spent = Mutex::new((Duration::ZERO, Duration::ZERO));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            std::thread::Builder::new()
                // Deeply nested schemas recurse deeply in every generator.
                .stack_size(256 << 20)
                .spawn_scoped(scope, || {
                    loop {
                        let job = next.fetch_add(1, Ordering::Relaxed);
                        let Some((index, op)) = jobs.get(job) else {
                            break;
                        };
                        let (run, ours, progenitor) = run_one(&documents[*index].1, op);
                        results.lock().expect("results")[job] = Some(run);
                        let mut spent = spent.lock().expect("timings");
                        spent.0 += ours;
                        spent.1 += progenitor;
                    }
                })
                .expect("a worker thread");
        }
    });
    let (ours, progenitor) = *spent.lock().expect("timings");
    timings.ours_alone = ours;
    timings.progenitor_alone = progenitor;

    let mut runs: Vec<DocumentRun> = documents
        .iter()
        .map(|(file, _)| DocumentRun {
            file: file.clone(),
            operations: Vec::new(),
            compiled: Compiled::Nothing,
            together_panic: None,
        })
        .collect();
    let results = results.into_inner().expect("results");
    for ((index, _), result) in jobs.iter().zip(results) {
        runs[*index].operations.extend(result);
    }
    runs
}

/// One operation alone: our generator, then progenitor twice. Returns the
/// run and the time each side took.
fn run_one(document: &Value, op: &OperationRef) -> (OperationRun, Duration, Duration) {
    let sliced = slice::slice(document, std::slice::from_ref(op));
    let start = Instant::now();
    let ours = ours(&sliced);
    let ours_time = start.elapsed();
    let start = Instant::now();
    let spec: Result<openapiv3::OpenAPI, _> = serde_json::from_value(sliced);
    let (progenitor, progenitor_builder) = match spec {
        Ok(spec) => (
            progenitor(&spec, &progenitor_impl::GenerationSettings::default()),
            progenitor(&spec, &builder_settings()),
        ),
        Err(_) => (Outcome::Failed, Outcome::Failed),
    };
    let run = OperationRun {
        name: op.name(),
        ours,
        progenitor,
        progenitor_builder,
    };
    (run, ours_time, start.elapsed())
}

/// progenitor's builder interface with merged tags, as our generator uses
/// it.
fn builder_settings() -> progenitor_impl::GenerationSettings {
    let mut settings = progenitor_impl::GenerationSettings::default();
    settings
        .with_interface(progenitor_impl::InterfaceStyle::Builder)
        .with_tag(progenitor_impl::TagStyle::Merged);
    settings
}

fn progenitor(
    spec: &openapiv3::OpenAPI,
    settings: &progenitor_impl::GenerationSettings,
) -> Outcome {
    match quietly(|| progenitor_impl::Generator::new(settings).generate_tokens(spec)) {
        Ok(Ok(_)) => Outcome::Generated,
        Ok(Err(_)) => Outcome::Failed,
        Err(panic) => Outcome::Panicked(panic),
    }
}

/// Our generator on a document.
fn ours(document: &Value) -> Outcome {
    ours_files(document).0
}

/// Our generator on a document, with the files it made.
fn ours_files(document: &Value) -> (Outcome, Vec<webex_calling_codegen::GeneratedFile>) {
    let text = document.to_string();
    match quietly(|| webex_calling_codegen::generate(&text)) {
        Ok(Ok(files)) => (Outcome::Generated, files),
        Ok(Err(error)) => {
            let refusals = error
                .refusals()
                .iter()
                .map(|r| Refused {
                    operation: r.operation.clone(),
                    location: r.location.clone(),
                    construct: r.construct.clone(),
                    detail: r.detail.clone(),
                })
                .collect();
            (Outcome::Refused(refusals, error.to_string()), Vec::new())
        }
        Err(panic) => (Outcome::Panicked(panic), Vec::new()),
    }
}

thread_local! {
    /// Whether this thread is inside [`quietly`].
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Where the last quiet panic of this thread happened.
    static PANIC_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`, catching a panic as its message and place rather than letting
/// it print; panics elsewhere print as usual.
fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.get() {
                let at = info.location().map(|l| {
                    // A dependency's file is named from its crate's folder,
                    // not from wherever the registry sits on this machine.
                    let file = l.file();
                    let file = file
                        .split_once("/registry/src/")
                        .and_then(|(_, rest)| rest.split_once('/'))
                        .map_or(file, |(_, rest)| rest);
                    format!("{file}:{}", l.line())
                });
                PANIC_AT.set(at);
            } else {
                previous(info);
            }
        }));
    });
    QUIET.set(true);
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.set(false);
    result.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic with no message".to_string());
        let message = message.lines().next().unwrap_or_default().to_string();
        match PANIC_AT.take() {
            Some(at) => format!("{message} (at {at})"),
            None => message,
        }
    })
}

/// Our generator on every accepted operation of the document at once.
fn generate_together(run: &mut DocumentRun, document: &Value, compile: bool) {
    let accepted: Vec<OperationRef> = slice::operations(document)
        .into_iter()
        .filter(|op| {
            let name = op.name();
            run.operations
                .iter()
                .any(|o| o.name == name && o.ours.generated())
        })
        .collect();
    if accepted.is_empty() {
        return;
    }
    let (outcome, files) = ours_files(&slice::slice(document, &accepted));
    run.compiled = match outcome {
        Outcome::Generated if compile => Compiled::Pending(files),
        Outcome::Generated => Compiled::Skipped,
        Outcome::Refused(_, message) => {
            Compiled::No(vec![format!("refused together: {}", first_line(&message))])
        }
        Outcome::Failed => Compiled::No(vec!["failed together".to_string()]),
        Outcome::Panicked(panic) => {
            run.together_panic = Some(panic.clone());
            Compiled::No(vec![format!("panicked together: {panic}")])
        }
    };
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The scratch crate's package name for a document.
fn crate_name(file: &str) -> String {
    let stem = file.trim_end_matches(".json").trim_end_matches(".yaml");
    let stem: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("corpus-{stem}")
}

/// Compiles the generated files of each document in a copy of the SDK
/// crate, all copies in one scratch workspace checked at once.
fn compile(root: &Path, runs: &mut [DocumentRun]) -> Result<(), String> {
    let pending: Vec<usize> = runs
        .iter()
        .enumerate()
        .filter(|(_, run)| matches!(run.compiled, Compiled::Pending(_)))
        .map(|(index, _)| index)
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let metadata = crate::bench::cargo_metadata(root)?;
    let target = metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or("cargo metadata gives no target directory")?;
    let scratch = target.join("corpus");
    let manifest = sdk_manifest(root)?;
    let mut members = Vec::new();
    for &index in &pending {
        let run = &runs[index];
        let Compiled::Pending(files) = &run.compiled else {
            continue;
        };
        let name = crate_name(&run.file);
        write_sdk_copy(root, &scratch.join(&name), &name, &manifest, files)?;
        members.push(name);
    }
    write(
        &scratch.join("Cargo.toml"),
        &format!(
            "# The SDK with the generated files of each corpus document, made by `cargo xtask corpus`.\n\
             [workspace]\nresolver = \"3\"\nmembers = {members:?}\n"
        ),
    )?;
    // The workspace's lock file pins every version the SDK uses, so the
    // dependencies built for the workspace serve the copies too.
    std::fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock"))
        .map_err(|e| format!("cannot copy Cargo.lock into {}: {e}", scratch.display()))?;

    // Without default features, as the "features" step builds the SDK, so
    // the dependencies are already built; without `fake`, whose server is
    // written for the SDK's own spec.
    eprintln!(
        "corpus: checking {} copies of the SDK in {}; the table below says which compile",
        members.len(),
        scratch.display()
    );
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "check",
            "--workspace",
            "--keep-going",
            "--quiet",
            "--no-default-features",
            "--message-format=json",
            "--target-dir",
        ])
        .arg(&target)
        .current_dir(&scratch)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo check: {e}"))?;
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut built: Vec<String> = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let package = message["package_id"].as_str().unwrap_or_default();
        let Some(member) = members.iter().find(|m| package_is(package, m)) else {
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") => built.push(member.clone()),
            Some("compiler-message") if is_error(&message["message"]) => {
                let rendered = message["message"]["rendered"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                errors.entry(member.clone()).or_default().push(rendered);
            }
            _ => {}
        }
    }
    for &index in &pending {
        let name = crate_name(&runs[index].file);
        runs[index].compiled = match errors.remove(&name) {
            Some(found) => Compiled::No(found),
            None if built.contains(&name) => Compiled::Yes,
            None => Compiled::No(vec![format!(
                "cargo check ({}) reported neither an error nor a build of {name}; its output is above",
                output.status
            )]),
        };
    }
    Ok(())
}

/// Whether a compiler diagnostic is an error of the code, rather than a
/// warning or the closing "aborting due to" line.
fn is_error(diagnostic: &Value) -> bool {
    diagnostic["level"] == "error"
        && !diagnostic["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("aborting due to"))
}

/// Whether a cargo package ID (`path+file:///...#name@0.0.0` or the older
/// `name 0.0.0 (path+file://...)`) is the package `name`.
fn package_is(id: &str, name: &str) -> bool {
    id.starts_with(&format!("{name} "))
        || id.contains(&format!("#{name}@"))
        || id.contains(&format!("/{name}#"))
}

/// The SDK's `[features]` and `[dependencies]`, as its manifest has them.
fn sdk_manifest(root: &Path) -> Result<String, String> {
    let path = root.join("sdk/Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut kept = String::new();
    let mut keep = false;
    for line in text.lines() {
        if line.starts_with('[') {
            keep = matches!(line.trim(), "[features]" | "[dependencies]");
        }
        if keep {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    if !kept.contains("[dependencies]") {
        return Err(format!("{} has no [dependencies]", path.display()));
    }
    Ok(kept)
}

/// A copy of the SDK crate at `dir` with `files` as its `src/generated/`.
fn write_sdk_copy(
    root: &Path,
    dir: &Path,
    name: &str,
    manifest: &str,
    files: &[webex_calling_codegen::GeneratedFile],
) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    copy_dir(
        &root.join("sdk/src"),
        &dir.join("src"),
        Path::new("generated"),
    )?;
    std::fs::copy(root.join("sdk/README.md"), dir.join("README.md"))
        .map_err(|e| format!("cannot copy sdk/README.md: {e}"))?;
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = {name:?}\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [lib]\npath = \"src/lib.rs\"\n\n{manifest}"
        ),
    )?;
    let generated = dir.join("src/generated");
    std::fs::create_dir_all(&generated)
        .map_err(|e| format!("cannot create {}: {e}", generated.display()))?;
    for file in files {
        write(&generated.join(file.name), &file.contents)?;
    }
    Ok(())
}

/// Copies the folder `from` to `to`, leaving out `skip` (relative to
/// `from`).
fn copy_dir(from: &Path, to: &Path, skip: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        if Path::new(&name) == skip {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(&name), Path::new(""))?;
        } else {
            std::fs::copy(&path, to.join(&name))
                .map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn compiled_cell(run: &DocumentRun) -> String {
    match &run.compiled {
        Compiled::Nothing => "nothing to compile".to_string(),
        Compiled::Skipped => "not compiled".to_string(),
        Compiled::Pending(_) => "not compiled".to_string(),
        Compiled::Yes => format!("yes, {} together", run.generated()),
        Compiled::No(_) => "**no**".to_string(),
    }
}

fn reasons_cell(counts: &BTreeMap<String, usize>) -> String {
    if counts.is_empty() {
        return "none".to_string();
    }
    counts
        .iter()
        .map(|(construct, count)| format!("{construct} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return String::new();
    }
    format!(" ({} %)", part * 100 / whole)
}

/// The table per document, the refusals by construct, the compiler's
/// first errors and the panics.
fn report(runs: &[DocumentRun]) -> String {
    let mut out = String::new();
    out.push_str(
        "| document | operations | generated | compiled together | refused | panicked | progenitor alone | progenitor, builder interface | refused by construct |\n\
         |---|---:|---:|---|---:|---:|---:|---:|---|\n",
    );
    let mut totals = [0usize; 6];
    let mut all_reasons: BTreeMap<String, usize> = BTreeMap::new();
    for run in runs {
        let row = [
            run.operations.len(),
            run.generated(),
            run.refused(),
            run.panicked(),
            run.progenitor(),
            run.progenitor_builder(),
        ];
        for (total, value) in totals.iter_mut().zip(row) {
            *total += value;
        }
        let reasons = run.by_construct();
        for (construct, count) in &reasons {
            *all_reasons.entry(construct.clone()).or_insert(0) += count;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            run.file,
            row[0],
            row[1],
            compiled_cell(run),
            row[2],
            row[3],
            row[4],
            row[5],
            reasons_cell(&reasons)
        );
    }
    let compiled = runs
        .iter()
        .filter(|r| matches!(r.compiled, Compiled::Yes))
        .count();
    let compiled_operations: usize = runs
        .iter()
        .filter(|r| matches!(r.compiled, Compiled::Yes))
        .map(DocumentRun::generated)
        .sum();
    let to_compile = runs
        .iter()
        .filter(|r| !matches!(r.compiled, Compiled::Nothing))
        .count();
    let _ = writeln!(
        out,
        "| **all {} documents** | {} | {}{} | {compiled_operations} operations, in {compiled} of {to_compile} documents | {} | {} | {}{} | {}{} | {} |",
        runs.len(),
        totals[0],
        totals[1],
        percent(totals[1], totals[0]),
        totals[2],
        totals[3],
        totals[4],
        percent(totals[4], totals[0]),
        totals[5],
        percent(totals[5], totals[0]),
        reasons_cell(&all_reasons)
    );

    let mut examples: BTreeMap<String, (usize, &Refused)> = BTreeMap::new();
    let mut bare: Vec<(&str, &str)> = Vec::new();
    for run in runs {
        for op in &run.operations {
            if let Outcome::Refused(refusals, message) = &op.ours {
                if refusals.is_empty() {
                    bare.push((&op.name, message));
                }
                for refusal in refusals {
                    examples
                        .entry(refusal.construct.clone())
                        .or_insert((0, refusal))
                        .0 += 1;
                }
            }
        }
    }
    if !examples.is_empty() || !bare.is_empty() {
        out.push_str("\nRefusals by construct (refusals, one example each):\n");
        for (construct, (count, example)) in &examples {
            let _ = writeln!(
                out,
                "- {construct}: {count}; e.g. `{} › {}: {construct}` ({})",
                example.operation,
                example.location,
                shorten(first_line(&example.detail), 160)
            );
        }
        for (name, message) in bare {
            let _ = writeln!(
                out,
                "- refused with no refusal: {name}: {}",
                shorten(first_line(message), 160)
            );
        }
    }

    for run in runs {
        if let Compiled::No(errors) = &run.compiled {
            let _ = writeln!(
                out,
                "\n{}: the accepted operations do not compile together{}:",
                run.file,
                match errors.len() {
                    1 => String::new(),
                    n => format!(" ({n} errors, the first three)"),
                }
            );
            for error in errors.iter().take(3) {
                for line in error.lines().take(12) {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
    }

    // The same panic recurs across operations; one line per message.
    let mut panics: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for run in runs {
        for op in &run.operations {
            if let Outcome::Panicked(panic) = &op.ours {
                panics
                    .entry(panic)
                    .or_default()
                    .push(format!("{} › {}", run.file, op.name));
            }
        }
    }
    if !panics.is_empty() {
        out.push_str(
            "\nPanics of our generator, one operation alone (operations, then the first few):\n",
        );
        for (panic, operations) in &panics {
            let _ = writeln!(
                out,
                "- {}: {}; {}",
                shorten(panic, 200),
                operations.len(),
                operations
                    .iter()
                    .take(3)
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    out
}

/// "1 operation", "2 operations".
fn operations(count: usize) -> String {
    match count {
        1 => "1 operation".to_string(),
        n => format!("{n} operations"),
    }
}

fn shorten(text: &str, most: usize) -> String {
    match text.char_indices().nth(most) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// A gap: (document, operation, why).
type Gap = (&'static str, &'static str, &'static str);

/// Operations progenitor generates and the generator refuses on purpose,
/// as (document, operation, why). Each is a gap of the SDK, not of the
/// document: the run fails when any other operation falls short of
/// progenitor, and when one listed here is generated, so the list cannot
/// outlive its gap. None today.
const KNOWN_GAPS: &[Gap] = &[];

fn is_known_gap(gaps: &[Gap], file: &str, name: &str) -> bool {
    gaps.iter().any(|(doc, op, _)| *doc == file && *op == name)
}

/// Every check the run fails, one sentence each.
fn failures(runs: &[DocumentRun], gaps: &[Gap]) -> Vec<String> {
    let mut out = Vec::new();
    let known = webex_calling_codegen::REFUSED_CONSTRUCTS;
    for run in runs {
        let file = &run.file;
        let panicked = run.panicked();
        if panicked > 0 {
            out.push(format!(
                "{file}: our generator panicked on {} alone; a panic must be a refusal naming the operation",
                operations(panicked)
            ));
        }
        if let Some(panic) = &run.together_panic {
            out.push(format!(
                "{file}: our generator panicked on the accepted operations together: {panic}"
            ));
        }
        if let Compiled::No(errors) = &run.compiled {
            out.push(format!(
                "{file}: the accepted operations ({}) do not compile together: {}",
                run.generated(),
                shorten(first_line(errors.first().map_or("", String::as_str)), 200)
            ));
        }
        let (ours, theirs) = (run.generated(), run.progenitor());
        let short: Vec<&str> = run
            .operations
            .iter()
            .filter(|op| op.progenitor.generated() && !op.ours.generated())
            .map(|op| op.name.as_str())
            .filter(|name| !is_known_gap(gaps, file, name))
            .collect();
        // Operation by operation, not only in count: one that progenitor
        // alone takes is taken, whatever else the document holds.
        if !short.is_empty() {
            out.push(format!(
                "{file}: our generator generates {}, progenitor alone {theirs}; not taken: {}",
                operations(ours),
                short.join(", ")
            ));
        }
        for (_, name, why) in gaps.iter().filter(|(doc, _, _)| *doc == file) {
            if run
                .operations
                .iter()
                .any(|op| op.name == *name && op.ours.generated())
            {
                out.push(format!(
                    "{file}: {name} is generated now; take it out of KNOWN_GAPS ({why})"
                ));
            }
        }
        if run.file == LIVE {
            let refused: Vec<&str> = run
                .operations
                .iter()
                .filter(|op| !op.ours.generated())
                .map(|op| op.name.as_str())
                .collect();
            if !refused.is_empty() {
                out.push(format!(
                    "{file}: {} of its {} operations are not generated, and all must be: {}",
                    refused.len(),
                    run.operations.len(),
                    refused.join(", ")
                ));
            }
        }
        let mut incomplete = 0;
        let mut unlisted: Vec<&str> = Vec::new();
        for op in &run.operations {
            let Outcome::Refused(refusals, _) = &op.ours else {
                continue;
            };
            if refusals.is_empty() {
                incomplete += 1;
            }
            for refusal in refusals {
                if refusal.operation.is_empty()
                    || refusal.location.is_empty()
                    || refusal.construct.is_empty()
                {
                    incomplete += 1;
                }
                if !known.contains(&refusal.construct.as_str())
                    && !unlisted.contains(&refusal.construct.as_str())
                {
                    unlisted.push(&refusal.construct);
                }
            }
        }
        if incomplete > 0 {
            out.push(format!(
                "{file}: {incomplete} {} not name the operation, the location and the construct",
                if incomplete == 1 {
                    "refusal does"
                } else {
                    "refusals do"
                }
            ));
        }
        if !unlisted.is_empty() {
            out.push(format!(
                "{file}: refused constructs missing from the crate docs' table (REFUSED_CONSTRUCTS): {}",
                unlisted.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{
        Compiled, DocumentRun, LIVE, OperationRun, Options, Outcome, Refused, crate_name, failures,
        options, package_is, quietly, read_folder, shorten,
    };

    fn op(name: &str, ours: Outcome) -> OperationRun {
        OperationRun {
            name: name.into(),
            ours,
            progenitor: Outcome::Generated,
            progenitor_builder: Outcome::Generated,
        }
    }

    fn refused(location: &str, construct: &str) -> Outcome {
        let refusal = Refused {
            operation: "listThings".into(),
            location: location.into(),
            construct: construct.into(),
            detail: "listThings: refused".into(),
        };
        Outcome::Refused(vec![refusal], "listThings: refused".into())
    }

    fn document(file: &str, operations: Vec<OperationRun>, compiled: Compiled) -> DocumentRun {
        DocumentRun {
            file: file.into(),
            operations,
            compiled,
            together_panic: None,
        }
    }

    #[test]
    fn a_document_generated_as_well_as_progenitor_and_compiled_fails_nothing() {
        let run = document(
            "things.json",
            vec![op("getThing", Outcome::Generated)],
            Compiled::Yes,
        );
        assert_eq!(failures(&[run], &[]), Vec::<String>::new());
    }

    #[test]
    fn a_known_gap_is_no_shortfall_and_fails_once_it_is_generated() {
        let construct = webex_calling_codegen::REFUSED_CONSTRUCTS[0];
        let gaps = [(
            "sockets.json",
            "openSocket",
            "a construct the SDK does not take yet",
        )];
        let (doc, name, _) = gaps[0];
        let gap = [document(
            doc,
            vec![op(name, refused("response 101", construct))],
            Compiled::Nothing,
        )];
        assert!(
            failures(&gap, &gaps).is_empty(),
            "{:?}",
            failures(&gap, &gaps)
        );
        let other = [document(
            doc,
            vec![op("another", refused("response 101", construct))],
            Compiled::Nothing,
        )];
        assert!(
            failures(&other, &gaps)
                .join("\n")
                .contains("not taken: another")
        );
        let taken = [document(
            doc,
            vec![op(name, Outcome::Generated)],
            Compiled::Yes,
        )];
        assert!(
            failures(&taken, &gaps)
                .join("\n")
                .contains("take it out of KNOWN_GAPS")
        );
    }

    #[test]
    fn each_broken_promise_is_a_failure_of_its_own() {
        let construct = webex_calling_codegen::REFUSED_CONSTRUCTS[0];
        let runs = [
            document(
                "things.json",
                vec![
                    op("getThing", Outcome::Panicked("boom".into())),
                    op("listThings", refused("", construct)),
                    op(
                        "putThing",
                        refused("requestBody", "a construct nobody listed"),
                    ),
                ],
                Compiled::No(vec!["error[E0425]: cannot find value".into()]),
            ),
            document(
                LIVE,
                vec![op("updateHuntGroup", refused("requestBody", construct))],
                Compiled::Nothing,
            ),
        ];
        let found = failures(&runs, &[]).join("\n");
        for expected in [
            "things.json: our generator panicked on 1 operation alone",
            "things.json: the accepted operations (0) do not compile together: error[E0425]",
            "things.json: our generator generates 0 operations, progenitor alone 3",
            "things.json: 1 refusal does not name the operation, the location and the construct",
            "things.json: refused constructs missing from the crate docs' table (REFUSED_CONSTRUCTS): a construct nobody listed",
            "webex-calling-live.json: 1 of its 1 operations are not generated, and all must be: updateHuntGroup",
        ] {
            assert!(found.contains(expected), "{expected:?} not in:\n{found}");
        }
    }

    #[test]
    fn a_missing_corpus_folder_is_named() {
        let error = read_folder(std::path::Path::new("/nowhere/corpus"), &[]).unwrap_err();
        assert!(error.contains("/nowhere/corpus"), "{error}");
        assert!(error.contains("../shared/corpus/"), "{error}");
    }

    #[test]
    fn options_name_documents_operations_and_whether_to_compile() {
        assert_eq!(
            options(&[
                "--doc",
                "webex-calling-live.json",
                "--op",
                "updateHuntGroup"
            ]),
            Ok(Options {
                docs: vec!["webex-calling-live".into()],
                ops: vec!["updateHuntGroup".into()],
                compile: true,
            })
        );
        assert!(!options(&["--no-compile"]).unwrap().compile);
        assert!(options(&["--doc"]).is_err());
        assert!(options(&["--fast"]).is_err());
    }

    #[test]
    fn a_panic_is_caught_with_its_message_and_place() {
        let caught = quietly(|| -> u8 { panic!("not {} here", "supported") }).unwrap_err();
        assert!(caught.starts_with("not supported here (at "), "{caught}");
        assert!(caught.contains("corpus.rs:"), "{caught}");
        assert_eq!(quietly(|| 7), Ok(7));
    }

    #[test]
    fn scratch_crates_are_named_after_their_document_and_found_in_package_ids() {
        let name = crate_name("progenitor-param-collision.json");
        assert_eq!(name, "corpus-progenitor-param-collision");
        assert!(package_is(
            "path+file:///t/corpus/corpus-progenitor-param-collision#0.0.0",
            &name
        ));
        assert!(package_is(
            "path+file:///t/corpus/x#corpus-progenitor-param-collision@0.0.0",
            &name
        ));
        assert!(!package_is(
            "path+file:///t/corpus/corpus-progenitor-keeper#0.0.0",
            &name
        ));
    }

    #[test]
    fn long_text_is_cut_on_a_character() {
        assert_eq!(shorten("ééé", 2), "éé…");
        assert_eq!(shorten("ab", 2), "ab");
    }
}
