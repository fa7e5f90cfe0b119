//! The generator of the `webex-calling` SDK: spec in, formatted Rust out.
//!
//! [`generate`] takes the text of `spec/webex-calling.yaml` and returns the
//! files of `sdk/src/generated/`. It does no file I/O; `cargo xtask codegen`
//! owns paths, writing and checking. The same spec gives the same bytes on
//! every machine: nothing here reads the clock, the environment or a hash
//! map's order.
//!
//! # Pipeline
//!
//! 1. `openapiv3` parses the spec.
//! 2. [`prepare::for_progenitor`] makes the copy progenitor sees (see below).
//! 3. progenitor's `Generator` (builder interface, merged tags) emits tokens.
//! 4. `syn` passes in [`types`] and [`operations`] rewrite what does not fit
//!    this API, and add setters and the checks of every rule.
//! 5. `prettyplease` formats each file.
//!
//! # What the generator overrides, why, and how
//!
//! | progenitor / typify default | why it is wrong here | what the generator does |
//! |---|---|---|
//! | An optional array is a `Vec` with `skip_serializing_if = "Vec::is_empty"`. | A caller could not send `"agents": []` to remove every agent: lists replace, so "not set" and "empty" mean different things. | [`types`] turns the field into `Option<Vec<T>>`, skipped only when `None`. |
//! | A property with a `default` is a plain value that is always serialized. | Updates are partial: a field the caller did not set must not be sent, or it would overwrite the stored value with the documented default. | [`prepare`] drops `default` from progenitor's copy of the spec; the fields stay `Option`. |
//! | A string with `minLength`/`maxLength`/`pattern` becomes a newtype checked in `TryFrom`; `maxItems` is ignored; an integer `maximum` is dropped when `minimum` is 1. | Rules are lost, and the ones kept fail with messages that name no field. | [`prepare`] drops every bound from progenitor's copy, so the fields are plain types; [`rules`] reads the bounds from the original spec and [`types`] emits a `Rules` impl per type that checks them all (length counted in characters) and names the field path and the rule. |
//! | typify derives no `JsonSchema`, and `with_derive` would add it without bounds. | The types are compared with the spec through `schemars`. | [`types`] adds `#[cfg_attr(feature = "schemars", derive(JsonSchema))]` and a `schemars` attribute for each bound. |
//! | typify emits a struct builder per type (`types::builder::X`). | A second type per body, with stringly errors. | The builders are removed; each type gets `new(required fields)` and one setter per optional field. |
//! | progenitor's `Client` sends an `api-version` header with every request, and its `send` returns progenitor's `Error` and `ResponseValue`. | Webex defines no such header; users must only see `webex_calling::Error`, and need retries, tracking IDs and tracing. | [`operations`] drops progenitor's `Client`, keeps the operation builders, points them at the hand-written `webex_calling::Client`, and replaces `send` with one that checks every rule and hands the request to the SDK's runtime. |
//! | An operation builder starts each required parameter as `Err("… was not initialized".to_string())`. | One allocation per parameter on every call, for a message nobody reads: `send` names the missing field itself. | [`operations`] starts them as `Err(String::new())`, which does not allocate. |
//! | `send` builds the URL with `format!` and a `Display` per path parameter. | Two buffers and the formatting machinery on every call. | [`operations`] writes the base URL, literal pieces and percent-encoded segments into one buffer sized up front. |
//! | An operation builder owns its body (`body<V: TryInto<X>>`) and copies every parameter into a `String`. | Sending one update to many groups would copy it for every call, and every ID is copied once more. | [`operations`] stores the body and the parameters as `Cow`s: `.body(&update)` and `.location_id(&id)` borrow, owned values move. |
//! | The generated docs carry an `ignore` example with undefined names. | Every doc example must compile. | [`operations`] replaces it with a `no_run` example that sends the spec's example body (or a body the caller holds, when the spec has no example). |
//! | A body schema written inline gets a name only inside typify. | The checks, setters and conversions look schemas up by name. | [`prepare::hoist_inline_bodies`] moves inline bodies into components under progenitor's own names (`{Operation}Body`, `{Operation}Response`). |
//! | The builder starts the body from `Default`. | A body with required fields has no `Default`. | [`operations`] starts such a body unset; `send` then names it as required. |
//! | A string enum fails to deserialize on a value it does not list. | Webex adds values before the spec knows them; one would make a whole read fail. | An enum marked `x-extensible-enum` gets an `Unknown(String)` variant that keeps the value; [`types`] writes its serde impls, and its check refuses `Unknown` in a request. |
//!
//! # Names
//!
//! Method, builder and parameter names are progenitor's: [`operations::snake`]
//! and [`operations::pascal`] apply progenitor's own `sanitize` rule on
//! `heck`, so `getXMLData` is `get_xml_data` and `list-reports` is
//! `list_reports`. Builders are matched to operations by exact name.
//!
//! # Extensions the spec may use
//!
//! OpenAPI has no keyword for these, so the spec declares them and the
//! generator reads them; no code here names an operation, a schema or a
//! field of the spec.
//!
//! | extension | on | meaning |
//! |---|---|---|
//! | `x-extensible-enum: true` | a string enum component | A value the spec does not list is read into the enum's `Unknown(String)` variant instead of failing; sending it is refused as `InvalidInput` naming the field. |
//! | `x-aliases: [name, ...]` | an inline property | Other JSON names the property is read from (`#[serde(alias)]`); it is always written under its own name. |
//! | `x-update-schema: Name` | an object component that is read | The update component that writes it back. The generator emits `From<&Read> for Name` and `Read::to_update()`: properties of the same JSON name are cloned, lists converted item by item, nested objects follow their own `x-update-schema`; properties only the read has are dropped. |
//! | `x-update-value: property` | an object component that is read | Where an update takes a plain value in place of this object (a list of IDs for a list of members), it takes this property. |
//!
//! # What the generator takes, and what it refuses
//!
//! Operations with any method; path and query parameters, declared on the
//! operation or on the path, of string, integer, number, boolean or enum
//! type; an optional JSON request body, named or inline, with or without
//! required fields and example; one success status, answered with a JSON
//! body (named or inline) or none. Anything else (header and cookie
//! parameters, parameters with `content`, object or array parameters,
//! non-JSON bodies, several success statuses, `requestBodies` references)
//! fails [`generate`], and so `cargo xtask check`, with a message naming the
//! operation and the construct.
//!
//! # Refused constructs
//!
//! Each refusal in [`Error::refusals`] carries one of these constructs
//! ([`REFUSED_CONSTRUCTS`]), read back from the message that refused it.
//!
//! | construct | what was refused |
//! |---|---|
//! | header or cookie parameter | a parameter `in: header` or `in: cookie` |
//! | parameter with content | a parameter described by `content` instead of `schema` |
//! | object or array parameter | a parameter whose schema is an object or an array |
//! | requestBodies reference | a request body given as a `$ref` to `components.requestBodies` |
//! | non-JSON request body | a request body with no `application/json` content |
//! | non-JSON success body | a success response with content other than `application/json` |
//! | several success statuses | more than one `2xx` response |
//! | no success status | no `2xx` response |
//! | operation without operationId | an operation with no `operationId` |
//! | colliding method names | two operationIds that give the same method name |
//! | path item reference | a path item given as a `$ref` |
//! | schema without a component name | a schema the checks look up by a name no component has (an inline object nested in another) |
//! | non-object component | a component schema that is not an object with properties (an enum, an array, an alias) |
//! | component that is only a reference | a component schema that is only a `$ref` |
//! | bounds on numbers | bounds on a `number`, exclusive bounds, `multipleOf` |
//! | unsupported pattern | a `pattern` on a parameter, or one `regex-lite` cannot compile |
//! | not OpenAPI 3.0 | a document that does not parse as OpenAPI 3.0 |
//! | rejected by progenitor | anything progenitor itself returns an error for |
//! | unknown | a message none of the above matches |

