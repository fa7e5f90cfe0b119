//! The model of the document: the only code that reads the OpenAPI
//! document as its author wrote it.
//!
//! [`Model::read`] gives every schema a name the generator chose itself,
//! merges `allOf`, resolves every reference the emitters would follow, and
//! reads each operation into an [`Operation`] that says all the emitters
//! need. What it cannot take it refuses, per operation, as a [`Refusal`]
//! naming the operation, the place and the construct; one refused
//! operation does not hide another's refusals.
//!
//! The document it hands on ([`Model::document`]) is the author's with:
//! - every component schema renamed to the Rust name typify will give it
//!   (progenitor's own rule), suffixed `2`, `3`, ... where two would meet,
//!   and every `$ref` and `x-update-schema` rewritten to match;
//! - every inline schema that becomes a type of its own (an object with
//!   properties, a string enum, a `oneOf`/`anyOf`) moved into a component
//!   named after where it sits: `{Parent}{Property}`, `{Parent}{Property}Item`
//!   for an array's items, `{Parent}{Property}Value` for a map's values,
//!   `{Operation}Body`, `{Operation}Response`, `{Operation}{Parameter}`;
//! - every `allOf` of objects merged into one object (properties, required
//!   fields and every rule of each member kept);
//! - only the components the accepted operations reach.
//!
//! So every name the emitters look a schema up by is one this module gave.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{
    AdditionalProperties, MediaType, OpenAPI, Operation as OaOperation, Parameter,
    ParameterSchemaOrContent, ReferenceOr, Response, Schema, SchemaKind, StatusCode, Type,
};

use crate::Refusal;
use crate::rules::{self, Shape};

/// The constructs the generator refuses, each with the reason; the crate
/// docs' table lists the same.
pub mod construct {
    /// The text is not an OpenAPI 3.0 document.
    pub const NOT_OPENAPI: &str = "not an OpenAPI 3.0 document";
    /// A path item given as a `$ref`.
    pub const PATH_ITEM_REFERENCE: &str = "path item reference";
    /// A `$ref` to nothing in the document (or to another file).
    pub const UNRESOLVED_REFERENCE: &str = "unresolved reference";
    /// A parameter `in: cookie`.
    pub const COOKIE_PARAMETER: &str = "cookie parameter";
    /// A parameter described with `content` instead of `schema`.
    pub const PARAMETER_CONTENT: &str = "parameter with content";
    /// A parameter whose schema is an object.
    pub const OBJECT_PARAMETER: &str = "object parameter";
    /// An array parameter in the path or a header.
    pub const ARRAY_PARAMETER: &str = "array path or header parameter";
    /// An array parameter whose items are not scalars.
    pub const NESTED_ARRAY_PARAMETER: &str = "array parameter of non-scalars";
    /// A media type that cannot be sent in a header.
    pub const MEDIA_TYPE: &str = "invalid media type";
    /// A header parameter whose name cannot be an HTTP header name.
    pub const HEADER_NAME: &str = "invalid header name";
    /// A request body that is `multipart/*`, or a URL-encoded form whose
    /// fields are not scalars or lists of scalars.
    pub const FORM_BODY: &str = "form request body";
    /// A request body with no schema.
    pub const BODY_WITHOUT_SCHEMA: &str = "request body without a schema";
    /// A `1xx` answer other than `101`, which names no protocol to switch
    /// to.
    pub const PROTOCOL_UPGRADE: &str = "protocol upgrade (1xx response)";
    /// An `allOf` with a member that is not an object.
    pub const ALL_OF_NON_OBJECT: &str = "allOf of a non-object";
    /// A reference cycle through `allOf`.
    pub const ALL_OF_CYCLE: &str = "allOf cycle";
    /// Exclusive bounds or `multipleOf` on a number or integer.
    pub const EXCLUSIVE_BOUND: &str = "exclusive bound or multipleOf";
    /// A `not` schema: "anything but" has no Rust type.
    pub const NOT_SCHEMA: &str = "not schema";
    /// A `pattern` that `regress` (ECMA-262) cannot compile.
    pub const PATTERN: &str = "unsupported pattern";
    /// An `x-idempotent` extension that is not well formed.
    pub const X_IDEMPOTENT: &str = "invalid x-idempotent";
    /// An `x-update-schema` or `x-update-value` the generator cannot follow.
    pub const X_UPDATE: &str = "invalid x-update-schema";
    /// An `x-list` extension that is not well formed or names what the
    /// operation does not have.
    pub const X_LIST: &str = "invalid x-list";
    /// An `x-client-default` extension that is not well formed or sits on
    /// a parameter that cannot take one.
    pub const X_CLIENT_DEFAULT: &str = "invalid x-client-default";
    /// A request body or success answer of a schema marked
    /// `x-documentation-only`, which has no generated type.
    pub const X_DOCUMENTATION_ONLY: &str = "documentation-only schema sent or answered";
    /// An extensible enum with a value named `Unknown`.
    pub const EXTENSIBLE_ENUM_UNKNOWN: &str = "extensible enum with an Unknown value";
    /// A panic inside progenitor, caught.
    pub const PANIC_PROGENITOR: &str = "panic in progenitor";
    /// A panic inside typify, caught.
    pub const PANIC_TYPIFY: &str = "panic in typify";
    /// A panic in the generator's own code, caught.
    pub const PANIC_GENERATOR: &str = "panic in the generator";
    /// progenitor returned an error for the types.
    pub const PROGENITOR_ERROR: &str = "progenitor error";
    /// typify emitted something the generator does not read.
    pub const TYPIFY_OUTPUT: &str = "unexpected typify output";

    /// Every construct, in the order of the crate docs' table.
    pub const ALL: &[&str] = &[
        NOT_OPENAPI,
        PATH_ITEM_REFERENCE,
        UNRESOLVED_REFERENCE,
        COOKIE_PARAMETER,
        PARAMETER_CONTENT,
        OBJECT_PARAMETER,
        ARRAY_PARAMETER,
        NESTED_ARRAY_PARAMETER,
        MEDIA_TYPE,
        HEADER_NAME,
        FORM_BODY,
        BODY_WITHOUT_SCHEMA,
        PROTOCOL_UPGRADE,
        ALL_OF_NON_OBJECT,
        ALL_OF_CYCLE,
        EXCLUSIVE_BOUND,
        NOT_SCHEMA,
        PATTERN,
        X_IDEMPOTENT,
        X_UPDATE,
        X_LIST,
        X_CLIENT_DEFAULT,
        X_DOCUMENTATION_ONLY,
        EXTENSIBLE_ENUM_UNKNOWN,
        PANIC_PROGENITOR,
        PANIC_TYPIFY,
        PANIC_GENERATOR,
        PROGENITOR_ERROR,
        TYPIFY_OUTPUT,
    ];
}

/// The document as the emitters see it.
pub struct Model {
    /// The normalized document (see the module docs).
    pub document: OpenAPI,
    /// The accepted operations, sorted by method name.
    pub operations: Vec<Operation>,
    /// For each accepted operation, by its place in `operations`, the
    /// components it reaches.
    pub reaches: Vec<BTreeSet<String>>,
    /// The components the model made of inline schemas.
    pub created: BTreeSet<String>,
}

/// One operation, as the emitters need it.
pub struct Operation {
    /// The `operationId` as written, or `METHOD /path` when there is none.
    pub id: String,
    /// The `Client` method (snake case, unique in the document).
    pub method_ident: String,
    /// The builder type (Pascal case, unique in the document).
    pub builder_ident: String,
    /// The HTTP method in capitals.
    pub method: String,
    pub path: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    /// The request body when it is not JSON: sent as the bytes given.
    pub raw_body: Option<RawBody>,
    /// The success statuses, the first the one traces name.
    pub success: Vec<u16>,
    pub output: Output,
    /// The media type the answer is asked for (`Accept`).
    pub accept: String,
    /// The response headers the success answers declare.
    pub response_headers: Vec<String>,
    pub resend: Resend,
    /// How to walk every page, when the operation is marked `x-list`.
    pub list: Option<List>,
}

/// A list operation, from its `x-list` extension: which field of the
/// answer holds the items, and which query parameters page through them.
pub struct List {
    /// The Rust field of the answer that holds the items.
    pub items_field: String,
    /// The component the items are.
    pub item_type: String,
    /// The builder field of the parameter that sets the page size.
    pub max: String,
    /// The builder field of the parameter that sets the first item's
    /// offset.
    pub start: String,
    /// The JSON names of those two parameters, for the docs.
    pub max_name: String,
    pub start_name: String,
    /// Whether the answers carry a `Link` header, whose absence then ends
    /// the list.
    pub link: bool,
}

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
    Header,
}

impl In {
    fn word(self) -> &'static str {
        match self {
            In::Path => "path",
            In::Query => "query",
            In::Header => "header",
        }
    }
}

