//! Slicing an OpenAPI document: the document of some of its operations,
//! with their paths' parameters and every component they reference,
//! transitively, and nothing else changed.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// The keys of a path item that hold an operation.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One operation of a document: where it is, and its operationId.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationRef {
    /// The path, as a key of `paths`.
    pub path: String,
    /// The method, as a key of the path item (lower case).
    pub method: String,
    /// The operationId, when the operation has one.
    pub id: Option<String>,
}

impl OperationRef {
    /// The operationId, or `METHOD /path` for an operation without one.
    pub fn name(&self) -> String {
        match &self.id {
            Some(id) => id.clone(),
            None => format!("{} {}", self.method.to_uppercase(), self.path),
        }
    }
}

/// Every operation of the document, in the document's order.
pub fn operations(document: &Value) -> Vec<OperationRef> {
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, operation) in item {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            out.push(OperationRef {
                path: path.clone(),
                method: method.clone(),
                id: operation
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
    }
    out
}

/// The document of the given operations: each under its path with the path
/// item's `parameters`, and of `components` only what they reference,
/// transitively (and the security schemes, which security requirements
/// name without a `$ref`). Every other top-level key is kept as it is.
pub fn slice(document: &Value, operations: &[OperationRef]) -> Value {
    let mut paths = Map::new();
    if let Some(all) = document.get("paths").and_then(Value::as_object) {
        for (path, item) in all {
            let wanted: Vec<&OperationRef> =
                operations.iter().filter(|op| &op.path == path).collect();
            if wanted.is_empty() {
                continue;
            }
            let mut sliced = Map::new();
            for (key, value) in item.as_object().into_iter().flatten() {
                let keep = if METHODS.contains(&key.as_str()) {
                    wanted.iter().any(|op| &op.method == key)
                } else {
                    key == "parameters"
                };
                if keep {
                    sliced.insert(key.clone(), value.clone());
                }
            }
            paths.insert(path.clone(), Value::Object(sliced));
        }
    }
    let paths = Value::Object(paths);
    let used = referenced_components(document, &paths);

    let mut out = Map::new();
    for (key, value) in document.as_object().into_iter().flatten() {
        match key.as_str() {
            "paths" => {
                out.insert(key.clone(), paths.clone());
            }
            "components" => {
                let components = components_used(value, &used);
                if !components.is_empty() {
                    out.insert(key.clone(), Value::Object(components));
                }
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

/// The components of `all` that are in `used`, in the document's order,
/// and every security scheme.
fn components_used(all: &Value, used: &BTreeSet<(String, String)>) -> Map<String, Value> {
    let mut components = Map::new();
    for (kind, entries) in all.as_object().into_iter().flatten() {
        let kept: Map<String, Value> = if kind == "securitySchemes" {
            entries.as_object().cloned().unwrap_or_default()
        } else {
            entries
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(name, _)| used.contains(&(kind.clone(), (*name).clone())))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect()
        };
        if !kept.is_empty() {
            components.insert(kind.clone(), Value::Object(kept));
        }
    }
    components
}

/// Every component `(kind, name)` that `start` references through `$ref`,
/// and that those reference in turn. A reference to a component the
/// document does not have is listed, and leads nowhere.
pub fn referenced_components(document: &Value, start: &Value) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut pending = Vec::new();
    references(start, &mut pending);
    while let Some(reference) = pending.pop() {
        let Some(component) = component_of(&reference) else {
            continue;
        };
        if !seen.insert(component.clone()) {
            continue;
        }
        let (kind, name) = &component;
        if let Some(target) = document
            .get("components")
            .and_then(|c| c.get(kind))
            .and_then(|c| c.get(name))
        {
            references(target, &mut pending);
        }
    }
    seen
}

/// Every string value of a `$ref` key anywhere in `value`: in properties,
/// `items`, `allOf`/`oneOf`/`anyOf`, `additionalProperties`, parameters,
/// responses, headers and everything else.
pub fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => out.push(reference.clone()),
                    _ => references(value, out),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                references(item, out);
            }
        }
        _ => {}
    }
}

/// The `(kind, name)` of a reference to a component of the same document
/// (`#/components/schemas/Name`), with JSON pointer escapes (`~1`, `~0`)
/// and percent-encoding undone; `None` for any other reference.
pub fn component_of(reference: &str) -> Option<(String, String)> {
    let rest = reference.strip_prefix("#/components/")?;
    let (kind, name) = rest.split_once('/')?;
    if name.contains('/') {
        return None;
    }
    let name = percent_decode(name)?.replace("~1", "/").replace("~0", "~");
    Some((kind.to_string(), name))
}