use std::fmt;

pub mod convert;
pub mod lint;
pub mod operations;
pub mod prepare;
pub mod rules;
pub mod types;

/// The first line of every generated file.
pub const HEADER: &str =
    "// @generated by `cargo xtask codegen` from spec/webex-calling.yaml. Do not edit.\n";

/// One file of `sdk/src/generated/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The file name, relative to `sdk/src/generated/`.
    pub name: &'static str,
    /// The whole text of the file.
    pub contents: String,
}

/// Why the spec could not be turned into code: the message, and each
/// refusal it carries (see [`Error::refusals`]).
#[derive(Debug)]
pub struct Error {
    message: String,
    refusals: Vec<Refusal>,
}

impl Error {
    /// What was refused, each with the operation, the location in it and
    /// the construct (one of [`REFUSED_CONSTRUCTS`]). Empty for an error
    /// that [`generate`] did not return.
    pub fn refusals(&self) -> &[Refusal] {
        &self.refusals
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Self {
            message,
            refusals: Vec::new(),
        }
    }
}

/// One thing of the document that the generator does not take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The operationId, or `METHOD /path` when the operation has none;
    /// empty when the message names no operation.
    pub operation: String,
    /// Where in the operation (`parameter orgId`, `requestBody`, ...);
    /// empty when the message does not say.
    pub location: String,
    /// The kind of construct refused, one of [`REFUSED_CONSTRUCTS`].
    pub construct: String,
    /// The whole message.
    pub detail: String,
}