/// One parameter.
pub struct Param {
    /// The name on the wire (a header's in lower case).
    pub name: String,
    /// The setter and field name, unique among the builder's.
    pub ident: String,
    pub location: In,
    pub required: bool,
    pub description: String,
    /// The rules its value must follow.
    pub shape: Shape,
    pub ty: ParamType,
    /// The client-wide setting this parameter takes when a call does not
    /// set it: its `x-client-default`.
    pub client_default: Option<String>,
}

/// The Rust type of a parameter's value.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    /// Text, borrowed or owned.
    Str,
    /// `i64`.
    Integer,
    /// `f64`.
    Number,
    /// `bool`.
    Bool,
    /// A string enum component, by its name.
    Enum(String),
    /// A query parameter sent once per item (`name=a&name=b`).
    List(Box<ParamType>),
}

/// The request body.
pub struct Body {
    /// The component that is its type.
    pub type_name: String,
    /// Whether the spec requires it.
    pub required: bool,
    pub example: Option<serde_json::Value>,
    /// Whether it is an object, with the rules the generated `Rules` impl
    /// checks (and so a `parse_body` example).
    pub is_object: bool,
    /// Whether it is sent as `application/x-www-form-urlencoded` rather
    /// than JSON: an object of scalars and lists of scalars.
    pub form: bool,
}

/// A request body that is not JSON.
pub struct RawBody {
    /// Its media type, sent as `Content-Type`.
    pub media: String,
    /// Whether the spec requires it.
    pub required: bool,
}

/// What a successful call returns.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// No body.
    Unit,
    /// A JSON body of this component.
    Json(String),
    /// A JSON body of this component on some statuses, none on others.
    OptionalJson(String),
    /// JSON of different schemas by status: the value as it came.
    Value,
    /// Not JSON: the bytes as they came.
    Bytes,
    /// `101 Switching Protocols`: the connection itself, handed over as a
    /// WebSocket.
    Upgrade,
}

/// Whether an operation may be sent again after a failure that leaves its
/// outcome unknown, from its `x-idempotent` extension (else from its
/// method), and what to check when it may not.
pub struct Resend {
    /// `None`: always; `Some(empty)`: never; else unless the body sets one
    /// of these properties.
    pub unless_body_sets: Option<Vec<String>>,
    pub check: String,
}

/// What the caller is told to check when no `check` is declared.
const DEFAULT_CHECK: &str =
    "Read the resource to see whether the change was applied before sending it again.";

/// Names the generated `send` binds itself, and the builder's own members:
/// a parameter of such a name gets its location as a suffix.
const RESERVED_PARAMS: &[&str] = &[
    "client",
    "body",
    "new",
    "send",
    "send_with_meta",
    "call",
    "root",
    "violations",
    "out",
    "at",
    "value",
    "url",
    "operation",
    "response",
    "item",
    "headers",
    "list",
    "options",
    "retry",
    "budget",
    "timeout",
    "stream",
    "cursor",
    "page",
];

/// The methods `webex_calling::Client` has of its own (public or not): an
/// operation of such a name gets the suffix `_operation`. A test in this
/// crate checks the list against `sdk/src/client.rs`.
pub const CLIENT_METHODS: &[&str] = &[
    "builder",
    "from_env",
    "from_env_builder",
    "base_url",
    "next_tracking_id",
    "paced_rate",
    "slot",
    "free_slot",
    "default_parameter",
    "provider_token",
    "url_buffer",
    "execute",
    "execute_bytes",
    "execute_form",
    "call_span",
    "run",
    "attempts",
    "fill",
    "out_of_time",
    "clone",
    "fmt",
];

const COMPONENT_PREFIX: &str = "#/components/schemas/";

/// A schema that has the same meaning wherever it sits, for looking up
/// components while the document is changed.
type Components = indexmap::IndexMap<String, ReferenceOr<Schema>>;

impl Model {
    /// Reads the document; every construct it cannot take is a refusal.
    pub fn read(spec: &OpenAPI) -> (Model, Vec<Refusal>) {
        let mut refusals = Vec::new();
        let mut document = rename_components(spec);
        let mut names: BTreeSet<String> = document
            .components
            .as_ref()
            .map(|c| c.schemas.keys().cloned().collect())
            .unwrap_or_default();
        let written = names.clone();
        // Component problems, by component, charged to every operation
        // that reaches the component.
        let mut problems: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
        merge_all_of_everywhere(&mut document, &mut problems);
        let mut hoisted: Vec<(String, Schema)> = Vec::new();
        if let Some(components) = document.components.as_mut() {
            let keys: Vec<String> = components.schemas.keys().cloned().collect();
            for key in keys {
                if let Some(ReferenceOr::Item(schema)) = components.schemas.get_mut(&key) {
                    name_nested(schema, &key, &mut names, &mut hoisted);
                }
            }
        }
        add_components(&mut document, &mut hoisted);
        for name in names.iter() {
            component_problems(&document, name, &mut problems);
        }

        // Operations, in document order.
        let mut drafts: Vec<Draft> = Vec::new();
        let paths: Vec<(String, ReferenceOr<openapiv3::PathItem>)> = document
            .paths
            .paths
            .iter()
            .map(|(p, i)| (p.clone(), i.clone()))
            .collect();
        for (path, item) in &paths {
            let ReferenceOr::Item(item) = item else {
                refusals.push(Refusal::new(
                    path.clone(),
                    "path",
                    construct::PATH_ITEM_REFERENCE,
                    "",
                ));
                continue;
            };
            for (method, operation) in item.iter() {
                let id = operation
                    .operation_id
                    .clone()
                    .filter(|id| !id.trim().is_empty())
                    .unwrap_or_else(|| format!("{} {path}", method.to_ascii_uppercase()));
                drafts.push(Draft {
                    id,
                    path: path.clone(),
                    method: method.to_string(),
                    operation: operation.clone(),
                    shared: item.parameters.clone(),
                });
            }
        }
        // Method and builder names, unique in document order.
        let mut method_names = BTreeSet::new();
        let mut builder_names = BTreeSet::new();
        let mut operations = Vec::new();
        let mut reaches = Vec::new();
        for draft in &drafts {
            let mut method_ident = crate::operations::snake(&draft.id);
            if CLIENT_METHODS.contains(&method_ident.as_str()) {
                method_ident.push_str("_operation");
            }
            let method_ident = unique(&method_ident, &mut method_names, "_");
            let builder_ident = unique(
                &crate::operations::pascal(&method_ident),
                &mut builder_names,
                "",
            );
            let mut own = Vec::new();
            let mut hoisted = Vec::new();
            let result = read_operation(
                &document,
                draft,
                method_ident,
                builder_ident,
                &mut names,
                &mut hoisted,
                &mut own,
            );
            if !own.is_empty() {
                refusals.extend(own);
                continue;
            }
            let Some(operation) = result else { continue };
            let added: Vec<String> = hoisted.iter().map(|(name, _)| name.clone()).collect();
            add_components(&mut document, &mut hoisted);
            for name in added {
                component_problems(&document, &name, &mut problems);
            }
            let reached = reach(&document, &operation, draft);
            let mut charged = false;
            for name in &reached {
                for (location, construct, detail) in problems.get(name).into_iter().flatten() {
                    refusals.push(Refusal::new(
                        draft.id.clone(),
                        location.clone(),
                        construct,
                        detail,
                    ));
                    charged = true;
                }
            }
            if charged {
                continue;
            }
            operations.push(operation);
            reaches.push(reached);
        }
        flatten_clashing_enums(&mut document);
        // Only what the accepted operations reach is handed on.
        let kept: BTreeSet<String> = reaches.iter().flatten().cloned().collect();
        // A schema marked documentation-only gets no type: only failure
        // answers, which the runtime reads itself, may name it.
        if let Some(components) = document.components.as_mut() {
            components.schemas.retain(|name, schema| {
                kept.contains(name)
                    && !matches!(schema, ReferenceOr::Item(schema)
                        if schema.schema_data.extensions.get(DOCUMENTATION_ONLY)
                            == Some(&serde_json::Value::Bool(true)))
            });
        }
        let mut order: Vec<usize> = (0..operations.len()).collect();
        order.sort_by(|a, b| {
            operations[*a]
                .method_ident
                .cmp(&operations[*b].method_ident)
        });
        let mut sorted_ops = Vec::new();
        let mut sorted_reaches = Vec::new();
        let mut slots: Vec<Option<(Operation, BTreeSet<String>)>> =
            operations.into_iter().zip(reaches).map(Some).collect();
        for index in order {
            if let Some((op, reached)) = slots[index].take() {
                sorted_ops.push(op);
                sorted_reaches.push(reached);
            }
        }
        refusals.sort_by_key(|r| {
            drafts
                .iter()
                .position(|d| d.id == r.operation)
                .unwrap_or(usize::MAX)
        });
        (
            Model {
                document,
                operations: sorted_ops,
                reaches: sorted_reaches,
                created: names.difference(&written).cloned().collect(),
            },
            refusals,
        )
    }

