//! The generator of the `webex-calling` SDK: an OpenAPI 3.0 document in,
//! formatted Rust out.
//!
//! [`generate`] takes the text of a document (`spec/webex-calling.yaml`, or
//! any OpenAPI 3.0 document, YAML or JSON) and returns the files of
//! `sdk/src/generated/`. It does no file I/O; `cargo xtask codegen` owns
//! paths, writing and checking. The same document gives the same bytes on
//! every machine: nothing here reads the clock, the environment or a hash
//! map's order.
//!
//! # Pipeline
//!
//! 1. `openapiv3` parses the document ([`parse_spec`]).
//! 2. [`model::Model::read`] builds the model, the only code that reads the
//!    document: it names every schema, merges `allOf`, resolves references,
//!    reads each operation into a [`model::Operation`], and refuses, per
//!    operation, what it cannot take (the table below).
//! 3. progenitor's `Generator` makes the types of the model's components
//!    ([`prepare::for_progenitor`]: components only, no paths), inside
//!    `catch_unwind`.
//! 4. [`types`] rewrites typify's items where the SDK needs something else
//!    (the table after next), reading the model for every struct and enum
//!    whose name the model gave; [`operations`] emits the builders and the
//!    `Client` methods from the model alone.
//! 5. `prettyplease` formats each file.
//!
//! Every refusal of every operation is collected before [`generate`]
//! returns; an [`Error`] lists them all ([`Error::refusals`]), one per line
//! as `operation › location: construct — detail`.
//!
//! # What the generator keeps of progenitor, and why
//!
//! progenitor (with typify) makes the **types**: one Rust type per
//! component, with typify's choices for objects, string enums, newtypes of
//! strings, arrays and maps, and `oneOf`/`anyOf` (enums as typify renders
//! them: externally tagged, untagged or with a tag). That is most of what
//! a document holds, and typify renders it well; reading its output rather
//! than re-deriving it keeps the generator small. progenitor's naming rule
//! (`sanitize` on `heck`) is kept too: the model names components, methods
//! and builders with it, so a component keeps the name typify gives it.
//!
//! progenitor's **operation code** is not used: the SDK's builders borrow
//! their arguments, check every rule, and send through the SDK's runtime
//! (retries, rate limiting, tracking IDs), so little of progenitor's
//! builders survived the rewrite, and reading them back (the types of
//! `send`'s signature, the fields of its builders) broke whenever a
//! construct was new to it. It also panics (`assert!`, `todo!`) on
//! constructs that only matter to its own operation code. progenitor sees
//! the components alone, and the builders are emitted from the model.
//!
//! # What the generator overrides in typify's output, why, and how
//!
//! | typify default | why it is wrong here | what the generator does |
//! |---|---|---|
//! | An optional array is a `Vec` with `skip_serializing_if = "Vec::is_empty"`. | A caller could not send `"agents": []` to remove every agent: lists replace, so "not set" and "empty" mean different things. | [`types`] turns a `Vec` field of a property the model says is optional into `Option<Vec<T>>`, skipped only when `None`. |
//! | A property with a `default` is a plain value that is always serialized. | Updates are partial: a field the caller did not set must not be sent, or it would overwrite the stored value with the documented default. | [`prepare`] drops `default` from progenitor's copy; the fields stay `Option`. |
//! | A string with `minLength`/`maxLength`/`pattern` becomes a newtype checked in `TryFrom`; `maxItems` is ignored; an integer `maximum` is dropped when `minimum` is 1. | Rules are lost, and the ones kept fail with messages that name no field. | [`prepare`] drops every bound from progenitor's copy, so the fields are plain types; [`rules`] reads the bounds from the model's document and [`types`] emits a `Rules` impl per object that checks them all (length counted in characters, numbers as `f64`, an integer's exclusive bound as the inclusive one next to it) and names the field path and the rule. |
//! | `format: uuid`, `date-time`, `date` are `uuid::Uuid` and `chrono` types; unsigned integer formats are `u64`/`u32`. | The SDK depends on neither crate, and a dependent would have to; a Webex ID or a date is sent back as it was read. `i64` is what bounds are checked in. | [`prepare`] drops string formats (the value is the `String` the service wrote) and integer formats other than `int32`/`int64`. |
//! | typify derives no `JsonSchema`, and `with_derive` would add it without bounds. | The types are compared with the spec through `schemars`. | [`types`] adds `#[cfg_attr(feature = "schemars", derive(JsonSchema))]` to every type and a `schemars` attribute for each bound. |
//! | typify emits a struct builder per type (`types::builder::X`). | A second type per body, with stringly errors. | The builders are removed; each object gets `new(required fields)` and one setter per optional field. |
//! | A string enum fails to deserialize on a value it does not list. | Webex adds values before the spec knows them; one would make a whole read fail. | An enum marked `x-extensible-enum` gets an `Unknown(String)` variant that keeps the value; [`types`] writes its serde impls, and its check refuses `Unknown` in a request. |
//! | A nullable object component is a newtype of an `Option`. | Its fields could not be set or checked like any other object's. | [`prepare`] drops `nullable` from an object with properties: it is a struct, and a property that may be `null` is an `Option` of it (a `null` where the property is required fails to read). |
//! | A type or field the document does not describe has no doc. | The SDK denies missing docs. | [`types`] documents it by its name. |
//!
//! # The builders
//!
//! Each operation is a builder opened from `webex_calling::Client`
//! ([`operations`]): it holds a clone of the client, each parameter and the
//! body as `Cow`s (`.body(&update)` and `.location_id(&id)` borrow, owned
//! values move), and `send` checks every rule of every parameter and of the
//! body, naming each broken one, before it writes the URL into one buffer
//! sized up front and hands the request to the runtime. A body with
//! required fields is unset until given, and `send` names it as required.
//! The `Client` method's docs keep progenitor's prose (summary,
//! description, method and path, arguments) and add a `no_run` example
//! that compiles, sending the spec's example body when there is one.
//!
//! # Names
//!
//! - Components keep the name typify gives them (progenitor's `sanitize`
//!   in Pascal case, [`operations::pascal`]); two that would meet get `2`,
//!   `3`, ... in document order, and every `$ref` follows.
//! - An inline schema that becomes a type of its own (an object with
//!   properties, a string enum, a `oneOf`/`anyOf`) is named after where it
//!   sits: `{Parent}{Property}`, `{Parent}{Property}Item` for an array's
//!   items, `{Parent}{Property}Value` for a map's values,
//!   `{Operation}Body`, `{Operation}Response` (`{Operation}Response{status}`
//!   when several statuses answer JSON), `{Operation}{Parameter}`.
//! - Methods are the `operationId` in snake case ([`operations::snake`]:
//!   `getXMLData` is `get_xml_data`, `Read the List of Things` is
//!   `read_the_list_of_things`), builders the method in Pascal case. An
//!   `operationId` used twice, or two that give the same method, are told
//!   apart in document order with `_2`, `_3`, ... (the runtime still names
//!   the call by the `operationId` as written). A method named like one of
//!   `Client`'s own ([`model::CLIENT_METHODS`]) gets `_operation`.
//! - Fields are typify's; two properties it spells alike (`fooBar` and
//!   `foo_bar`) are told apart with `_2`, `_3`, ... in document order, each
//!   keeping its JSON name. A field named `new` has the setter
//!   `new_field`, beside the constructor `new`.
//! - Parameters are their name in snake case. A parameter named like
//!   another, or like something the builder or its `send` uses itself
//!   (`client`, `body`, `send`, `url`, ...), gets its place as a suffix:
//!   `id` in the path and `id` in the query are `id()` and `id_query()`.
//!
//! # Constructs taken from real documents
//!
//! Path, query and header parameters (header names sent in lower case,
//! values checked for characters a header cannot carry); a query parameter
//! that is an array, or one value or an array of them, sent once per item
//! (`name=a&name=b`); a `{name}` of the path the document forgot to declare,
//! as a required text parameter; references to `components.parameters`,
//! `requestBodies` and `responses`; a JSON request body of any schema; an
//! `application/x-www-form-urlencoded` body of scalars and lists of
//! scalars, typed like a JSON body and sent URL-encoded (a list as one
//! field per item); any other media type but `multipart/*`, sent as the
//! bytes given with its `Content-Type`; a type that holds itself (a tree),
//! checked through its box; several success statuses (one JSON schema on all:
//! that type; on some, none on others: `Option` of it; several schemas:
//! `serde_json::Value`; any answer that is not JSON: `bytes::Bytes`, asked
//! for with its media type in `Accept`); `default` as the success when no
//! `2xx` is declared, and when neither is, any `2xx` with its body
//! ignored; the headers of every answer, in
//! `webex_calling::Response::headers` (a `Link` to the next page);
//! `101 Switching Protocols` (or, on an operation marked
//! `x-dropshot-websocket`, a `default` answer with no `2xx`): the request
//! asks for a WebSocket with the headers progenitor sends (`Connection:
//! Upgrade`, `Upgrade: websocket`, `Sec-WebSocket-Version: 13`, a random
//! `Sec-WebSocket-Key`) and `send` returns the connection,
//! `reqwest::Upgraded`, or `webex_calling::Error::NotUpgraded` naming the
//! status when the service answers a `2xx` without switching;
//! `allOf` of objects merged, with every rule of each member kept, and
//! `allOf: [$ref]` kept as the reference; a string enum whose values
//! typify would name alike (`User` and `user`) kept as text.
//!
//! # Refused constructs
//!
//! Each refusal names the operation (`(document)` when it belongs to none),
//! the place, and one of these constructs (the strings of
//! [`model::construct`]). A problem in a component refuses every operation
//! that reaches the component.
//!
//! | construct | what it is, and why it is refused |
//! |---|---|
//! | `not an OpenAPI 3.0 document` | The text does not parse as OpenAPI 3.0.x (3.1 included). |
//! | `path item reference` | A path item given as a `$ref`; progenitor and the model read path items in place. |
//! | `unresolved reference` | A `$ref` to nothing in the document, or to another file. |
//! | `cookie parameter` | The SDK sends no cookies. |
//! | `parameter with content` | A parameter serialized by a media type instead of a schema. |
//! | `object parameter` | A query object (`deepObject`, `form` explode) has no one encoding the runtime could assume. |
//! | `array path or header parameter` | A list in a path segment or a header has no agreed separator. |
//! | `array parameter of non-scalars` | A list of lists or of objects in a query. |
//! | `invalid media type` | A media type with characters a header cannot carry. |
//! | `invalid header name` | A header parameter whose name is not an HTTP token. |
//! | `form request body` | `multipart/*` (progenitor refuses it too), or an `application/x-www-form-urlencoded` body whose fields are not scalars or lists of scalars: no encoding of a nested value is read the same way by every server. |
//! | `request body without a schema` | A JSON body with no schema to type it. |
//! | `protocol upgrade (1xx response)` | A `1xx` answer other than `101 Switching Protocols` (`100`, `102`, `1XX`): it names no protocol the runtime could switch to. |
//! | `allOf of a non-object` | An `allOf` with a member that is neither an object nor a description; it has no one Rust type. |
//! | `allOf cycle` | An `allOf` that includes itself through references. |
//! | `exclusive bound or multipleOf` | `multipleOf`, or an exclusive bound on a number: no check states it. |
//! | `not schema` | A `not` (anything but a schema): no Rust type states it, and typify panics on it, as progenitor does. |
//! | `unsupported pattern` | A `pattern` that `regress`, the SDK's ECMA-262 engine, cannot compile (progenitor refuses it too). |
//! | `invalid x-idempotent` | See the extensions below. |
//! | `invalid x-update-schema` | See the extensions below. |
//! | `invalid x-list` | See the extensions below. |
//! | `invalid x-client-default` | See the extensions below. |
//! | `documentation-only schema sent or answered` | A request body or success answer of a schema marked `x-documentation-only`: no type is generated for it. |
//! | `extensible enum with an Unknown value` | The enum's catch-all variant would clash with a value. |
//! | `panic in progenitor` | progenitor panicked on the operation's components; the panic was caught, and its message is the detail. |
//! | `panic in typify` | The same, inside typify. |
//! | `panic in the generator` | The same, in this crate's own code. |
//! | `progenitor error` | progenitor returned an error for the operation's components. |
//! | `unexpected typify output` | typify emitted an item the generator cannot read, or the generated code does not parse. |
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
//! | `x-update-schema` (continued) | | When every property of the update is optional, [`convert`] also emits `Read::changes_since(&self, original: &Read) -> Update`: `to_update()`, then each property whose read value equals `original`'s is set back to `None`, so only what changed is sent. |
//! | `x-idempotent: true \| false \| {unless-body-sets: [property, ...], check: text} \| {check: text}` | an operation | Whether the request is sent again after a failure that leaves its outcome unknown (default: by method). With `unless-body-sets`, not when the body sets one of those properties; `{check}` alone, never. `check` is the text of `Error::OutcomeUnknown`: what to do to find out, in one line of code. |
//! | `x-list: {items: property, max: parameter, start: parameter, link: bool}` | an operation | The operation is a list: the success answer is a component whose `items` property is an array of a named component, `max` and `start` are optional integer query parameters. The builder gets `stream(self) -> crate::Items<Item>` ([`operations`]), which fetches each page by building the same builder with `start` and `max` set; the runtime's `paging` module decides the next page. |
//! | `x-client-default: name` | an optional string query parameter | A `ClientBuilder` setter named after `name` sets a client-wide value; a call that does not set the parameter sends that value, checked by the parameter's rules. |
//! | `x-documentation-only: true` | a component schema | No type is generated for it, and the response contents that name it are left out: it documents a shape the runtime reads by hand (Webex's error body). A request body or success answer that names it is refused. |
//! | `x-pattern-rule: text` | a property with a `pattern` | The rule in words, which a broken pattern is reported with. |
//! | `x-replaced-by: [name, ...]` | a deprecated property | What to use instead, in the Rust deprecation note. |
//!
//! # Properties moved, components of numbers, patterns
//!
//! A property's `x-aliases`, `deprecated` and `x-replaced-by` are read from
//! the property as written, also when it is an inline object or enum that
//! the model moves into a component of its own
//! ([`model::Model::property_as_written`]). Bounds on a component that is a
//! number or an integer (a newtype of `i64` or `f64`) are checked wherever
//! a property uses it, on the value inside. A `pattern` is an ECMA-262
//! regular expression, as OpenAPI says, checked at run time by `regress`
//! (look-around and back-references included); one `regress` cannot
//! compile, and a `not`, refuse the operations that reach them, not the
//! whole document.

