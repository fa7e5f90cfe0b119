//! The copy of the spec that progenitor sees.
//!
//! typify turns every bounded string into a newtype, every `default` into a
//! value that is always serialized, and drops some bounds. None of that fits
//! partial updates, so progenitor gets the spec without validation keywords
//! and defaults; the rules themselves are read from the original spec by
//! [`crate::rules`] and emitted as explicit checks.

use openapiv3::{
    OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type,
};

/// The extension that keeps a component schema out of the generated types:
/// it documents a shape the SDK's hand-written runtime reads itself (the
/// error body, which `ApiError` carries).
pub const DOCUMENTATION_ONLY: &str = "x-documentation-only";

/// The names of the component schemas marked `x-documentation-only: true`.
pub fn documentation_only(spec: &OpenAPI) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let Some(components) = spec.components.as_ref() else {
        return Ok(names);
    };
    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        match schema.schema_data.extensions.get(DOCUMENTATION_ONLY) {
            None | Some(serde_json::Value::Bool(false)) => {}
            Some(serde_json::Value::Bool(true)) => names.push(name.clone()),
            Some(_) => {
                return Err(format!(
                    "schema {name}: {DOCUMENTATION_ONLY} must be true or false"
                ));
            }
        }
    }
    Ok(names)
}

/// Takes the schemas marked `x-documentation-only` out of progenitor's
/// copy, with the response contents that name them (error answers, which
/// the runtime reads itself). A request body or a success answer that
/// names one is refused: the SDK would have no type for it.
fn drop_documentation_only(spec: &mut OpenAPI) -> Result<(), String> {
    let names = documentation_only(spec)?;
    if names.is_empty() {
        return Ok(());
    }
    let names_one = |schema: &Option<ReferenceOr<Schema>>| {
        matches!(schema, Some(ReferenceOr::Reference { reference })
            if names.iter().any(|name| reference == &format!("#/components/schemas/{name}")))
    };
    let strip = |response: &mut openapiv3::Response| {
        response
            .content
            .retain(|_, media| !names_one(&media.schema));
    };
    if let Some(components) = spec.components.as_mut() {
        for response in components.responses.values_mut() {
            if let ReferenceOr::Item(response) = response {
                strip(response);
            }
        }
    }
    for (path, item) in spec.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let operations = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("options", &mut item.options),
            ("head", &mut item.head),
            ("patch", &mut item.patch),
            ("trace", &mut item.trace),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation.as_mut() else {
                continue;
            };
            let body_names_one = operation.request_body.as_ref().is_some_and(|body| {
                matches!(body, ReferenceOr::Item(body)
                    if body.content.values().any(|media| names_one(&media.schema)))
            });
            if body_names_one {
                return Err(format!(
                    "{method} {path}: the request body is a schema marked {DOCUMENTATION_ONLY}, which has no generated type"
                ));
            }
            for (status, response) in operation.responses.responses.iter_mut() {
                let ReferenceOr::Item(response) = response else {
                    continue;
                };
                let success = matches!(status, openapiv3::StatusCode::Code(code) if (200..300).contains(code));
                if success
                    && response
                        .content
                        .values()
                        .any(|media| names_one(&media.schema))
                {
                    return Err(format!(
                        "{method} {path}: the {status} answer is a schema marked {DOCUMENTATION_ONLY}, which has no generated type"
                    ));
                }
                strip(response);
            }
        }
    }
    if let Some(components) = spec.components.as_mut() {
        components.schemas.retain(|name, _| !names.contains(name));
    }
    Ok(())
}

/// Returns `spec` with every bound, pattern and default removed, and
/// without the schemas marked `x-documentation-only`.
pub fn for_progenitor(spec: &OpenAPI) -> Result<OpenAPI, String> {
    let mut spec = spec.clone();
    drop_documentation_only(&mut spec)?;
    if let Some(components) = spec.components.as_mut() {
        for schema in components.schemas.values_mut() {
            strip_ref_or_schema(schema);
        }
        for parameter in components.parameters.values_mut() {
            if let ReferenceOr::Item(parameter) = parameter {
                strip_parameter(parameter);
            }
        }
    }
    for (_, item) in spec.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for parameter in item.parameters.iter_mut() {
            if let ReferenceOr::Item(parameter) = parameter {
                strip_parameter(parameter);
            }
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            for parameter in operation.parameters.iter_mut() {
                if let ReferenceOr::Item(parameter) = parameter {
                    strip_parameter(parameter);
                }
            }
            if let Some(ReferenceOr::Item(body)) = operation.request_body.as_mut() {
                for media in body.content.values_mut() {
                    if let Some(schema) = media.schema.as_mut() {
                        strip_ref_or_schema(schema);
                    }
                }
            }
        }
    }
    Ok(spec)
}