    /// The component schema called `name`, a name this module gave.
    pub fn component(&self, name: &str) -> Option<&Schema> {
        match self.document.components.as_ref()?.schemas.get(name)? {
            ReferenceOr::Item(schema) => Some(schema),
            ReferenceOr::Reference { .. } => None,
        }
    }

    /// Whether `name` is an object component with properties: a struct
    /// with named fields, setters and rules.
    pub fn is_object(&self, name: &str) -> bool {
        self.component(name).is_some_and(is_object_schema)
    }

    /// The schema of the property `json` of the object component `name`
    /// as written: what it says of itself (`deprecated`, `x-aliases`)
    /// stays with it when the model moved it into a component of its own.
    pub fn property_as_written(&self, name: &str, json: &str) -> Option<&Schema> {
        let SchemaKind::Type(Type::Object(object)) = &self.component(name)?.schema_kind else {
            return None;
        };
        match object.properties.get(json)? {
            ReferenceOr::Item(schema) => Some(schema),
            ReferenceOr::Reference { reference } => ref_name(reference)
                .filter(|target| self.created.contains(*target))
                .and_then(|target| self.component(target)),
        }
    }

    /// The operations whose components include `name`.
    pub fn operations_reaching(&self, name: &str) -> Vec<&str> {
        self.operations
            .iter()
            .zip(&self.reaches)
            .filter(|(_, reached)| reached.contains(name))
            .map(|(op, _)| op.id.as_str())
            .collect()
    }
}

struct Draft {
    id: String,
    path: String,
    method: String,
    operation: OaOperation,
    shared: Vec<ReferenceOr<Parameter>>,
}

/// What the component `name` holds that no operation reaching it can
/// take: a rule the checks cannot state, a `not`, a pattern that cannot be
/// compiled.
fn component_problems(
    document: &OpenAPI,
    name: &str,
    problems: &mut BTreeMap<String, Vec<(String, String, String)>>,
) {
    let at = format!("components.schemas.{name}");
    if let Err(detail) = rules::properties(document, name) {
        problems.entry(name.to_string()).or_default().push((
            at.clone(),
            construct::EXCLUSIVE_BOUND.to_string(),
            detail,
        ));
    }
    if let Some(ReferenceOr::Item(schema)) = document
        .components
        .as_ref()
        .and_then(|c| c.schemas.get(name))
    {
        let found = schema_problems(schema, &at);
        if !found.is_empty() {
            problems.entry(name.to_string()).or_default().extend(found);
        }
    }
}

/// Calls `f` on `schema` and every schema written inside it, with its
/// place (not through references: each component is looked at on its
/// own).
fn visit(schema: &Schema, at: &str, f: &mut dyn FnMut(&Schema, &str)) {
    f(schema, at);
    let boxed = |slot: &ReferenceOr<Box<Schema>>, at: &str, f: &mut dyn FnMut(&Schema, &str)| {
        if let ReferenceOr::Item(schema) = slot {
            visit(schema, at, f);
        }
    };
    let plain = |slot: &ReferenceOr<Schema>, at: &str, f: &mut dyn FnMut(&Schema, &str)| {
        if let ReferenceOr::Item(schema) = slot {
            visit(schema, at, f);
        }
    };
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => {
            for (name, slot) in &object.properties {
                boxed(slot, &format!("{at}.{name}"), f);
            }
            if let Some(AdditionalProperties::Schema(slot)) = &object.additional_properties {
                plain(slot, &format!("{at}.*"), f);
            }
        }
        SchemaKind::Type(Type::Array(array)) => {
            if let Some(items) = &array.items {
                boxed(items, &format!("{at}[]"), f);
            }
        }
        SchemaKind::OneOf { one_of: list }
        | SchemaKind::AnyOf { any_of: list }
        | SchemaKind::AllOf { all_of: list } => {
            for member in list {
                plain(member, at, f);
            }
        }
        SchemaKind::Not { not } => plain(not, at, f),
        SchemaKind::Any(any) => {
            for (name, slot) in &any.properties {
                boxed(slot, &format!("{at}.{name}"), f);
            }
            if let Some(items) = &any.items {
                boxed(items, &format!("{at}[]"), f);
            }
            for member in any.one_of.iter().chain(&any.any_of).chain(&any.all_of) {
                plain(member, at, f);
            }
        }
        _ => {}
    }
}

/// The problems of `schema` no check can state: where a `not` sits, and
/// each `pattern` `regress` cannot compile.
fn schema_problems(schema: &Schema, at: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    visit(schema, at, &mut |schema, at| {
        let is_not = match &schema.schema_kind {
            SchemaKind::Not { .. } => true,
            SchemaKind::Any(any) => any.not.is_some(),
            _ => false,
        };
        if is_not {
            found.push((
                at.to_string(),
                construct::NOT_SCHEMA.to_string(),
                String::new(),
            ));
        }
        let pattern = match &schema.schema_kind {
            SchemaKind::Type(Type::String(string)) => string.pattern.as_deref(),
            SchemaKind::Any(any) => any.pattern.as_deref(),
            _ => None,
        };
        if let Some(pattern) = pattern
            && let Err(detail) = crate::check_pattern(pattern)
        {
            found.push((at.to_string(), construct::PATTERN.to_string(), detail));
        }
    });
    found
}

fn unique(base: &str, used: &mut BTreeSet<String>, separator: &str) -> String {
    let mut candidate = base.to_string();
    let mut n = 2;
    while !used.insert(candidate.clone()) {
        candidate = format!("{base}{separator}{n}");
        n += 1;
    }
    candidate
}

/// Renames every component schema to the name typify gives it, made
/// unique, and rewrites every reference to it.
fn rename_components(spec: &OpenAPI) -> OpenAPI {
    let Some(components) = &spec.components else {
        return spec.clone();
    };
    let mut used = BTreeSet::new();
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    for name in components.schemas.keys() {
        let wanted = crate::operations::pascal(name);
        renamed.insert(name.clone(), unique(&wanted, &mut used, ""));
    }
    if renamed.iter().all(|(from, to)| from == to) {
        return spec.clone();
    }
    let Ok(mut value) = serde_json::to_value(spec) else {
        return spec.clone();
    };
    rewrite_refs(&mut value, &renamed);
    if let Some(schemas) = value
        .get_mut("components")
        .and_then(|c| c.get_mut("schemas"))
        .and_then(serde_json::Value::as_object_mut)
    {
        let old = std::mem::take(schemas);
        for (name, schema) in old {
            let new = renamed.get(&name).cloned().unwrap_or(name);
            schemas.insert(new, schema);
        }
    }
    serde_json::from_value(value).unwrap_or_else(|_| spec.clone())
}

fn rewrite_refs(value: &mut serde_json::Value, renamed: &BTreeMap<String, String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match (key.as_str(), &mut *child) {
                    ("$ref", serde_json::Value::String(reference)) => {
                        if let Some(name) = reference.strip_prefix(COMPONENT_PREFIX)
                            && let Some(new) = renamed.get(&unescape_pointer(name))
                        {
                            *reference = format!("{COMPONENT_PREFIX}{new}");
                        }
                    }
                    (rules::UPDATE_SCHEMA, serde_json::Value::String(name)) => {
                        if let Some(new) = renamed.get(name.as_str()) {
                            *name = new.clone();
                        }
                    }
                    _ => rewrite_refs(child, renamed),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                rewrite_refs(item, renamed);
            }
        }
        _ => {}
    }
}

fn unescape_pointer(name: &str) -> String {
    name.replace("~1", "/").replace("~0", "~")
}

/// The component a `$ref` names, when it names one of this document's.
pub fn ref_name(reference: &str) -> Option<&str> {
    reference.strip_prefix(COMPONENT_PREFIX)
}

fn is_object_schema(schema: &Schema) -> bool {
    matches!(&schema.schema_kind, SchemaKind::Type(Type::Object(object)) if !object.properties.is_empty())
}

/// Whether an inline schema becomes a type of its own, and so gets a name.
fn needs_name(schema: &Schema) -> bool {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => !object.properties.is_empty(),
        SchemaKind::Type(Type::String(string)) => !string.enumeration.is_empty(),
        SchemaKind::OneOf { .. } | SchemaKind::AnyOf { .. } => true,
        _ => false,
    }
}

fn add_components(document: &mut OpenAPI, hoisted: &mut Vec<(String, Schema)>) {
    if hoisted.is_empty() {
        return;
    }
    let components = document.components.get_or_insert_with(Default::default);
    for (name, schema) in hoisted.drain(..) {
        components.schemas.insert(name, ReferenceOr::Item(schema));
    }
}

