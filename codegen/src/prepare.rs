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

/// Returns the components of `spec` with every bound, pattern, format and
/// default removed, and no paths: progenitor's operation code is replaced
/// as a whole, so it only gets what it makes types of.
pub fn for_progenitor(spec: &OpenAPI) -> OpenAPI {
    let mut spec = spec.clone();
    spec.paths = Default::default();
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
            // `uuid`, `date-time`, `date` and the like would be `uuid` and
            // `chrono` types, which the SDK does not depend on: the value
            // stays the text the service wrote.
            string.format = openapiv3::VariantOrUnknownOrEmpty::Empty;
            string.min_length = None;
            string.max_length = None;
            string.pattern = None;
        }
        SchemaKind::Type(Type::Integer(integer)) => {
            // An integer is an `i32` or an `i64` (the checks compare bounds
            // as `i64`): an unsigned or unknown format would be a type
            // `i64` does not convert from.
            let keep = matches!(
                &integer.format,
                openapiv3::VariantOrUnknownOrEmpty::Item(
                    openapiv3::IntegerFormat::Int32 | openapiv3::IntegerFormat::Int64
                )
            );
            if !keep {
                integer.format = openapiv3::VariantOrUnknownOrEmpty::Empty;
            }
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
            // A nullable object would be typify's newtype of an `Option`;
            // the SDK makes it a struct, whose fields are checked, and a
            // property that may be absent or `null` is an `Option` of it.
            if !object.properties.is_empty() {
                schema.schema_data.nullable = false;
            }
            for property in object.properties.values_mut() {
                strip_boxed(property);
            }
            if let Some(openapiv3::AdditionalProperties::Schema(schema)) =
                object.additional_properties.as_mut()
            {
                strip_ref_or_schema(schema);
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
