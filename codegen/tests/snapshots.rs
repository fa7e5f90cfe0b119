//! The generator's output for small fixture specs, pinned by committed
//! snapshots. `UPDATE_SNAPSHOTS=1 cargo test -p webex-calling-codegen --test
//! snapshots` rewrites them after an intended change.

use std::fs;
use std::path::{Path, PathBuf};

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Every generated file of one spec, in one text.
fn render(spec: &str) -> String {
    let mut out = String::new();
    for file in generate(spec) {
        out.push_str(&format!("==> {} <==\n{}\n", file.name, file.contents));
    }
    out
}

fn generate(spec: &str) -> Vec<webex_calling_codegen::GeneratedFile> {
    webex_calling_codegen::generate(spec).unwrap_or_else(|e| panic!("{e}"))
}

fn fixture_names(fixtures: &Path) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = fs::read_dir(fixtures)
        .map_err(|e| e.to_string())?
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Compares each fixture's output with its snapshot folder in `snapshots`
/// (one file per generated file, so the SDK's tests can compile it),
/// rewriting instead when `update` is set.
fn check_snapshots(fixtures: &Path, snapshots: &Path, update: bool) -> Result<usize, String> {
    let names = fixture_names(fixtures)?;
    let mut stale = Vec::new();
    for stem in &names {
        let spec =
            fs::read_to_string(fixtures.join(format!("{stem}.yaml"))).map_err(|e| e.to_string())?;
        let dir = snapshots.join(stem);
        let files = generate(&spec);
        if update {
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        }
        for file in &files {
            let path = dir.join(file.name);
            if update {
                fs::write(&path, &file.contents).map_err(|e| e.to_string())?;
            } else if fs::read_to_string(&path).unwrap_or_default() != file.contents {
                stale.push(format!(
                    "snapshot {stem}/{} differs from the generator's output",
                    file.name
                ));
            }
        }
        if let Ok(entries) = fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !files.iter().any(|f| f.name == name) {
                    stale.push(format!(
                        "snapshot {stem}/{name} is not made by the generator"
                    ));
                }
            }
        }
    }
    if stale.is_empty() {
        Ok(names.len())
    } else {
        Err(format!(
            "{}\nif the change is intended, run `UPDATE_SNAPSHOTS=1 cargo test -p webex-calling-codegen --test snapshots` and commit",
            stale.join("\n")
        ))
    }
}

#[test]
fn the_generator_output_for_each_fixture_matches_its_snapshot() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    match check_snapshots(&here().join("fixtures"), &here().join("snapshots"), update) {
        Ok(count) => assert_eq!(count, 13),
        Err(message) => panic!("{message}"),
    }
}

#[test]
fn every_fixture_snapshot_is_compiled_and_called_by_the_sdk_tests() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/src/fixture_tests.rs");
    let tests = fs::read_to_string(&tests).unwrap();
    for stem in fixture_names(&here().join("fixtures")).unwrap() {
        let include = format!("codegen/tests/snapshots/{stem}/mod.rs");
        assert!(
            tests.contains(&include),
            "sdk/src/fixture_tests.rs does not compile the snapshot of {stem}; add a module with #[path = \"../../{include}\"] and a test that calls it"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn a_tampered_snapshot_fails_with_the_command_to_run() {
    let scratch =
        std::env::temp_dir().join(format!("webex-calling-snapshots-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    copy_dir(&here().join("snapshots"), &scratch);
    let target = scratch.join("put-204-optional-array/validate.rs");
    let text = fs::read_to_string(&target).unwrap();
    fs::write(
        &target,
        text.replacen(
            "::std::option::Option::Some(3)",
            "::std::option::Option::Some(4)",
            1,
        ),
    )
    .unwrap();
    let message = check_snapshots(&here().join("fixtures"), &scratch, false).unwrap_err();
    assert!(
        message.contains("put-204-optional-array/validate.rs differs"),
        "{message}"
    );
    assert!(message.contains("UPDATE_SNAPSHOTS=1"), "{message}");
    fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn an_optional_array_becomes_an_option_of_vec_skipped_only_when_unset() {
    let out =
        render(&fs::read_to_string(here().join("fixtures/put-204-optional-array.yaml")).unwrap());
    assert!(
        out.contains("pub items: ::std::option::Option<::std::vec::Vec<::std::string::String>>"),
        "{out}"
    );
    assert!(!out.contains("Vec::is_empty"), "{out}");
}

#[test]
fn every_bound_becomes_a_check_even_a_maximum_beside_a_minimum_of_one() {
    let out =
        render(&fs::read_to_string(here().join("fixtures/put-204-optional-array.yaml")).unwrap());
    assert!(out.contains("out.items("), "maxItems is checked: {out}");
    assert!(
        out.contains(
            "::std::option::Option::Some(1),\n                ::std::option::Option::Some(5),"
        ),
        "{out}"
    );
    let out = render(
        &fs::read_to_string(here().join("fixtures/put-200-enum-bounded-string.yaml")).unwrap(),
    );
    assert!(out.contains("out.length("), "{out}");
    assert!(out.contains("schemars(length(min = 1, max = 8))"), "{out}");
}

#[test]
fn no_api_version_header_is_sent() {
    for fixture in [
        "put-200-enum-bounded-string.yaml",
        "put-204-optional-array.yaml",
    ] {
        let out = render(&fs::read_to_string(here().join("fixtures").join(fixture)).unwrap());
        assert!(!out.contains("api-version"), "{fixture}");
    }
}