/// Names the inline schemas below `schema`, a type called `base`.
fn name_nested(
    schema: &mut Schema,
    base: &str,
    names: &mut BTreeSet<String>,
    hoisted: &mut Vec<(String, Schema)>,
) {
    match &mut schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => {
            for (property, slot) in object.properties.iter_mut() {
                let name = format!("{base}{}", crate::operations::pascal(property));
                place_boxed(slot, &name, names, hoisted);
            }
            if let Some(AdditionalProperties::Schema(slot)) = object.additional_properties.as_mut()
            {
                let mut inner = ReferenceOr::Item(Box::new(match slot.as_ref() {
                    ReferenceOr::Item(schema) => schema.clone(),
                    ReferenceOr::Reference { reference } => {
                        let reference = reference.clone();
                        **slot = ReferenceOr::Reference { reference };
                        return;
                    }
                }));
                place_boxed(&mut inner, &format!("{base}Value"), names, hoisted);
                if let ReferenceOr::Item(inner) = inner {
                    **slot = ReferenceOr::Item(*inner);
                } else if let ReferenceOr::Reference { reference } = inner {
                    **slot = ReferenceOr::Reference { reference };
                }
            }
        }
        SchemaKind::Type(Type::Array(array)) => {
            if let Some(items) = array.items.as_mut() {
                place_boxed(items, &format!("{base}Item"), names, hoisted);
            }
        }
        SchemaKind::OneOf { one_of: list } | SchemaKind::AnyOf { any_of: list } => {
            // The members stay where they are, as typify renders them; what
            // is nested in them is named.
            for (index, member) in list.iter_mut().enumerate() {
                if let ReferenceOr::Item(member) = member {
                    name_nested(member, &format!("{base}Variant{index}"), names, hoisted);
                }
            }
        }
        _ => {}
    }
}

fn place_boxed(
    slot: &mut ReferenceOr<Box<Schema>>,
    name: &str,
    names: &mut BTreeSet<String>,
    hoisted: &mut Vec<(String, Schema)>,
) {
    let ReferenceOr::Item(schema) = slot else {
        return;
    };
    if needs_name(schema) {
        let name = unique(&crate::operations::pascal(name), names, "");
        let mut schema = (**schema).clone();
        name_nested(&mut schema, &name, names, hoisted);
        hoisted.push((name.clone(), schema));
        *slot = ReferenceOr::Reference {
            reference: format!("{COMPONENT_PREFIX}{name}"),
        };
    } else {
        name_nested(schema, name, names, hoisted);
    }
}

/// Places an inline schema of an operation (a body, an answer) into a
/// component named `name`, and returns the component it is.
#[allow(clippy::too_many_arguments)]
fn place(
    document: &OpenAPI,
    slot: &ReferenceOr<Schema>,
    name: &str,
    names: &mut BTreeSet<String>,
    hoisted: &mut Vec<(String, Schema)>,
    refusals: &mut Vec<Refusal>,
    id: &str,
    at: &str,
) -> Option<String> {
    match slot {
        ReferenceOr::Reference { reference } => ref_name(reference).map(str::to_string),
        ReferenceOr::Item(schema) => {
            let name = unique(&crate::operations::pascal(name), names, "");
            let mut schema = schema.clone();
            let mut found = Vec::new();
            merge_all_of(
                &mut schema,
                document.components.as_ref().map(|c| &c.schemas),
                &mut Vec::new(),
                at,
                &mut found,
            );
            for (location, construct, detail) in found {
                refusals.push(Refusal::new(id.to_string(), location, &construct, detail));
            }
            name_nested(&mut schema, &name, names, hoisted);
            hoisted.push((name.clone(), schema));
            Some(name)
        }
    }
}

/// Merges every `allOf` in components and operations.
fn merge_all_of_everywhere(
    document: &mut OpenAPI,
    problems: &mut BTreeMap<String, Vec<(String, String, String)>>,
) {
    let Some(components) = document.components.as_ref() else {
        return;
    };
    let snapshot = components.schemas.clone();
    let keys: Vec<String> = snapshot.keys().cloned().collect();
    for key in keys {
        let mut found = Vec::new();
        if let Some(ReferenceOr::Item(schema)) = document
            .components
            .as_mut()
            .and_then(|c| c.schemas.get_mut(&key))
        {
            merge_all_of(
                schema,
                Some(&snapshot),
                &mut vec![key.clone()],
                &format!("components.schemas.{key}"),
                &mut found,
            );
        }
        if !found.is_empty() {
            problems.entry(key).or_default().extend(found);
        }
    }
}

/// The object an `allOf` member stands for, with its own `allOf` merged.
fn resolve_member(
    member: &ReferenceOr<Schema>,
    components: Option<&Components>,
    seen: &mut Vec<String>,
    at: &str,
    found: &mut Vec<(String, String, String)>,
) -> Option<Schema> {
    match member {
        ReferenceOr::Item(schema) => {
            let mut schema = schema.clone();
            merge_all_of(&mut schema, components, seen, at, found);
            Some(schema)
        }
        ReferenceOr::Reference { reference } => {
            let name = ref_name(reference)?;
            if seen.iter().any(|s| s == name) {
                found.push((
                    at.to_string(),
                    construct::ALL_OF_CYCLE.to_string(),
                    format!("{name} includes itself"),
                ));
                return None;
            }
            let ReferenceOr::Item(schema) = components?.get(name)? else {
                return None;
            };
            let mut schema = schema.clone();
            seen.push(name.to_string());
            merge_all_of(&mut schema, components, seen, at, found);
            seen.pop();
            Some(schema)
        }
    }
}

/// `allOf: [$ref]` beside a description (the way OpenAPI 3.0 documents a
/// reference) is the reference: a type that refers to itself that way
/// stays a reference instead of being merged into itself.
fn unwrap_single_ref(slot: &mut ReferenceOr<Box<Schema>>) {
    let ReferenceOr::Item(schema) = slot else {
        return;
    };
    let SchemaKind::AllOf { all_of } = &schema.schema_kind else {
        return;
    };
    let mut members = all_of
        .iter()
        .filter(|m| !matches!(m, ReferenceOr::Item(s) if is_annotation(s)));
    if let (Some(ReferenceOr::Reference { reference }), None) = (members.next(), members.next()) {
        *slot = ReferenceOr::Reference {
            reference: reference.clone(),
        };
    }
}

/// A string enum whose values typify would give the same Rust name
/// (`User` and `user`) cannot be an enum: it stays text.
fn flatten_clashing_enums(document: &mut OpenAPI) {
    let Some(components) = document.components.as_mut() else {
        return;
    };
    for schema in components.schemas.values_mut() {
        if let ReferenceOr::Item(schema) = schema
            && let SchemaKind::Type(Type::String(string)) = &mut schema.schema_kind
            && !string.enumeration.is_empty()
        {
            let mut names = BTreeSet::new();
            let clash = string.enumeration.iter().any(|value| {
                !names.insert(crate::operations::pascal(
                    value.as_deref().unwrap_or("null"),
                ))
            });
            if clash {
                string.enumeration.clear();
            }
        }
    }
}

/// Whether a schema says nothing of the value's type (a member of an
/// `allOf` that only adds a description or `nullable`).
fn is_annotation(schema: &Schema) -> bool {
    matches!(&schema.schema_kind, SchemaKind::Any(any) if any.properties.is_empty() && any.typ.is_none() && any.items.is_none() && any.enumeration.is_empty() && any.all_of.is_empty() && any.one_of.is_empty() && any.any_of.is_empty())
}