use std::cell::RefCell;
use std::fmt;
use std::sync::Mutex;

pub mod convert;
pub mod lint;
pub mod model;
pub mod operations;
pub mod prepare;
pub mod rules;
pub mod types;

use model::construct;

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

/// One thing the generator would not take: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The `operationId` as written, `METHOD /path` when there is none, or
    /// `(document)` for what belongs to no operation.
    pub operation: String,
    /// Where in the operation: `parameter timezone`, `requestBody`,
    /// `response 200`, `components.schemas.X.y`.
    pub location: String,
    /// What was refused: one of the constructs of the crate docs' table
    /// ([`model::construct`]).
    pub construct: String,
    /// More about it, or empty.
    pub detail: String,
}

impl Refusal {
    /// The operation of a refusal that belongs to none.
    pub const DOCUMENT: &'static str = "(document)";

    pub(crate) fn new(
        operation: impl Into<String>,
        location: impl Into<String>,
        construct: &str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            operation: operation.into(),
            location: location.into(),
            construct: construct.to_string(),
            // One refusal is one line: a multi-line panic message is folded.
            detail: detail
                .into()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} › {}: {}",
            self.operation, self.location, self.construct
        )?;
        if !self.detail.is_empty() {
            write!(f, " — {}", self.detail)?;
        }
        Ok(())
    }
}

