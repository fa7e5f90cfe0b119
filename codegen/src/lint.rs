//! The project's own rules for the spec, beyond what OpenAPI requires.

use std::collections::BTreeSet;

use openapiv3::{OpenAPI, Operation, ReferenceOr, Schema, SchemaKind, StatusCode, Type};

/// The error statuses the Webex reference pages document for every
/// operation; each must be declared, so callers see them in the docs.
pub const DOCUMENTED_ERROR_STATUSES: &[u16] = &[
    400, 401, 403, 404, 405, 409, 410, 415, 423, 428, 429, 500, 502, 503, 504,
];

/// Every problem found, as `where: what`; empty when the spec is complete.
pub fn lint(spec: &OpenAPI) -> Vec<String> {
    let mut problems = Vec::new();
    if !spec.openapi.starts_with("3.0.") {
        problems.push(format!("openapi: version {} is not 3.0.x", spec.openapi));
    }
    for (path, item) in spec.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            problems.push(format!("{path}: path item references are not allowed"));
            continue;
        };
        for (method, operation) in item.iter() {
            lint_operation(
                &format!("{} {path}", method.to_uppercase()),
                operation,
                &mut problems,
            );
        }
    }
    if let Some(components) = &spec.components {
        for (name, schema) in &components.schemas {
            if let ReferenceOr::Item(schema) = schema {
                lint_schema(
                    &format!("components.schemas.{name}"),
                    schema,
                    true,
                    &mut problems,
                );
            }
        }
    }
    unreferenced(spec, &mut problems);
    problems
}

fn lint_operation(at: &str, operation: &Operation, problems: &mut Vec<String>) {
    let id = operation.operation_id.as_deref().unwrap_or("");
    if id.is_empty() {
        problems.push(format!("{at}: no operationId"));
    }
    if is_blank(operation.summary.as_deref()) {
        problems.push(format!("{at}: no summary"));
    }
    if is_blank(operation.description.as_deref()) {
        problems.push(format!("{at}: no description"));
    }
    match &operation.request_body {
        Some(ReferenceOr::Item(body)) => {
            let has_example = body
                .content
                .values()
                .any(|media| media.example.is_some() || !media.examples.is_empty());
            if !has_example {
                problems.push(format!("{at}: the request body has no example"));
            }
        }
        // Reads and deletes take no body.
        Some(ReferenceOr::Reference { .. }) | None => {}
    }
    let declared: BTreeSet<u16> = operation
        .responses
        .responses
        .keys()
        .filter_map(|code| match code {
            StatusCode::Code(code) => Some(*code),
            StatusCode::Range(_) => None,
        })
        .collect();
    for status in DOCUMENTED_ERROR_STATUSES {
        if !declared.contains(status) {
            problems.push(format!(
                "{at}: the documented status {status} is not declared"
            ));
        }
    }
    if !declared.iter().any(|code| (200..300).contains(code)) {
        problems.push(format!("{at}: no success status"));
    }
    if operation.responses.default.is_some() {
        problems.push(format!(
            "{at}: a `default` response is not allowed (progenitor cannot generate it beside a 204); declare statuses"
        ));
    }
}

fn is_blank(text: Option<&str>) -> bool {
    text.is_none_or(|text| text.trim().is_empty())
}

fn lint_schema(at: &str, schema: &Schema, named: bool, problems: &mut Vec<String>) {
    if is_blank(schema.schema_data.description.as_deref()) {
        problems.push(format!("{at}: no description"));
    }
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(string)) if !string.enumeration.is_empty() && !named => {
            problems.push(format!(
                "{at}: an enum must be a named component, referenced with $ref"
            ));
        }
        SchemaKind::Type(Type::Object(object)) => {
            for (name, property) in &object.properties {
                if let ReferenceOr::Item(property) = property {
                    lint_schema(&format!("{at}.{name}"), property, false, problems);
                }
            }
        }
        SchemaKind::Type(Type::Array(array)) => {
            if let Some(ReferenceOr::Item(items)) = &array.items {
                lint_schema(&format!("{at}[]"), items, false, problems);
            }
        }
        _ => {}
    }
}

/// Components nothing refers to are dead weight or a forgotten `$ref`.
fn unreferenced(spec: &OpenAPI, problems: &mut Vec<String>) {
    let Some(components) = &spec.components else {
        return;
    };
    let text = serde_json::to_string(spec).unwrap_or_default();
    let sections = [
        ("schemas", components.schemas.keys().collect::<Vec<_>>()),
        ("parameters", components.parameters.keys().collect()),
        ("responses", components.responses.keys().collect()),
        ("headers", components.headers.keys().collect()),
        ("requestBodies", components.request_bodies.keys().collect()),
    ];
    for (section, names) in sections {
        for name in names {
            let reference = format!("\"#/components/{section}/{name}\"");
            if !text.contains(&reference) {
                problems.push(format!(
                    "components.{section}.{name}: not referenced anywhere"
                ));
            }
        }
    }
    for name in components.security_schemes.keys() {
        let used = spec
            .security
            .iter()
            .flatten()
            .any(|req| req.contains_key(name))
            || spec
                .paths
                .iter()
                .filter_map(|(_, item)| item.as_item())
                .flat_map(|item| item.iter())
                .flat_map(|(_, op)| op.security.iter().flatten())
                .any(|req| req.contains_key(name));
        if !used {
            problems.push(format!(
                "components.securitySchemes.{name}: not used by any security requirement"
            ));
        }
    }
}