fn merge_all_of(
    schema: &mut Schema,
    components: Option<&Components>,
    seen: &mut Vec<String>,
    at: &str,
    found: &mut Vec<(String, String, String)>,
) {
    if let SchemaKind::AllOf { all_of } = &schema.schema_kind {
        let members: Vec<ReferenceOr<Schema>> = all_of
            .iter()
            .filter(|m| !matches!(m, ReferenceOr::Item(s) if is_annotation(s)))
            .cloned()
            .collect();
        if let [only @ ReferenceOr::Reference { .. }] = members.as_slice() {
            // One reference with annotations: the referenced type itself.
            let data = schema.schema_data.clone();
            let only = only.clone();
            if let Some(resolved) = resolve_member(&only, components, seen, at, found)
                && !is_object_schema(&resolved)
            {
                *schema = resolved;
                schema.schema_data.description =
                    data.description.or(schema.schema_data.description.take());
                return;
            }
        }
        let mut object = openapiv3::ObjectType::default();
        let mut ok = true;
        for member in &members {
            let Some(resolved) = resolve_member(member, components, seen, at, found) else {
                ok = false;
                continue;
            };
            match resolved.schema_kind {
                SchemaKind::Type(Type::Object(part)) => {
                    for (name, property) in part.properties {
                        object.properties.entry(name).or_insert(property);
                    }
                    for name in part.required {
                        if !object.required.contains(&name) {
                            object.required.push(name);
                        }
                    }
                    if object.additional_properties.is_none() {
                        object.additional_properties = part.additional_properties;
                    }
                }
                SchemaKind::Any(any) if any.typ.is_none() && !any.properties.is_empty() => {
                    for (name, property) in any.properties {
                        object.properties.entry(name).or_insert(property);
                    }
                    for name in any.required {
                        if !object.required.contains(&name) {
                            object.required.push(name);
                        }
                    }
                }
                _ => {
                    found.push((
                        at.to_string(),
                        construct::ALL_OF_NON_OBJECT.to_string(),
                        String::new(),
                    ));
                    ok = false;
                }
            }
        }
        if ok {
            schema.schema_kind = SchemaKind::Type(Type::Object(object));
        }
        return;
    }
    // An object written without `type` but with properties is an object.
    if let SchemaKind::Any(any) = &schema.schema_kind
        && any.typ.is_none()
        && !any.properties.is_empty()
        && any.all_of.is_empty()
        && any.one_of.is_empty()
        && any.any_of.is_empty()
    {
        let object = openapiv3::ObjectType {
            properties: any.properties.clone(),
            required: any.required.clone(),
            additional_properties: any.additional_properties.clone(),
            min_properties: any.min_properties,
            max_properties: any.max_properties,
        };
        schema.schema_kind = SchemaKind::Type(Type::Object(object));
    }
    match &mut schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => {
            for (name, property) in object.properties.iter_mut() {
                unwrap_single_ref(property);
                if let ReferenceOr::Item(property) = property {
                    merge_all_of(property, components, seen, &format!("{at}.{name}"), found);
                }
            }
        }
        SchemaKind::Type(Type::Array(array)) => {
            if let Some(items) = array.items.as_mut() {
                unwrap_single_ref(items);
                if let ReferenceOr::Item(items) = items {
                    merge_all_of(items, components, seen, &format!("{at}[]"), found);
                }
            }
        }
        SchemaKind::OneOf { one_of: list } | SchemaKind::AnyOf { any_of: list } => {
            for member in list.iter_mut() {
                if let ReferenceOr::Item(member) = member {
                    merge_all_of(member, components, seen, at, found);
                }
            }
        }
        _ => {}
    }
}

/// What a `#/components/{section}/` reference in `item` stands for, or
/// the reference when it leads nowhere.
fn resolve<'a, T>(
    document: &'a OpenAPI,
    item: &'a ReferenceOr<T>,
    section: &str,
    map: impl FnOnce(&'a openapiv3::Components) -> &'a indexmap::IndexMap<String, ReferenceOr<T>>,
) -> Result<&'a T, String> {
    match item {
        ReferenceOr::Item(item) => Ok(item),
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/")
            .and_then(|rest| rest.strip_prefix(section))
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|name| map(document.components.as_ref()?).get(name))
            .and_then(ReferenceOr::as_item)
            .ok_or_else(|| reference.clone()),
    }
}

fn resolve_parameter<'a>(
    document: &'a OpenAPI,
    parameter: &'a ReferenceOr<Parameter>,
) -> Result<&'a Parameter, String> {
    resolve(document, parameter, "parameters", |c| &c.parameters)
}