fn strip_parameter(parameter: &mut Parameter) {
    let data = match parameter {
        Parameter::Query { parameter_data, .. }
        | Parameter::Header { parameter_data, .. }
        | Parameter::Path { parameter_data, .. }
        | Parameter::Cookie { parameter_data, .. } => parameter_data,
    };
    if let ParameterSchemaOrContent::Schema(schema) = &mut data.format {
        strip_ref_or_schema(schema);
    }
}

fn strip_ref_or_schema(schema: &mut ReferenceOr<Schema>) {
    if let ReferenceOr::Item(schema) = schema {
        strip_schema(schema);
    }
}

fn strip_boxed(schema: &mut ReferenceOr<Box<Schema>>) {
    if let ReferenceOr::Item(schema) = schema {
        strip_schema(schema);
    }
}

fn strip_schema(schema: &mut Schema) {
    schema.schema_data.default = None;
    match &mut schema.schema_kind {
        SchemaKind::Type(Type::String(string)) => {
            string.min_length = None;
            string.max_length = None;
            string.pattern = None;
        }
        SchemaKind::Type(Type::Integer(integer)) => {
            integer.minimum = None;
            integer.maximum = None;
            integer.exclusive_minimum = false;
            integer.exclusive_maximum = false;
            integer.multiple_of = None;
        }
        SchemaKind::Type(Type::Number(number)) => {
            number.minimum = None;
            number.maximum = None;
            number.exclusive_minimum = false;
            number.exclusive_maximum = false;
            number.multiple_of = None;
        }
        SchemaKind::Type(Type::Array(array)) => {
            array.min_items = None;
            array.max_items = None;
            if let Some(items) = array.items.as_mut() {
                strip_boxed(items);
            }
        }
        SchemaKind::Type(Type::Object(object)) => {
            for property in object.properties.values_mut() {
                strip_boxed(property);
            }
        }
        SchemaKind::AllOf { all_of: list }
        | SchemaKind::OneOf { one_of: list }
        | SchemaKind::AnyOf { any_of: list } => {
            for schema in list {
                strip_ref_or_schema(schema);
            }
        }
        _ => {}
    }
}

/// Moves request and response bodies written inline into components, under
/// the names progenitor gives them (`{Operation}Body`, `{Operation}Response`),
/// so that the rest of the generator finds every body type by name.
pub fn hoist_inline_bodies(mut spec: OpenAPI) -> Result<OpenAPI, String> {
    let mut hoisted = Vec::new();
    for (path, item) in spec.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            let Some(id) = operation.operation_id.clone() else {
                return Err(format!("{path}: an operation has no operationId"));
            };
            let name = crate::operations::pascal(&id);
            if let Some(ReferenceOr::Item(body)) = operation.request_body.as_mut() {
                for media in body.content.values_mut() {
                    hoist(&mut media.schema, format!("{name}Body"), &mut hoisted);
                }
            }
            for response in operation.responses.responses.values_mut() {
                if let ReferenceOr::Item(response) = response {
                    for media in response.content.values_mut() {
                        hoist(&mut media.schema, format!("{name}Response"), &mut hoisted);
                    }
                }
            }
        }
    }
    if hoisted.is_empty() {
        return Ok(spec);
    }
    let components = spec.components.get_or_insert_with(Default::default);
    for (name, schema) in hoisted {
        if components.schemas.contains_key(&name) {
            return Err(format!(
                "an inline body would be named {name}, which a component schema already is"
            ));
        }
        components.schemas.insert(name, ReferenceOr::Item(schema));
    }
    Ok(spec)
}

fn hoist(
    slot: &mut Option<ReferenceOr<Schema>>,
    name: String,
    hoisted: &mut Vec<(String, Schema)>,
) {
    let Some(ReferenceOr::Item(schema)) = slot else {
        return;
    };
    if !matches!(schema.schema_kind, SchemaKind::Type(Type::Object(_))) {
        return;
    }
    let reference = format!("#/components/schemas/{name}");
    if let Some(ReferenceOr::Item(schema)) = slot.replace(ReferenceOr::Reference { reference }) {
        hoisted.push((name, schema));
    }
}
