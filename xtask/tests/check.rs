//! Checks 1 and 4 of `cargo xtask check`: they pass on the workspace, and
//! fail with the fix on a broken copy.

use std::fs;

use xtask::check;

mod common;

use common::edit;

/// Copies the files checks 1 and 4 read into a scratch folder.
fn scratch(name: &str) -> std::path::PathBuf {
    common::scratch(
        name,
        &[
            "spec",
            "sdk/src",
            "sdk/Cargo.toml",
            "sdk/README.md",
            "README.md",
        ],
    )
}

#[test]
fn the_spec_is_valid_and_complete() {
    let summary = check::spec(&xtask::root()).unwrap();
    assert!(summary.contains("lint clean (21 operations"), "{summary}");
}

#[test]
fn a_spec_without_a_summary_an_error_status_and_a_description_fails_the_lint() {
    let dir = scratch("lint");
    let spec = dir.join("spec/webex-calling.yaml");
    edit(&spec, "      summary: Update a hunt group.\n", "");
    edit(
        &spec,
        "        \"428\":\n          $ref: \"#/components/responses/PreconditionRequired\"\n",
        "",
    );
    edit(
        &spec,
        "          description: >-\n            Name callers can dial the hunt group by from the directory; `\"\"`\n            clears it. Printable ASCII only, without `%`, `+`, `\\` or `\"`.\n",
        "",
    );
    let message = check::spec(&dir).unwrap_err();
    assert!(
        message.contains(
            "PUT /telephony/config/locations/{locationId}/huntGroups/{huntGroupId}: no summary"
        ),
        "{message}"
    );
    assert!(
        message.contains("the documented status 428 is not declared"),
        "{message}"
    );
    assert!(
        message.contains("components.schemas.UpdateHuntGroupRequest.dialByName: no description"),
        "{message}"
    );
    assert!(message.contains("fix them in the spec"), "{message}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_inline_enum_and_an_unreferenced_component_fail_the_lint() {
    let dir = scratch("lint-enum");
    let spec = dir.join("spec/webex-calling.yaml");
    edit(
        &spec,
        "        dialByName:\n          type: string\n",
        "        dialByName:\n          type: string\n          enum: [A, B]\n",
    );
    edit(
        &spec,
        "  schemas:\n",
        "  schemas:\n    Orphan:\n      type: string\n      description: Nobody uses this.\n",
    );
    let message = check::spec(&dir).unwrap_err();
    assert!(
        message.contains("dialByName: an enum must be a named component"),
        "{message}"
    );
    assert!(
        message.contains("components.schemas.Orphan: not referenced anywhere"),
        "{message}"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_spec_that_is_not_openapi_fails_the_check() {
    let dir = scratch("not-openapi");
    edit(
        &dir.join("spec/webex-calling.yaml"),
        "openapi: 3.0.3",
        "openapi: [3]",
    );
    let message = check::spec(&dir).unwrap_err();
    assert!(
        message.contains("(document) › document: not an OpenAPI 3.0 document"),
        "{message}"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_docs_show_only_the_specs_examples_and_no_ignored_rust() {
    let summary = check::docs(&xtask::root()).unwrap();
    assert!(summary.contains("none `ignore`"), "{summary}");
}

#[test]
fn a_readme_json_example_that_drifted_from_the_spec_fails_the_docs_check() {
    let dir = scratch("readme-json");
    edit(
        &dir.join("sdk/README.md"),
        "\"notificationDelayTimerSeconds\": 20",
        "\"notificationDelayTimerSeconds\": 30",
    );
    let message = check::docs(&dir).unwrap_err();
    assert!(message.contains("sdk/README.md:"), "{message}");
    assert!(
        message.contains("is not one of the spec's examples"),
        "{message}"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_rustdoc_json_example_that_drifted_from_the_spec_fails_the_docs_check() {
    let dir = scratch("rustdoc-json");
    edit(
        &dir.join("sdk/src/generated/client.rs"),
        "\"extension\": \"7781\"",
        "\"extension\": \"7782\"",
    );
    let message = check::docs(&dir).unwrap_err();
    assert!(
        message.contains("sdk/src/generated/client.rs:"),
        "{message}"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_ignored_rust_block_fails_the_docs_check() {
    let dir = scratch("ignore");
    edit(
        &dir.join("sdk/README.md"),
        "```rust,no_run",
        "```rust,ignore",
    );
    let message = check::docs(&dir).unwrap_err();
    assert!(
        message.contains("marked `ignore` is never compiled"),
        "{message}"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_rust_block_in_the_workspace_readme_fails_the_docs_check() {
    let dir = scratch("workspace-rust");
    edit(
        &dir.join("README.md"),
        "## Performance\n",
        "```rust\nlet _ = webex_calling::Client::from_env();\n```\n\n## Performance\n",
    );
    let message = check::docs(&dir).unwrap_err();
    assert!(
        message.contains("README.md:") && message.contains("never compiled"),
        "{message}"
    );
    assert!(!message.contains("sdk/README.md:"), "{message}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn docs_made_of_another_file_than_the_crate_readme_fail_the_docs_check() {
    let dir = scratch("crate-readme");
    edit(
        &dir.join("sdk/src/lib.rs"),
        "#![doc = include_str!(\"../README.md\")]",
        "#![doc = include_str!(\"../../README.md\")]",
    );
    edit(
        &dir.join("sdk/Cargo.toml"),
        "readme = \"README.md\"",
        "readme = \"../README.md\"",
    );
    let message = check::docs(&dir).unwrap_err();
    assert!(
        message.contains("sdk/src/lib.rs must take sdk/README.md as its docs"),
        "{message}"
    );
    assert!(
        message.contains("sdk/Cargo.toml must name sdk/README.md"),
        "{message}"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_construct_the_generator_cannot_take_fails_the_check_naming_it() {
    let dir = scratch("unsupported");
    let spec = dir.join("spec/webex-calling.yaml");
    edit(
        &spec,
        "        - $ref: \"#/components/parameters/OrgId\"\n",
        "        - $ref: \"#/components/parameters/OrgId\"\n        - name: session\n          in: cookie\n          description: A session.\n          schema:\n            type: string\n",
    );
    let message = check::spec(&dir).unwrap_err();
    assert!(
        message.contains("› parameter session: cookie parameter"),
        "{message}"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_readme_link_without_a_definition_is_named_with_its_line() {
    let text = "Use [`Client`] and [`Error`].\n\n```rust\nlet x = [`NotALink`];\n```\n\nSee [`Response`](https://docs.rs/x) too.\n\n[`Client`]: https://docs.rs/webex-calling/latest/webex_calling/struct.Client.html\n";
    let problems = check::undefined_links("sdk/README.md", text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with("sdk/README.md:1: [`Error`] has no link definition"),
        "{problems:#?}"
    );
}

#[test]
fn the_crate_readme_defines_every_link_it_uses() {
    let readme = fs::read_to_string(xtask::root().join("sdk/README.md")).unwrap();
    assert_eq!(
        check::undefined_links("sdk/README.md", &readme),
        Vec::<String>::new()
    );
}
