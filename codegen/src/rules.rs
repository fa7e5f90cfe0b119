//! The validation rules of the spec, read from the original document.
//!
//! Each rule becomes two things in the generated code: a check that runs
//! before a request is sent (see [`crate::types`]) and a `schemars`
//! attribute, so the JSON Schema derived from a type states the same bound as
//! the spec.

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};

/// What a property's value is, as far as validation cares.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// A named object schema with a generated `Validate` impl of its own.
    Object(String),
    /// A string with bounds on its length (in characters) and a pattern,
    /// with the rule the pattern states in words (`x-pattern-rule`).
    String {
        min: Option<usize>,
        max: Option<usize>,
        pattern: Option<String>,
        rule: Option<String>,
    },
    /// An integer with inclusive bounds.
    Integer { min: Option<i64>, max: Option<i64> },
    /// A number with inclusive bounds.
    Number { min: Option<f64>, max: Option<f64> },
    /// An array with bounds on its length and rules for its items.
    Array {
        min: Option<usize>,
        max: Option<usize>,
        items: Box<Shape>,
    },
    /// An enum that keeps values the spec does not list (`x-extensible-enum`):
    /// such a value may be read, but is refused when sent.
    Enum { name: String, values: Vec<String> },
    /// A number or integer component: a newtype that dereferences to its
    /// value, whose rules are checked on that value.
    Newtype(Box<Shape>),
    /// Anything whose type alone says all: booleans, closed enums, free
    /// strings.
    Free,
}

/// `x-extensible-enum: true` on a string enum component: a value the spec
/// does not list is kept when read (as the enum's `Unknown` variant) and
/// refused when sent.
pub const EXTENSIBLE_ENUM: &str = "x-extensible-enum";
/// `x-aliases: [name, ...]` on a property: other JSON names the property is
/// read from.
pub const ALIASES: &str = "x-aliases";
/// `x-update-schema: Name` on an object component that is read: the update
/// component that writes it back; the generator converts one into the other
/// by same-named properties.
pub const UPDATE_SCHEMA: &str = "x-update-schema";
/// `x-update-value: property` on an object component that is read: where
/// an update takes a plain value in its place, it takes this property.
pub const UPDATE_VALUE: &str = "x-update-value";
/// `x-pattern-rule: text` beside a `pattern`: the rule in words, which a
/// broken pattern is reported with instead of the regular expression.
pub const PATTERN_RULE: &str = "x-pattern-rule";
/// `x-replaced-by: [name, ...]` beside `deprecated: true` on a property:
/// the properties to use instead, named in the Rust deprecation note.
pub const REPLACED_BY: &str = "x-replaced-by";