/// Every construct a [`Refusal`] can carry, as the table "Refused
/// constructs" above lists them.
///
/// The refusals are read back from the generator's messages: each message
/// is matched to a construct by a table of message pieces, and one that matches
/// none is `unknown`.
pub const REFUSED_CONSTRUCTS: &[&str] = &[
    "header or cookie parameter",
    "parameter with content",
    "object or array parameter",
    "requestBodies reference",
    "non-JSON request body",
    "non-JSON success body",
    "several success statuses",
    "no success status",
    "operation without operationId",
    "colliding method names",
    "path item reference",
    "schema without a component name",
    "non-object component",
    "component that is only a reference",
    "bounds on numbers",
    "unsupported pattern",
    "not OpenAPI 3.0",
    "rejected by progenitor",
    "unknown",
];

/// Which construct a message of the generator is about: a piece of the
/// message, the construct, and where in the operation it is.
const REFUSAL_MESSAGES: &[(&str, &str, &str)] = &[
    (
        "is a header or cookie parameter",
        "header or cookie parameter",
        "parameter",
    ),
    ("uses `content`", "parameter with content", "parameter"),
    (
        "is an object or array",
        "object or array parameter",
        "parameter",
    ),
    (
        "components.requestBodies",
        "requestBodies reference",
        "requestBody",
    ),
    (
        "request body is not application/json",
        "non-JSON request body",
        "requestBody",
    ),
    (
        "success response is not application/json",
        "non-JSON success body",
        "responses",
    ),
    (
        "more than one success response",
        "several success statuses",
        "responses",
    ),
    ("no success response", "no success status", "responses"),
    (
        "no operationId",
        "operation without operationId",
        "operationId",
    ),
    (
        "give the same method name",
        "colliding method names",
        "operationId",
    ),
    ("path item references", "path item reference", "path"),
    (
        "no component schema named",
        "schema without a component name",
        "",
    ),
    (
        "expected a struct with named fields",
        "non-object component",
        "",
    ),
    (
        "is only a reference",
        "component that is only a reference",
        "",
    ),
    ("bounds on numbers", "bounds on numbers", ""),
    ("exclusive bounds", "bounds on numbers", ""),
    ("pattern", "unsupported pattern", ""),
    ("not valid OpenAPI 3.0", "not OpenAPI 3.0", ""),
    ("progenitor rejected the spec", "rejected by progenitor", ""),
];