/// Why the document could not be turned into code: every refusal, in
/// document order.
#[derive(Debug)]
pub struct Error {
    refusals: Vec<Refusal>,
}

impl Error {
    fn new(refusals: Vec<Refusal>) -> Self {
        Self { refusals }
    }

    fn document(location: &str, construct: &str, detail: impl Into<String>) -> Self {
        Self::new(vec![Refusal::new(
            Refusal::DOCUMENT,
            location,
            construct,
            detail,
        )])
    }

    /// Every refusal, in document order.
    pub fn refusals(&self) -> &[Refusal] {
        &self.refusals
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, refusal) in self.refusals.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{refusal}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Parses the text of an OpenAPI 3.0 document, YAML or JSON.
pub fn parse_spec(text: &str) -> Result<openapiv3::OpenAPI, Error> {
    let spec: openapiv3::OpenAPI = serde_yaml::from_str(text)
        .map_err(|e| Error::document("document", construct::NOT_OPENAPI, e.to_string()))?;
    if !spec.openapi.starts_with("3.0.") {
        return Err(Error::document(
            "openapi",
            construct::NOT_OPENAPI,
            format!("version {}", spec.openapi),
        ));
    }
    Ok(spec)
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

/// Generates every file of `sdk/src/generated/` from the document's text.
///
/// Every refusal is collected before it returns: an `Err` lists them all,
/// in document order. No panic escapes: one in progenitor or typify is a
/// refusal of the operations whose types caused it.
pub fn generate(spec_text: &str) -> Result<Vec<GeneratedFile>, Error> {
    match catch_panic(|| generate_files(spec_text)) {
        Ok(outcome) => outcome,
        Err((message, construct)) => Err(Error::document("document", construct, message)),
    }
}

fn generate_files(spec_text: &str) -> Result<Vec<GeneratedFile>, Error> {
    let spec = parse_spec(spec_text)?;
    let (model, mut refusals) = model::Model::read(&spec);
    let type_items = match type_items(&model) {
        Ok(items) => items,
        Err(more) => {
            refusals.extend(more);
            return Err(Error::new(refusals));
        }
    };
    let mut checks = types::Checks::default();
    let mut types = match types::rewrite(&model, type_items, &mut checks) {
        Ok(types) => types,
        Err(refusal) => {
            refusals.push(refusal);
            return Err(Error::new(refusals));
        }
    };
    let (builder_items, client_items) = operations::emit(&model, &mut checks);
    for pattern in checks.patterns() {
        if let Err(detail) = check_pattern(pattern) {
            refusals.push(Refusal::new(
                Refusal::DOCUMENT,
                "pattern",
                construct::PATTERN,
                detail,
            ));
        }
    }
    if !refusals.is_empty() {
        return Err(Error::new(refusals));
    }
    let validate = types::validate_items(&checks, std::mem::take(&mut types.validate));
    let generator_error =
        |e: String| Error::document("generated code", construct::TYPIFY_OUTPUT, e);

    let types_file = format_items(
        "Request and response types of the Webex Calling API.",
        quote::quote!(),
        std::mem::take(&mut types.items),
    )
    .map_err(generator_error)?;
    let builder_file = format_items(
        "One builder per operation, opened from [`crate::Client`].",
        quote::quote!(),
        builder_items,
    )
    .map_err(generator_error)?;
    let client_file = format_items(
        "The operations of [`crate::Client`].",
        quote::quote!(),
        client_items,
    )
    .map_err(generator_error)?;
    let validate_file = format_tokens(
        "The rules of the spec, checked before a request is sent.",
        validate,
    )
    .map_err(generator_error)?;
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
    )
    .map_err(generator_error)?;
    // The spec itself, as JSON, for code that checks requests against it at
    // run time (the fake server) without a YAML parser.
    let spec_value: serde_json::Value = serde_yaml::from_str(spec_text)
        .map_err(|e| Error::document("document", construct::NOT_OPENAPI, e.to_string()))?;
    let spec_json = serde_json::to_string_pretty(&spec_value)
        .map_err(|e| Error::document("document", construct::NOT_OPENAPI, e.to_string()))?
        + "\n";
    // The embedded copy is a raw string: pick enough `#`s that no text of
    // the document ends it.
    let mut hashes = "##".to_string();
    while spec_json.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    let spec_file = format!(
        "{HEADER}\n//! The spec as JSON, for code that checks requests against it at run time.\n\n\
         /// `spec/webex-calling.yaml`, converted to JSON with its key order kept.\n\
         pub(crate) const OPENAPI_JSON: &str = r{hashes}\"{spec_json}\"{hashes};\n"
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

/// What went wrong in a run of progenitor.
enum Failure {
    /// It panicked: the message, and the construct (by the crate the panic
    /// happened in).
    Panic(String, &'static str),
    /// It returned an error.
    Error(String),
}

/// typify's items for the model's components: progenitor's `types`
/// module. progenitor sees the components alone, so its operation code
/// (which the generator replaces) cannot fail or panic on anything.
fn type_items(model: &model::Model) -> Result<Vec<syn::Item>, Vec<Refusal>> {
    let document = prepare::for_progenitor(&model.document);
    let failure = match run_progenitor(&document) {
        Ok(items) => return Ok(items),
        Err(failure) => failure,
    };
    // Which operations the failure belongs to: each is tried alone, with
    // the components it reaches.
    let mut refusals = Vec::new();
    for (operation, reached) in model.operations.iter().zip(&model.reaches) {
        let mut alone = document.clone();
        if let Some(components) = alone.components.as_mut() {
            components.schemas.retain(|name, _| reached.contains(name));
        }
        if let Err(failure) = run_progenitor(&alone) {
            refusals.push(failure_refusal(&operation.id, failure));
        }
    }
    if refusals.is_empty() {
        refusals.push(failure_refusal(Refusal::DOCUMENT, failure));
    }
    Err(refusals)
}

fn failure_refusal(operation: &str, failure: Failure) -> Refusal {
    match failure {
        Failure::Panic(message, construct) => {
            Refusal::new(operation, "components", construct, message)
        }
        Failure::Error(message) => Refusal::new(
            operation,
            "components",
            construct::PROGENITOR_ERROR,
            message,
        ),
    }
}

fn run_progenitor(document: &openapiv3::OpenAPI) -> Result<Vec<syn::Item>, Failure> {
    let outcome = catch_panic(|| {
        let mut generator = progenitor_impl::Generator::new(&settings());
        generator.generate_tokens(document)
    });
    let tokens = match outcome {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => return Err(Failure::Error(e.to_string())),
        Err((message, construct)) => return Err(Failure::Panic(message, construct)),
    };
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| Failure::Error(format!("progenitor emitted invalid Rust: {e}")))?;
    for item in file.items {
        if let syn::Item::Mod(module) = item
            && module.ident == "types"
        {
            return Ok(module.content.map(|(_, items)| items).unwrap_or_default());
        }
    }
    Ok(Vec::new())
}

/// One panic hook at a time: the hook is global.
static HOOK: Mutex<()> = Mutex::new(());

thread_local! {
    /// The source file of the last panic caught on this thread.
    static PANIC_FILE: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Whether this thread already runs inside [`catch_panic`], which then
    /// leaves the hook as it is.
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic into its message and the construct that names
/// where it happened; nothing is printed while `f` runs.
fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, (String, &'static str)> {
    let outcome = if CATCHING.with(std::cell::Cell::get) {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    } else {
        let _one = HOOK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| {
            let file = info.location().map(|l| l.file().to_string());
            PANIC_FILE.with(|slot| *slot.borrow_mut() = file);
        }));
        CATCHING.with(|c| c.set(true));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        CATCHING.with(|c| c.set(false));
        std::panic::set_hook(previous);
        outcome
    };
    outcome.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        let file = PANIC_FILE
            .with(|slot| slot.borrow_mut().take())
            .unwrap_or_default();
        let construct = if file.contains("typify") {
            construct::PANIC_TYPIFY
        } else if file.contains("progenitor") {
            construct::PANIC_PROGENITOR
        } else {
            construct::PANIC_GENERATOR
        };
        (message, construct)
    })
}