/// The string values of an extension, or of one string.
pub fn extension_strings(schema: &Schema, name: &str) -> Vec<String> {
    match schema.schema_data.extensions.get(name) {
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether the component `name` is an extensible enum.
pub fn is_extensible_enum(spec: &OpenAPI, name: &str) -> bool {
    component(spec, name).is_ok_and(|schema| {
        schema.schema_data.extensions.get(EXTENSIBLE_ENUM) == Some(&serde_json::Value::Bool(true))
    })
}

impl Shape {
    /// Whether a value of this shape can break any rule.
    pub fn has_rules(&self) -> bool {
        match self {
            Shape::Object(_) => true,
            Shape::String {
                min, max, pattern, ..
            } => min.is_some() || max.is_some() || pattern.is_some(),
            Shape::Integer { min, max } => min.is_some() || max.is_some(),
            Shape::Number { min, max } => min.is_some() || max.is_some(),
            Shape::Array { min, max, items } => min.is_some() || max.is_some() || items.has_rules(),
            Shape::Enum { .. } => true,
            Shape::Newtype(inner) => inner.has_rules(),
            Shape::Free => false,
        }
    }
}

/// Reads the shape of a schema, following references into components.
pub fn shape_of(spec: &OpenAPI, schema: &ReferenceOr<Schema>) -> Result<Shape, String> {
    match schema {
        ReferenceOr::Reference { reference } => {
            let name = component_name(reference)?;
            let target = component(spec, name)?;
            match &target.schema_kind {
                // An object with properties is a struct with rules of its
                // own; a free-form one is a map with none.
                SchemaKind::Type(Type::Object(object)) if !object.properties.is_empty() => {
                    Ok(Shape::Object(name.to_string()))
                }
                SchemaKind::Type(Type::String(string))
                    if !string.enumeration.is_empty() && is_extensible_enum(spec, name) =>
                {
                    Ok(Shape::Enum {
                        name: name.to_string(),
                        values: string.enumeration.iter().flatten().cloned().collect(),
                    })
                }
                // A string or an array component is a newtype that
                // dereferences to its value, so its rules are checked on
                // that; a number's newtype is dereferenced to its value
                // first, and an enum's or a union's type says all.
                SchemaKind::Type(Type::String(string)) if string.enumeration.is_empty() => {
                    shape_of_item(spec, target)
                }
                SchemaKind::Type(Type::Array(_)) => shape_of_item(spec, target),
                SchemaKind::Type(Type::Integer(integer)) if !integer.enumeration.is_empty() => {
                    Ok(Shape::Free)
                }
                SchemaKind::Type(Type::Number(number)) if !number.enumeration.is_empty() => {
                    Ok(Shape::Free)
                }
                SchemaKind::Type(Type::Integer(_) | Type::Number(_)) => {
                    let inner = shape_of_item(spec, target)?;
                    Ok(if inner.has_rules() {
                        Shape::Newtype(Box::new(inner))
                    } else {
                        Shape::Free
                    })
                }
                _ => Ok(Shape::Free),
            }
        }
        ReferenceOr::Item(schema) => shape_of_item(spec, schema),
    }
}

fn shape_of_boxed(spec: &OpenAPI, schema: &ReferenceOr<Box<Schema>>) -> Result<Shape, String> {
    match schema {
        ReferenceOr::Reference { reference } => shape_of(
            spec,
            &ReferenceOr::Reference {
                reference: reference.clone(),
            },
        ),
        ReferenceOr::Item(schema) => shape_of_item(spec, schema),
    }
}

fn shape_of_item(spec: &OpenAPI, schema: &Schema) -> Result<Shape, String> {
    Ok(match &schema.schema_kind {
        SchemaKind::Type(Type::String(string)) if string.enumeration.is_empty() => Shape::String {
            min: string.min_length.filter(|min| *min > 0),
            max: string.max_length,
            pattern: string.pattern.clone(),
            rule: extension_strings(schema, PATTERN_RULE).into_iter().next(),
        },
        SchemaKind::Type(Type::Integer(integer)) => {
            if integer.multiple_of.is_some() {
                return Err("multipleOf is not supported".into());
            }
            // An exclusive bound of an integer is the inclusive one next
            // to it.
            Shape::Integer {
                min: integer
                    .minimum
                    .map(|min| min.saturating_add(i64::from(integer.exclusive_minimum))),
                max: integer
                    .maximum
                    .map(|max| max.saturating_sub(i64::from(integer.exclusive_maximum))),
            }
        }
        SchemaKind::Type(Type::Array(array)) => {
            let items = match &array.items {
                Some(items) => shape_of_boxed(spec, items)?,
                None => Shape::Free,
            };
            Shape::Array {
                min: array.min_items.filter(|min| *min > 0),
                max: array.max_items,
                items: Box::new(items),
            }
        }
        SchemaKind::Type(Type::Number(number)) => {
            if number.multiple_of.is_some()
                || (number.exclusive_minimum && number.minimum.is_some())
                || (number.exclusive_maximum && number.maximum.is_some())
            {
                return Err("exclusive bounds and multipleOf on numbers are not supported".into());
            }
            Shape::Number {
                min: number.minimum,
                max: number.maximum,
            }
        }
        _ => Shape::Free,
    })
}

/// The last segment of a `#/components/schemas/...` reference.
pub fn component_name(reference: &str) -> Result<&str, String> {
    reference
        .strip_prefix("#/components/schemas/")
        .ok_or_else(|| format!("unsupported reference {reference}"))
}

/// The component schema called `name`.
pub fn component<'a>(spec: &'a OpenAPI, name: &str) -> Result<&'a Schema, String> {
    let components = spec
        .components
        .as_ref()
        .ok_or("the spec has no components")?;
    match components.schemas.get(name) {
        Some(ReferenceOr::Item(schema)) => Ok(schema),
        Some(ReferenceOr::Reference { .. }) => Err(format!("component {name} is only a reference")),
        None => Err(format!("no component schema named {name}")),
    }
}

/// The properties of the object component `name`, by JSON name.
pub fn properties(spec: &OpenAPI, name: &str) -> Result<Vec<(String, Shape)>, String> {
    let SchemaKind::Type(Type::Object(object)) = &component(spec, name)?.schema_kind else {
        return Ok(Vec::new());
    };
    object
        .properties
        .iter()
        .map(|(json, schema)| Ok((json.clone(), shape_of_boxed(spec, schema)?)))
        .collect()
}

/// The description of the component a property of `name` refers to, for
/// fields whose own schema is only a `$ref` (OpenAPI 3.0 ignores siblings of
/// `$ref`, so the description lives on the component).
pub fn referenced_description(spec: &OpenAPI, name: &str, json: &str) -> Option<String> {
    let SchemaKind::Type(Type::Object(object)) = &component(spec, name).ok()?.schema_kind else {
        return None;
    };
    let target = match object.properties.get(json)? {
        ReferenceOr::Reference { reference } => component_name(reference).ok()?,
        ReferenceOr::Item(schema) => match &schema.schema_kind {
            SchemaKind::Type(Type::Array(array)) => match array.items.as_ref()? {
                ReferenceOr::Reference { reference } => component_name(reference).ok()?,
                ReferenceOr::Item(_) => return None,
            },
            _ => return None,
        },
    };
    component(spec, target)
        .ok()?
        .schema_data
        .description
        .clone()
}

/// The `required` list of the object component `name`, in the spec's order.
pub fn required(spec: &OpenAPI, name: &str) -> Vec<String> {
    match component(spec, name).map(|schema| &schema.schema_kind) {
        Ok(SchemaKind::Type(Type::Object(object))) => object.required.clone(),
        _ => Vec::new(),
    }
}