/// The refusals of a message of the generator about `spec_text`: the
/// operation named at the start of the message (or both operations of a
/// name collision, or the document's only operation), and the construct
/// and location matched by [`REFUSAL_MESSAGES`].
fn refusals_of(message: &str, spec_text: &str) -> Vec<Refusal> {
    let operations: Vec<String> = parse_spec(spec_text)
        .map(|spec| {
            spec.operations()
                .map(|(path, method, operation)| {
                    operation
                        .operation_id
                        .clone()
                        .unwrap_or_else(|| format!("{} {path}", method.to_uppercase()))
                })
                .collect()
        })
        .unwrap_or_default();
    let (construct, place) = REFUSAL_MESSAGES
        .iter()
        .find(|(needle, _, _)| message.contains(needle))
        .map_or(("unknown", ""), |(_, construct, place)| {
            (*construct, *place)
        });
    let named: Vec<&String> = operations
        .iter()
        .filter(|id| {
            message.starts_with(&format!("{id}: "))
                || message.contains(&format!("operationIds {id} and "))
                || message.contains(&format!(" and {id} give"))
        })
        .collect();
    let named: Vec<String> = match (named.as_slice(), operations.as_slice()) {
        ([], [only]) => vec![only.clone()],
        ([], _) => vec![String::new()],
        (named, _) => named.iter().map(|id| id.to_string()).collect(),
    };
    let location = match place {
        "parameter" => message
            .split("parameter ")
            .nth(1)
            .and_then(|rest| rest.split([' ', ':']).next())
            .map_or_else(String::new, |name| format!("parameter {name}")),
        other => other.to_string(),
    };
    named
        .into_iter()
        .map(|operation| Refusal {
            operation,
            location: location.clone(),
            construct: construct.to_string(),
            detail: message.to_string(),
        })
        .collect()
}

/// Parses the YAML text of an OpenAPI 3.0 document.
pub fn parse_spec(yaml: &str) -> Result<openapiv3::OpenAPI, Error> {
    serde_yaml::from_str(yaml)
        .map_err(|e| Error::from(format!("the spec is not valid OpenAPI 3.0: {e}")))
}

/// The progenitor settings the SDK is generated with.
pub fn settings() -> progenitor_impl::GenerationSettings {
    let mut settings = progenitor_impl::GenerationSettings::default();
    settings
        .with_interface(progenitor_impl::InterfaceStyle::Builder)
        .with_tag(progenitor_impl::TagStyle::Merged)
        .with_derive("PartialEq");
    settings
}

/// Generates every file of `sdk/src/generated/` from the spec's text.
///
/// On failure, the error's [`Error::refusals`] say what was refused.
pub fn generate(spec_text: &str) -> Result<Vec<GeneratedFile>, Error> {
    generate_files(spec_text).map_err(|error| Error {
        refusals: refusals_of(&error.message, spec_text),
        message: error.message,
    })
}

fn generate_files(spec_yaml: &str) -> Result<Vec<GeneratedFile>, Error> {
    let spec = prepare::hoist_inline_bodies(parse_spec(spec_yaml)?)?;
    let mut generator = progenitor_impl::Generator::new(&settings());
    let tokens = generator
        .generate_tokens(&prepare::for_progenitor(&spec))
        .map_err(|e| Error::from(format!("progenitor rejected the spec: {e}")))?;
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| Error::from(format!("progenitor emitted invalid Rust: {e}")))?;

    let mut type_items = None;
    let mut rest = Vec::new();
    for item in file.items {
        match item {
            syn::Item::Mod(module) if module.ident == "types" => {
                type_items = Some(module.content.ok_or("empty types module".to_string())?.1);
            }
            other => rest.push(other),
        }
    }
    let type_items =
        type_items.ok_or_else(|| Error::from("progenitor emitted no types".to_string()))?;
    let mut types = types::rewrite(&spec, type_items)?;
    let mut checks = types::Checks::default();
    let (builder_items, client_items) = operations::rewrite(&spec, rest, &mut checks)?;
    // Parameter checks would need their own pattern statics beside the
    // operation builders; no parameter has a pattern, so none are emitted.
    if checks.patterns().next().is_some() {
        return Err(Error::from(
            "patterns on parameters are not supported".to_string(),
        ));
    }
    for pattern in &types.patterns {
        check_pattern(pattern)?;
    }

    let types_file = format_items(
        "Request and response types of the Webex Calling API.",
        quote::quote!(),
        std::mem::take(&mut types.items),
    )?;
    let builder_file = format_items(
        "One builder per operation, opened from [`crate::Client`].",
        quote::quote!(),
        builder_items,
    )?;
    let client_file = format_items(
        "The operations of [`crate::Client`].",
        quote::quote!(),
        client_items,
    )?;
    let validate_file = format_tokens(
        "The rules of the spec, checked before a request is sent.",
        types.validate.clone(),
    )?;
    let module = format_tokens(
        "Code generated from `spec/webex-calling.yaml`.",
        quote::quote! {
            pub mod builder;
            mod client;
            pub mod types;
            /// The spec as JSON, which the fake checks requests against.
            #[cfg(feature = "fake")]
            pub(crate) mod spec;
            mod validate;
        },
    )?;
    // The spec itself, as JSON, for code that checks requests against it at
    // run time (the fake server) without a YAML parser.
    let spec_value: serde_json::Value = serde_yaml::from_str(spec_yaml)
        .map_err(|e| Error::from(format!("the spec is not valid YAML: {e}")))?;
    let spec_json = serde_json::to_string_pretty(&spec_value)
        .map_err(|e| Error::from(format!("the spec cannot be written as JSON: {e}")))?
        + "\n";
    if spec_json.contains("\"##") {
        return Err(Error::from(
            "the spec contains `\"##`, which the embedded copy cannot hold".to_string(),
        ));
    }
    let spec_file = format!(
        "{HEADER}\n//! The spec as JSON, for code that checks requests against it at run time.\n\n\
         /// `spec/webex-calling.yaml`, converted to JSON with its key order kept.\n\
         pub(crate) const OPENAPI_JSON: &str = r##\"{spec_json}\"##;\n"
    );
    Ok(vec![
        GeneratedFile {
            name: "builder.rs",
            contents: builder_file,
        },
        GeneratedFile {
            name: "client.rs",
            contents: client_file,
        },
        GeneratedFile {
            name: "mod.rs",
            contents: module,
        },
        GeneratedFile {
            name: "spec.rs",
            contents: spec_file,
        },
        GeneratedFile {
            name: "types.rs",
            contents: types_file,
        },
        GeneratedFile {
            name: "validate.rs",
            contents: validate_file,
        },
    ])
}