/// Whether a media type is JSON (`application/json`, with parameters, or
/// any `+json` type).
fn is_json(media: &str) -> bool {
    let essence = media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json") || essence == "*/*"
}

/// Whether a body of this media type is sent as the bytes given: anything
/// but forms, whose fields would need encoding.
fn is_raw(media: &str) -> bool {
    let essence = media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    !essence.starts_with("multipart/") && essence != "application/x-www-form-urlencoded"
}

/// The URL-encoded form of a body, when it has one.
fn form_media(content: &indexmap::IndexMap<String, MediaType>) -> Option<&MediaType> {
    content
        .iter()
        .find(|(media, _)| {
            media
                .split(';')
                .next()
                .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(FORM))
        })
        .map(|(_, media)| media)
}

/// The media type of a URL-encoded form.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// Whether the component `name` can be sent as a URL-encoded form: an
/// object whose properties are scalars or lists of scalars (each item a
/// field of its own, `name=a&name=b`). A nested object has no encoding
/// every server reads the same way.
fn form_fields(document: &OpenAPI, hoisted: &[(String, Schema)], name: &str) -> Result<(), String> {
    let Some(SchemaKind::Type(Type::Object(object))) =
        lookup(document, hoisted, name).map(|schema| &schema.schema_kind)
    else {
        return Err("the form is not an object with properties".into());
    };
    let scalar = |slot: &ReferenceOr<Schema>| -> bool {
        let schema = match slot {
            ReferenceOr::Item(schema) => Some(schema),
            ReferenceOr::Reference { reference } => {
                ref_name(reference).and_then(|name| lookup(document, hoisted, name))
            }
        };
        matches!(
            schema.map(|s| &s.schema_kind),
            Some(SchemaKind::Type(
                Type::String(_) | Type::Integer(_) | Type::Number(_) | Type::Boolean(_)
            ))
        )
    };
    for (property, slot) in &object.properties {
        let slot = match slot {
            ReferenceOr::Item(schema) => ReferenceOr::Item((**schema).clone()),
            ReferenceOr::Reference { reference } => ReferenceOr::Reference {
                reference: reference.clone(),
            },
        };
        let fits = scalar(&slot)
            || match &slot {
                ReferenceOr::Item(Schema {
                    schema_kind: SchemaKind::Type(Type::Array(array)),
                    ..
                }) => array.items.as_ref().is_some_and(|items| {
                    scalar(&match items {
                        ReferenceOr::Item(schema) => ReferenceOr::Item((**schema).clone()),
                        ReferenceOr::Reference { reference } => ReferenceOr::Reference {
                            reference: reference.clone(),
                        },
                    })
                }),
                _ => false,
            };
        if !fits {
            return Err(format!(
                "property {property} is not a scalar or a list of scalars, which a form cannot carry"
            ));
        }
    }
    Ok(())
}

fn json_media(content: &indexmap::IndexMap<String, MediaType>) -> Option<&MediaType> {
    content
        .iter()
        .find(|(media, _)| is_json(media))
        .map(|(_, media)| media)
}

/// A schema reference that leads nowhere in this document.
fn dangling(document: &OpenAPI, schema: &ReferenceOr<Schema>) -> Option<String> {
    match schema {
        ReferenceOr::Reference { reference } => match ref_name(reference) {
            Some(name)
                if document
                    .components
                    .as_ref()
                    .is_some_and(|c| c.schemas.contains_key(name)) =>
            {
                None
            }
            _ => Some(reference.clone()),
        },
        ReferenceOr::Item(_) => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn read_operation(
    document: &OpenAPI,
    draft: &Draft,
    method_ident: String,
    builder_ident: String,
    names: &mut BTreeSet<String>,
    hoisted: &mut Vec<(String, Schema)>,
    refusals: &mut Vec<Refusal>,
) -> Option<Operation> {
    let id = &draft.id;
    let operation = &draft.operation;
    let refuse =
        |refusals: &mut Vec<Refusal>, location: String, construct: &str, detail: String| {
            refusals.push(Refusal::new(id.clone(), location, construct, detail));
        };
    // Parameters: the operation's own override the path's of the same name
    // and place, as OpenAPI says.
    let mut all: Vec<&Parameter> = Vec::new();
    let mut own = Vec::new();
    for parameter in &operation.parameters {
        match resolve_parameter(document, parameter) {
            Ok(parameter) => own.push(parameter),
            Err(reference) => refuse(
                refusals,
                "parameter".into(),
                construct::UNRESOLVED_REFERENCE,
                reference,
            ),
        }
    }
    for parameter in &draft.shared {
        match resolve_parameter(document, parameter) {
            Ok(parameter) => {
                let data = parameter.parameter_data_ref();
                let overridden = own.iter().any(|o| {
                    o.parameter_data_ref().name == data.name
                        && std::mem::discriminant(*o) == std::mem::discriminant(parameter)
                });
                if !overridden {
                    all.push(parameter);
                }
            }
            Err(reference) => refuse(
                refusals,
                "parameter".into(),
                construct::UNRESOLVED_REFERENCE,
                reference,
            ),
        }
    }
    all.extend(own);
    let mut params = Vec::new();
    let mut idents: BTreeSet<String> = RESERVED_PARAMS.iter().map(|s| s.to_string()).collect();
    for parameter in all {
        let data = parameter.parameter_data_ref();
        let location = match parameter {
            Parameter::Path { .. } => In::Path,
            Parameter::Query { .. } => In::Query,
            Parameter::Header { .. } => In::Header,
            Parameter::Cookie { .. } => {
                refuse(
                    refusals,
                    format!("parameter {}", data.name),
                    construct::COOKIE_PARAMETER,
                    String::new(),
                );
                continue;
            }
        };
        let at = format!("parameter {}", data.name);
        let schema = match &data.format {
            ParameterSchemaOrContent::Schema(schema) => schema,
            ParameterSchemaOrContent::Content(_) => {
                refuse(refusals, at, construct::PARAMETER_CONTENT, String::new());
                continue;
            }
        };
        if let Some(reference) = dangling(document, schema) {
            refuse(refusals, at, construct::UNRESOLVED_REFERENCE, reference);
            continue;
        }
        if let ReferenceOr::Item(schema) = schema {
            let found = schema_problems(schema, &at);
            if !found.is_empty() {
                for (location, construct, detail) in found {
                    refuse(refusals, location, &construct, detail);
                }
                continue;
            }
        }
        let name = if location == In::Header {
            data.name.to_ascii_lowercase()
        } else {
            data.name.clone()
        };
        if location == In::Header
            && (name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)))
        {
            refuse(refusals, at, construct::HEADER_NAME, String::new());
            continue;
        }
        let base = format!("{builder_ident}{}", crate::operations::pascal(&data.name));
        let ty = match param_type(document, schema, &base, names, hoisted) {
            Ok(ParamType::List(_)) if location != In::Query => {
                refuse(refusals, at, construct::ARRAY_PARAMETER, String::new());
                continue;
            }
            Ok(ty) => ty,
            Err(construct) => {
                refuse(refusals, at, construct, String::new());
                continue;
            }
        };
        // The rules are read from the schema as written.
        let shape = match rules::shape_of(document, schema) {
            // A parameter holds the plain value, not the component's
            // newtype.
            Ok(Shape::Newtype(inner)) => *inner,
            Ok(shape) => shape,
            Err(detail) => {
                refuse(refusals, at, construct::EXCLUSIVE_BOUND, detail);
                continue;
            }
        };
        let mut ident = crate::operations::snake(&data.name);
        if idents.contains(&ident) {
            ident = format!("{ident}_{}", location.word());
        }
        let ident = unique(&ident, &mut idents, "_");
        let client_default = match client_default_of(parameter, &ty) {
            Ok(client_default) => client_default,
            Err(detail) => {
                refuse(refusals, at, construct::X_CLIENT_DEFAULT, detail);
                continue;
            }
        };
        params.push(Param {
            name,
            ident,
            location,
            required: data.required || location == In::Path,
            description: data.description.clone().unwrap_or_default(),
            shape,
            ty,
            client_default,
        });
    }
    // Every `{name}` of the path needs its parameter.
    let mut rest = draft.path.as_str();
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}').map(|e| e + start) else {
            break;
        };
        let name = &rest[start + 1..end];
        if !params
            .iter()
            .any(|p| p.location == In::Path && p.name == name)
        {
            // A `{name}` the document forgot to declare is a required
            // text parameter, as the path says.
            let mut ident = crate::operations::snake(name);
            if idents.contains(&ident) {
                ident = format!("{ident}_path");
            }
            params.push(Param {
                name: name.to_string(),
                ident: unique(&ident, &mut idents, "_"),
                location: In::Path,
                required: true,
                description: String::new(),
                shape: Shape::Free,
                ty: ParamType::Str,
                client_default: None,
            });
        }
        rest = &rest[end + 1..];
    }
    // The body.
    let mut body = None;
    let mut raw_body = None;
    if let Some(request_body) = &operation.request_body {
        match resolve(document, request_body, "requestBodies", |c| {
            &c.request_bodies
        }) {
            Err(reference) => refuse(
                refusals,
                "requestBody".into(),
                construct::UNRESOLVED_REFERENCE,
                reference,
            ),
            Ok(request_body) if request_body.content.is_empty() => {}
            Ok(request_body) => match json_media(&request_body.content)
                .map(|media| (media, false))
                .or_else(|| form_media(&request_body.content).map(|media| (media, true)))
            {
                None => match request_body.content.keys().find(|media| is_raw(media)) {
                    Some(media) => {
                        raw_body = Some(RawBody {
                            media: media.clone(),
                            required: request_body.required,
                        });
                    }
                    None => refuse(
                        refusals,
                        "requestBody".into(),
                        construct::FORM_BODY,
                        request_body
                            .content
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                },
                Some((media, form)) => match &media.schema {
                    None => refuse(
                        refusals,
                        "requestBody".into(),
                        construct::BODY_WITHOUT_SCHEMA,
                        String::new(),
                    ),
                    Some(schema) => {
                        if let Some(reference) = dangling(document, schema) {
                            refuse(
                                refusals,
                                "requestBody".into(),
                                construct::UNRESOLVED_REFERENCE,
                                reference,
                            );
                        } else if let Some(type_name) = place(
                            document,
                            schema,
                            &format!("{builder_ident}Body"),
                            names,
                            hoisted,
                            refusals,
                            id,
                            "requestBody",
                        ) {
                            let is_object =
                                lookup(document, hoisted, &type_name).is_some_and(is_object_schema);
                            if form && let Err(detail) = form_fields(document, hoisted, &type_name)
                            {
                                refuse(
                                    refusals,
                                    "requestBody".into(),
                                    construct::FORM_BODY,
                                    detail,
                                );
                            }
                            body = Some(Body {
                                type_name,
                                required: request_body.required,
                                example: media.example.clone().or_else(|| {
                                    media
                                        .examples
                                        .values()
                                        .find_map(|e| e.as_item().and_then(|e| e.value.clone()))
                                }),
                                is_object,
                                form,
                            });
                        }
                    }
                },
            },
        }
    }
    // The answers.
    let mut success = Vec::new();
    let mut outputs: Vec<Output> = Vec::new();
    let mut accept: Vec<String> = Vec::new();
    let mut response_headers: Vec<String> = Vec::new();
    let mut successes: Vec<(u16, &ReferenceOr<Response>)> = operation
        .responses
        .responses
        .iter()
        .filter_map(|(code, response)| match code {
            StatusCode::Code(code) if (200..300).contains(code) => Some((*code, response)),
            StatusCode::Range(2) => Some((200, response)),
            _ => None,
        })
        .collect();
    // `101` switches to a WebSocket: the success is the connection. An
    // operation marked `x-dropshot-websocket` whose switch is its `default`
    // answer (as older servers wrote it) is read the same way, as
    // progenitor reads it. Any other `1xx` names no protocol to switch to.
    let switches = operation
        .responses
        .responses
        .contains_key(&StatusCode::Code(101))
        || (operation.extensions.contains_key(WEBSOCKET)
            && operation.responses.default.is_some()
            && successes.is_empty());
    if let Some((code, _)) = operation.responses.responses.iter().find(|(code, _)| {
        matches!(code, StatusCode::Code(100..=199) | StatusCode::Range(1))
            && **code != StatusCode::Code(101)
    }) {
        refuse(
            refusals,
            format!("response {code}"),
            construct::PROTOCOL_UPGRADE,
            String::new(),
        );
    }
    if switches {
        // Whatever else is declared, the answer that succeeds is the
        // switch: a `2xx` hands over no connection, and the runtime says so.
        let media: Vec<String> = operation
            .responses
            .responses
            .get(&StatusCode::Code(101))
            .or(operation.responses.default.as_ref())
            .and_then(|r| resolve(document, r, "responses", |c| &c.responses).ok())
            .map(|r| r.content.keys().cloned().collect())
            .unwrap_or_default();
        successes.clear();
        success.push(101);
        outputs.push(Output::Upgrade);
        accept.extend(media);
    }
    // With no `2xx` declared, `default` is the success, as progenitor
    // reads it; with neither, any `2xx` is, and its body is not read.
    if successes.is_empty()
        && !switches
        && let Some(default) = &operation.responses.default
    {
        successes.push((200, default));
    }
    let declared_success = !successes.is_empty() || switches;
    let several = successes
        .iter()
        .filter(|(_, response)| {
            resolve(document, response, "responses", |c| &c.responses)
                .is_ok_and(|r| json_media(&r.content).is_some())
        })
        .count()
        > 1;
    for (code, response) in successes {
        let response = match resolve(document, response, "responses", |c| &c.responses) {
            Ok(response) => response,
            Err(reference) => {
                refuse(
                    refusals,
                    format!("response {code}"),
                    construct::UNRESOLVED_REFERENCE,
                    reference,
                );
                continue;
            }
        };
        success.push(code);
        for name in response.headers.keys() {
            let name = name.to_ascii_lowercase();
            if !response_headers.contains(&name) {
                response_headers.push(name);
            }
        }
        if response.content.is_empty() {
            outputs.push(Output::Unit);
            continue;
        }
        match json_media(&response.content) {
            Some(media) => {
                if !accept.iter().any(|a| a == "application/json") {
                    accept.push("application/json".into());
                }
                match &media.schema {
                    None => outputs.push(Output::Value),
                    Some(schema) => {
                        if let Some(reference) = dangling(document, schema) {
                            refuse(
                                refusals,
                                format!("response {code}"),
                                construct::UNRESOLVED_REFERENCE,
                                reference,
                            );
                            continue;
                        }
                        let name = if several {
                            format!("{builder_ident}Response{code}")
                        } else {
                            format!("{builder_ident}Response")
                        };
                        match place(
                            document,
                            schema,
                            &name,
                            names,
                            hoisted,
                            refusals,
                            id,
                            &format!("response {code}"),
                        ) {
                            Some(name) => outputs.push(Output::Json(name)),
                            None => outputs.push(Output::Value),
                        }
                    }
                }
            }
            None => {
                for media in response.content.keys() {
                    if !accept.contains(media) {
                        accept.push(media.clone());
                    }
                }
                outputs.push(Output::Bytes);
            }
        }
    }
    if !declared_success {
        success.push(200);
    }
    let output = combine(&outputs);
    let body_properties: Vec<String> = body
        .as_ref()
        .and_then(|b| lookup(document, hoisted, &b.type_name))
        .map(|schema| match &schema.schema_kind {
            SchemaKind::Type(Type::Object(object)) => object.properties.keys().cloned().collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    let resend = match resend_of(&draft.method, operation, &body_properties) {
        Ok(resend) => resend,
        Err(detail) => {
            refuse(
                refusals,
                "x-idempotent".into(),
                construct::X_IDEMPOTENT,
                detail,
            );
            return None;
        }
    };
    let documentation_only = |name: &str| {
        lookup(document, hoisted, name).is_some_and(|schema| {
            schema.schema_data.extensions.get(DOCUMENTATION_ONLY)
                == Some(&serde_json::Value::Bool(true))
        })
    };
    if let Some(body) = &body
        && documentation_only(&body.type_name)
    {
        refuse(
            refusals,
            "requestBody".into(),
            construct::X_DOCUMENTATION_ONLY,
            body.type_name.clone(),
        );
    }
    for output in &outputs {
        if let Output::Json(name) | Output::OptionalJson(name) = output
            && documentation_only(name)
        {
            refuse(
                refusals,
                "responses".into(),
                construct::X_DOCUMENTATION_ONLY,
                name.clone(),
            );
        }
    }
    let list = match list_of(
        document,
        hoisted,
        operation,
        &params,
        &output,
        body.is_some() || raw_body.is_some(),
    ) {
        Ok(list) => list,
        Err(detail) => {
            refuse(refusals, "x-list".into(), construct::X_LIST, detail);
            None
        }
    };
    if !refusals.is_empty() {
        return None;
    }
    if accept.is_empty() {
        accept.push("application/json".into());
    }
    // The runtime sends these as static header values: visible ASCII only.
    let sendable = |media: &str| media.bytes().all(|b| (32..127).contains(&b));
    for media in accept.iter().chain(raw_body.as_ref().map(|raw| &raw.media)) {
        if !sendable(media) {
            refuse(
                refusals,
                "content".into(),
                construct::MEDIA_TYPE,
                media.clone(),
            );
        }
    }
    if !refusals.is_empty() {
        return None;
    }
    Some(Operation {
        id: id.clone(),
        method_ident,
        builder_ident,
        method: draft.method.to_ascii_uppercase(),
        path: draft.path.clone(),
        summary: operation.summary.clone(),
        description: operation.description.clone(),
        params,
        body,
        raw_body,
        success,
        output,
        accept: accept.join(", "),
        response_headers,
        resend,
        list,
    })
}

/// The extension that marks a component schema as documentation only: it
/// describes a shape the SDK's runtime reads by hand (the error body).
/// Only the answers the model does not read (failures) may name it, so no
/// type is generated for it.
pub const DOCUMENTATION_ONLY: &str = "x-documentation-only";

/// progenitor's extension that marks an operation as a WebSocket.
pub const WEBSOCKET: &str = "x-dropshot-websocket";

/// The extension that gives a parameter a client-wide default.
pub const CLIENT_DEFAULT: &str = "x-client-default";

/// Reads a parameter's `x-client-default: name`: the parameter takes the
/// client-wide value the `ClientBuilder` setter of that name sets when a
/// call does not set its own. Only an optional text query parameter may
/// have one.
fn client_default_of(parameter: &Parameter, ty: &ParamType) -> Result<Option<String>, String> {
    let data = parameter.parameter_data_ref();
    let Some(value) = data.extensions.get(CLIENT_DEFAULT) else {
        return Ok(None);
    };
    let name = value
        .as_str()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| {
            format!(
                "{CLIENT_DEFAULT} must be the name of the client-wide setting, a non-empty string"
            )
        })?;
    if !matches!(parameter, Parameter::Query { .. }) || data.required || *ty != ParamType::Str {
        return Err(format!(
            "{CLIENT_DEFAULT} is taken on optional text query parameters only"
        ));
    }
    Ok(Some(name.to_string()))
}

/// Reads `x-list: {items: property, max: parameter, start: parameter,
/// link: bool}`: the success answer is an object component whose `items`
/// property is an array of a component, and `max` and `start` are
/// optional integer query parameters of the operation.
fn list_of(
    document: &OpenAPI,
    hoisted: &[(String, Schema)],
    operation: &OaOperation,
    params: &[Param],
    output: &Output,
    has_body: bool,
) -> Result<Option<List>, String> {
    let Some(value) = operation.extensions.get("x-list") else {
        return Ok(None);
    };
    let fields = value.as_object().ok_or_else(|| {
        "x-list must be {items: property, max: parameter, start: parameter, link: bool}".to_string()
    })?;
    if let Some(unknown) = fields
        .keys()
        .find(|key| !matches!(key.as_str(), "items" | "max" | "start" | "link"))
    {
        return Err(format!("x-list has an unknown key {unknown:?}"));
    }
    if has_body {
        return Err("x-list on an operation with a request body".into());
    }
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("x-list needs `{key}`, a name"))
    };
    let (items, max_name, start_name) = (text("items")?, text("max")?, text("start")?);
    let link = match fields.get("link") {
        None => false,
        Some(serde_json::Value::Bool(link)) => *link,
        Some(_) => return Err("x-list `link` must be true or false".into()),
    };
    let mut paging = Vec::new();
    for name in [&max_name, &start_name] {
        let param = params
            .iter()
            .find(|p| p.location == In::Query && p.name == *name)
            .ok_or_else(|| format!("x-list names {name:?}, which is not a query parameter"))?;
        if param.ty != ParamType::Integer || param.required {
            return Err(format!(
                "x-list names {name:?}, which must be an optional integer query parameter"
            ));
        }
        paging.push(param.ident.clone());
    }
    let Output::Json(answer) = output else {
        return Err("x-list needs one JSON success answer of an object component".into());
    };
    let property = lookup(document, hoisted, answer)
        .and_then(|schema| match &schema.schema_kind {
            SchemaKind::Type(Type::Object(object)) => object.properties.get(&items),
            _ => None,
        })
        .ok_or_else(|| format!("x-list names {items:?}, which is not a property of the answer"))?;
    let item_type = match property {
        ReferenceOr::Item(schema) => match &schema.schema_kind {
            SchemaKind::Type(Type::Array(openapiv3::ArrayType {
                items: Some(ReferenceOr::Reference { reference }),
                ..
            })) => ref_name(reference).map(str::to_string),
            _ => None,
        },
        ReferenceOr::Reference { .. } => None,
    }
    .ok_or_else(|| format!("x-list names {items:?}, which is not an array of a component"))?;
    let start = paging.pop().unwrap_or_default();
    let max = paging.pop().unwrap_or_default();
    Ok(Some(List {
        items_field: crate::operations::snake(&items),
        item_type,
        max,
        start,
        max_name,
        start_name,
        link,
    }))
}

/// The component schema `name`, among the document's or those just
/// named for the operation being read.
fn lookup<'a>(
    document: &'a OpenAPI,
    hoisted: &'a [(String, Schema)],
    name: &str,
) -> Option<&'a Schema> {
    hoisted
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, schema)| schema)
        .or_else(|| document.components.as_ref()?.schemas.get(name)?.as_item())
}

fn combine(outputs: &[Output]) -> Output {
    if outputs.contains(&Output::Upgrade) {
        return Output::Upgrade;
    }
    if outputs.contains(&Output::Bytes) {
        return Output::Bytes;
    }
    let mut json: Vec<&String> = Vec::new();
    let mut value = false;
    let mut unit = false;
    for output in outputs {
        match output {
            Output::Json(name) | Output::OptionalJson(name) => {
                if !json.contains(&name) {
                    json.push(name);
                }
            }
            Output::Value => value = true,
            Output::Unit => unit = true,
            Output::Bytes | Output::Upgrade => {}
        }
    }
    match (json.as_slice(), value, unit) {
        ([], false, _) => Output::Unit,
        ([one], false, false) => Output::Json((*one).clone()),
        ([one], false, true) => Output::OptionalJson((*one).clone()),
        _ => Output::Value,
    }
}

/// The type of a parameter's value.
fn param_type(
    document: &OpenAPI,
    schema: &ReferenceOr<Schema>,
    base: &str,
    names: &mut BTreeSet<String>,
    hoisted: &mut Vec<(String, Schema)>,
) -> Result<ParamType, &'static str> {
    let (schema, component) = match schema {
        ReferenceOr::Reference { reference } => {
            let name = ref_name(reference).ok_or(construct::UNRESOLVED_REFERENCE)?;
            let schema = document
                .components
                .as_ref()
                .and_then(|c| c.schemas.get(name))
                .and_then(ReferenceOr::as_item)
                .ok_or(construct::UNRESOLVED_REFERENCE)?;
            (schema, Some(name.to_string()))
        }
        ReferenceOr::Item(schema) => (schema, None),
    };
    Ok(match &schema.schema_kind {
        SchemaKind::Type(Type::String(string)) if !string.enumeration.is_empty() => match component
        {
            Some(name) => ParamType::Enum(name),
            None => {
                let name = unique(&crate::operations::pascal(base), names, "");
                hoisted.push((name.clone(), schema.clone()));
                ParamType::Enum(name)
            }
        },
        SchemaKind::Type(Type::String(_)) => ParamType::Str,
        SchemaKind::Type(Type::Integer(_)) => ParamType::Integer,
        SchemaKind::Type(Type::Number(_)) => ParamType::Number,
        SchemaKind::Type(Type::Boolean(_)) => ParamType::Bool,
        SchemaKind::Type(Type::Array(array)) => {
            let items = match &array.items {
                Some(ReferenceOr::Item(items)) => ReferenceOr::Item((**items).clone()),
                Some(ReferenceOr::Reference { reference }) => ReferenceOr::Reference {
                    reference: reference.clone(),
                },
                None => return Ok(ParamType::List(Box::new(ParamType::Str))),
            };
            match param_type(document, &items, &format!("{base}Item"), names, hoisted)? {
                ParamType::List(_) => return Err(construct::NESTED_ARRAY_PARAMETER),
                inner => ParamType::List(Box::new(inner)),
            }
        }
        SchemaKind::Type(Type::Object(_)) => return Err(construct::OBJECT_PARAMETER),
        SchemaKind::Any(any) if !any.properties.is_empty() => {
            return Err(construct::OBJECT_PARAMETER);
        }
        // One value or a list of them (`oneOf: [string, array of
        // string]`): a list, sent once per item; a choice of scalars: text.
        SchemaKind::OneOf { one_of: members } | SchemaKind::AnyOf { any_of: members } => {
            let mut list = None;
            for member in members {
                match param_type(document, member, base, names, hoisted)? {
                    ParamType::List(inner) => list = Some(ParamType::List(inner)),
                    ParamType::Enum(_)
                    | ParamType::Str
                    | ParamType::Integer
                    | ParamType::Number
                    | ParamType::Bool => {}
                }
            }
            list.unwrap_or(ParamType::Str)
        }
        SchemaKind::AllOf { .. } => return Err(construct::OBJECT_PARAMETER),
        // A schema that says nothing of the type: text.
        _ => ParamType::Str,
    })
}

/// Reads `x-idempotent`: `true`, `false`,
/// `{unless-body-sets: [property, ...], check: text}`, or `{check: text}`
/// (never sent again, and this is what to check). Without it, the
/// methods HTTP defines as idempotent may be sent again and the others not.
fn resend_of(
    method: &str,
    operation: &OaOperation,
    body_properties: &[String],
) -> Result<Resend, String> {
    let default = Resend {
        unless_body_sets: match method {
            "get" | "head" | "options" | "put" | "delete" => None,
            _ => Some(Vec::new()),
        },
        check: DEFAULT_CHECK.to_string(),
    };
    let Some(value) = operation.extensions.get("x-idempotent") else {
        return Ok(default);
    };
    let bad = || {
        "x-idempotent must be true, false, {unless-body-sets: [property, ...], check: text} or {check: text}"
            .to_string()
    };
    match value {
        serde_json::Value::Bool(true) => Ok(Resend {
            unless_body_sets: None,
            ..default
        }),
        serde_json::Value::Bool(false) => Ok(Resend {
            unless_body_sets: Some(Vec::new()),
            ..default
        }),
        serde_json::Value::Object(fields) => {
            if let Some(unknown) = fields
                .keys()
                .find(|key| !matches!(key.as_str(), "unless-body-sets" | "check"))
            {
                return Err(format!("x-idempotent has an unknown key {unknown:?}"));
            }
            // Without `unless-body-sets` the operation is never sent again,
            // and `check` says what to look at instead.
            let names = match fields.get("unless-body-sets") {
                None if fields.contains_key("check") => Vec::new(),
                None => return Err(bad()),
                Some(names) => {
                    let names = names
                        .as_array()
                        .ok_or_else(bad)?
                        .iter()
                        .map(|name| name.as_str().map(str::to_string).ok_or_else(bad))
                        .collect::<Result<Vec<_>, _>>()?;
                    if names.is_empty() {
                        return Err(bad());
                    }
                    names
                }
            };
            if let Some(missing) = names.iter().find(|name| !body_properties.contains(name)) {
                return Err(format!(
                    "x-idempotent names {missing:?}, which is not a property of the request body"
                ));
            }
            let check = match fields.get("check") {
                None => DEFAULT_CHECK.to_string(),
                Some(serde_json::Value::String(check)) if !check.trim().is_empty() => {
                    check.trim().to_string()
                }
                Some(_) => return Err(bad()),
            };
            Ok(Resend {
                unless_body_sets: Some(names),
                check,
            })
        }
        _ => Err(bad()),
    }
}

/// Every component an operation reaches, following `$ref`s and
/// `x-update-schema`.
fn reach(document: &OpenAPI, operation: &Operation, draft: &Draft) -> BTreeSet<String> {
    let mut start: Vec<String> = Vec::new();
    for param in &operation.params {
        collect_param_type(&param.ty, &mut start);
    }
    if let Some(body) = &operation.body {
        start.push(body.type_name.clone());
    }
    match &operation.output {
        Output::Json(name) | Output::OptionalJson(name) => start.push(name.clone()),
        _ => {}
    }
    // Everything else the operation names: its error answers' schemas
    // among them, through the document's shared parameters, bodies and
    // answers.
    let mut shared = Vec::new();
    if let Ok(value) = serde_json::to_value(&draft.operation) {
        collect_refs(&value, &mut start, &mut shared);
    }
    if let Ok(value) = serde_json::to_value(&draft.shared) {
        collect_refs(&value, &mut start, &mut shared);
    }
    let mut followed = BTreeSet::new();
    while let Some(pointer) = shared.pop() {
        if !followed.insert(pointer.clone()) {
            continue;
        }
        let Ok(whole) = serde_json::to_value(document.components.as_ref()) else {
            continue;
        };
        if let Some(value) = pointer
            .strip_prefix("#/components")
            .and_then(|rest| whole.pointer(rest))
        {
            collect_refs(value, &mut start, &mut shared);
        }
    }
    let mut seen = BTreeSet::new();
    let components = document.components.as_ref();
    while let Some(name) = start.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(ReferenceOr::Item(schema)) = components.and_then(|c| c.schemas.get(&name)) else {
            continue;
        };
        let Ok(value) = serde_json::to_value(schema) else {
            continue;
        };
        collect_refs(&value, &mut start, &mut Vec::new());
    }
    seen
}

fn collect_param_type(ty: &ParamType, out: &mut Vec<String>) {
    match ty {
        ParamType::Enum(name) => out.push(name.clone()),
        ParamType::List(inner) => collect_param_type(inner, out),
        _ => {}
    }
}

/// The component schemas `value` names into `out`, and its other
/// references into the document's components into `other`.
fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>, other: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", serde_json::Value::String(reference)) => {
                        if let Some(name) = ref_name(reference) {
                            out.push(name.to_string());
                        } else if reference.starts_with("#/components/") {
                            other.push(reference.clone());
                        }
                    }
                    (rules::UPDATE_SCHEMA, serde_json::Value::String(name)) => {
                        out.push(name.clone());
                    }
                    _ => collect_refs(child, out, other),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                collect_refs(item, out, other);
            }
        }
        _ => {}
    }
}