/// Patterns are ECMA-262 regular expressions, checked by `regress` at run
/// time; refuse any it could not compile, so the generated code never meets
/// a broken one.
pub(crate) fn check_pattern(pattern: &str) -> Result<(), String> {
    regress::Regex::new(pattern).map(|_| ()).map_err(|e| {
        format!(
            "pattern {pattern:?} is not an ECMA-262 regular expression regress can compile: {e}"
        )
    })
}

fn format_items(
    doc: &str,
    inner_attrs: proc_macro2::TokenStream,
    items: Vec<syn::Item>,
) -> Result<String, String> {
    format_tokens(doc, quote::quote!(#inner_attrs #(#items)*))
}

fn format_tokens(doc: &str, tokens: proc_macro2::TokenStream) -> Result<String, String> {
    let doc = format!(" {doc}");
    let file: syn::File = syn::parse2(quote::quote! {
        #![doc = #doc]
        #tokens
    })
    .map_err(|e| format!("the generator emitted invalid Rust: {e}"))?;
    Ok(format!("{HEADER}\n{}", prettyplease::unparse(&file)))
}

/// Every construct a [`Refusal`] may name, in the order of the crate docs'
/// table of refused constructs.
pub const REFUSED_CONSTRUCTS: &[&str] = model::construct::ALL;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_with_its_message_and_the_crate_it_happened_in() {
        let (message, construct) =
            catch_panic(|| -> u8 { panic!("not {} here", "supported") }).unwrap_err();
        assert_eq!(message, "not supported here");
        assert_eq!(construct, construct::PANIC_GENERATOR);
        assert_eq!(catch_panic(|| 7), Ok(7));
    }
}
