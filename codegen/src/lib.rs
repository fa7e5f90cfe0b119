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
            detail: detail.into(),
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

/// Patterns are checked by `regex-lite` at run time; refuse any it could not
/// compile, so the generated code never meets a broken one.
fn check_pattern(pattern: &str) -> Result<(), String> {
    regex_lite::Regex::new(pattern)
        .map(|_| ())
        .map_err(|e| format!("pattern {pattern:?}: {e}"))
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