/// Patterns are checked by `regex-lite` at run time; refuse any it could not
/// compile, so the generated code never meets a broken one.
fn check_pattern(pattern: &str) -> Result<(), Error> {
    regex_lite::Regex::new(pattern)
        .map(|_| ())
        .map_err(|e| Error::from(format!("pattern {pattern:?} is not supported: {e}")))
}

fn format_items(
    doc: &str,
    inner_attrs: proc_macro2::TokenStream,
    items: Vec<syn::Item>,
) -> Result<String, Error> {
    format_tokens(doc, quote::quote!(#inner_attrs #(#items)*))
}

fn format_tokens(doc: &str, tokens: proc_macro2::TokenStream) -> Result<String, Error> {
    let doc = format!(" {doc}");
    let file: syn::File = syn::parse2(quote::quote! {
        #![doc = #doc]
        #tokens
    })
    .map_err(|e| Error::from(format!("the generator emitted invalid Rust: {e}")))?;
    Ok(format!("{HEADER}\n{}", prettyplease::unparse(&file)))
}

#[cfg(test)]
mod tests {
    use super::{REFUSED_CONSTRUCTS, generate};

    #[test]
    fn every_refused_construct_is_a_row_of_the_crate_docs_table() {
        let docs = include_str!("lib.rs");
        for construct in REFUSED_CONSTRUCTS {
            assert!(
                docs.contains(&format!("//! | {construct} | ")),
                "{construct} is not in the table of refused constructs"
            );
        }
    }

    #[test]
    fn a_header_parameter_is_refused_naming_the_operation_the_parameter_and_the_construct() {
        let spec = r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
            "paths": {"/things": {"get": {"operationId": "listThings",
                "parameters": [{"name": "timezone", "in": "header", "schema": {"type": "string"}}],
                "responses": {"204": {"description": "none"}}}}}}"#;
        let error = generate(spec).unwrap_err();
        let [refusal] = error.refusals() else {
            panic!("one refusal expected: {:?}", error.refusals());
        };
        assert_eq!(refusal.operation, "listThings");
        assert_eq!(refusal.location, "parameter timezone");
        assert_eq!(refusal.construct, "header or cookie parameter");
        assert!(refusal.detail.contains("timezone"), "{}", refusal.detail);
    }
}
