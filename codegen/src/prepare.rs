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

/// Returns `spec` with every bound, pattern and default removed.
pub fn for_progenitor(spec: &OpenAPI) -> OpenAPI {
    let mut spec = spec.clone();
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
    spec
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
