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
    let files = webex_calling_codegen::generate(spec).unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    for file in files {
        out.push_str(&format!("==> {} <==\n{}\n", file.name, file.contents));
    }
    out
}

/// Compares each fixture's output with its snapshot in `snapshots`,
/// rewriting instead when `update` is set.
fn check_snapshots(fixtures: &Path, snapshots: &Path, update: bool) -> Result<usize, String> {
    let mut names: Vec<PathBuf> = fs::read_dir(fixtures)
        .map_err(|e| e.to_string())?
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut stale = Vec::new();
    for fixture in &names {
        let stem = fixture.file_stem().unwrap().to_string_lossy().into_owned();
        let rendered = render(&fs::read_to_string(fixture).map_err(|e| e.to_string())?);
        let snapshot = snapshots.join(format!("{stem}.snap"));
        if update {
            fs::write(&snapshot, &rendered).map_err(|e| e.to_string())?;
        } else if fs::read_to_string(&snapshot).unwrap_or_default() != rendered {
            stale.push(format!(
                "snapshot {stem}.snap differs from the generator's output"
            ));
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
        Ok(count) => assert_eq!(count, 2),
        Err(message) => panic!("{message}"),
    }
}

#[test]
fn a_tampered_snapshot_fails_with_the_command_to_run() {
    let scratch =
        std::env::temp_dir().join(format!("webex-calling-snapshots-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch).unwrap();
    for entry in fs::read_dir(here().join("snapshots")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), scratch.join(entry.file_name())).unwrap();
    }
    let target = scratch.join("put-204-optional-array.snap");
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
        message.contains("put-204-optional-array.snap differs"),
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