/// `%XX` escapes of a URI fragment, decoded; `None` when they do not make
/// UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{OperationRef, component_of, operations, referenced_components, slice};

    fn op(path: &str, method: &str, id: &str) -> OperationRef {
        OperationRef {
            path: path.into(),
            method: method.into(),
            id: Some(id.into()),
        }
    }

    fn document() -> serde_json::Value {
        json!({
            "openapi": "3.0.0",
            "info": {"title": "Things", "version": "1"},
            "servers": [{"url": "https://example.com"}],
            "tags": [{"name": "things"}],
            "paths": {
                "/things/{thingId}": {
                    "parameters": [{"$ref": "#/components/parameters/ThingId"}],
                    "summary": "One thing",
                    "get": {
                        "operationId": "getThing",
                        "responses": {"200": {"$ref": "#/components/responses/Thing"}}
                    },
                    "put": {
                        "operationId": "updateThing",
                        "requestBody": {"$ref": "#/components/requestBodies/ThingUpdate"},
                        "responses": {"204": {"description": "done"}}
                    }
                },
                "/others": {
                    "get": {
                        "responses": {"200": {"description": "list", "content": {"application/json": {
                            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Other"}}
                        }}}}
                    }
                }
            },
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                "parameters": {
                    "ThingId": {"name": "thingId", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/Id"}},
                    "Unused": {"name": "unused", "in": "query", "schema": {"type": "string"}}
                },
                "responses": {
                    "Thing": {
                        "description": "a thing",
                        "headers": {"Link": {"$ref": "#/components/headers/Link"}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
                    }
                },
                "headers": {"Link": {"schema": {"type": "string"}}},
                "requestBodies": {
                    "ThingUpdate": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingUpdate"}}}}
                },
                "schemas": {
                    "Id": {"type": "string"},
                    "Thing": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"type": "object", "properties": {
                        "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Part"}},
                        "labels": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Label"}}
                    }}]},
                    "Base": {"type": "object", "properties": {"kind": {"oneOf": [{"$ref": "#/components/schemas/Kind"}]}}},
                    "Kind": {"type": "string", "enum": ["A"]},
                    "Part": {"type": "object", "properties": {"of": {"$ref": "#/components/schemas/Thing"}}},
                    "Label": {"anyOf": [{"$ref": "#/components/schemas/Id"}]},
                    "ThingUpdate": {"type": "object", "properties": {"name": {"type": "string"}}},
                    "Other": {"type": "object"}
                }
            }
        })
    }

    #[test]
    fn operations_are_listed_in_document_order_with_their_ids() {
        let found = operations(&document());
        assert_eq!(
            found,
            [
                op("/things/{thingId}", "get", "getThing"),
                op("/things/{thingId}", "put", "updateThing"),
                OperationRef {
                    path: "/others".into(),
                    method: "get".into(),
                    id: None
                },
            ]
        );
        assert_eq!(found[2].name(), "GET /others");
    }

    #[test]
    fn a_slice_keeps_the_operation_its_path_parameters_and_every_component_it_reaches() {
        let sliced = slice(&document(), &[op("/things/{thingId}", "get", "getThing")]);
        let full = document();
        for key in ["openapi", "info", "servers", "tags"] {
            assert_eq!(sliced[key], full[key], "{key}");
        }
        assert_eq!(
            sliced["paths"],
            json!({"/things/{thingId}": {
                "parameters": [{"$ref": "#/components/parameters/ThingId"}],
                "get": full["paths"]["/things/{thingId}"]["get"]
            }})
        );
        let components = &sliced["components"];
        let mut names: Vec<String> = Vec::new();
        for (kind, entries) in components.as_object().unwrap() {
            for name in entries.as_object().unwrap().keys() {
                names.push(format!("{kind}.{name}"));
            }
        }
        assert_eq!(
            names,
            [
                "securitySchemes.bearer",
                "parameters.ThingId",
                "responses.Thing",
                "headers.Link",
                "schemas.Id",
                "schemas.Thing",
                "schemas.Base",
                "schemas.Kind",
                "schemas.Part",
                "schemas.Label",
            ]
        );
        assert_eq!(
            components["schemas"]["Thing"],
            full["components"]["schemas"]["Thing"]
        );
    }

    #[test]
    fn a_request_body_reference_brings_its_component_and_its_schema() {
        let sliced = slice(
            &document(),
            &[op("/things/{thingId}", "put", "updateThing")],
        );
        let components = &sliced["components"];
        assert!(components["requestBodies"]["ThingUpdate"].is_object());
        assert!(components["schemas"]["ThingUpdate"].is_object());
        assert!(components["schemas"]["Id"].is_object());
        assert!(components.get("responses").is_none());
        assert!(components["schemas"].get("Thing").is_none());
    }

    #[test]
    fn a_slice_of_several_operations_holds_each_of_them() {
        let all = operations(&document());
        let sliced = slice(&document(), &all);
        assert_eq!(operations(&sliced), all);
        assert!(sliced["components"]["schemas"]["Other"].is_object());
        assert!(sliced["components"]["parameters"].get("Unused").is_none());
    }

    #[test]
    fn a_missing_component_is_listed_and_ends_the_walk() {
        let start = json!({"schema": {"$ref": "#/components/schemas/Nowhere"}});
        let found = referenced_components(&document(), &start);
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            [("schemas".to_string(), "Nowhere".to_string())]
        );
    }

    #[test]
    fn component_references_are_unescaped_and_others_ignored() {
        assert_eq!(
            component_of("#/components/schemas/A~1B~0C%20D"),
            Some(("schemas".into(), "A/B~C D".into()))
        );
        assert_eq!(component_of("other.json#/components/schemas/A"), None);
        assert_eq!(component_of("#/paths/~1things"), None);
        assert_eq!(component_of("#/components/schemas/A/properties/b"), None);
    }
}
