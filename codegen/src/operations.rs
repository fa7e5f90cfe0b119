//! Passes over progenitor's client: the operation builders stay, the
//! transport is replaced by the SDK's runtime.

use std::collections::BTreeMap;

use openapiv3::{OpenAPI, Operation, Parameter, ReferenceOr, StatusCode};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{Attribute, ImplItem, Item, ItemImpl, parse_quote};

use crate::rules;
use crate::types::Checks;

/// One operation of the spec, as the generated code needs it.
pub struct OperationInfo {
    pub id: String,
    pub method_ident: String,
    pub builder_ident: String,
    pub method: String,
    pub path: String,
    pub params: Vec<ParamInfo>,
    pub success: u16,
    /// The request body, when the operation takes one.
    pub body: Option<BodyInfo>,
    pub resend: Resend,
    /// How to walk every page, when the spec marks the operation as a list.
    pub list: Option<ListInfo>,
}

/// A list operation, from its `x-list` extension: which property of the
/// answer holds the items, and which query parameters page through them.
pub struct ListInfo {
    /// The JSON name of the answer's array of items.
    pub items: String,
    /// The component the items are.
    pub item_type: String,
    /// The query parameter that sets the page size.
    pub max: String,
    /// The query parameter that sets the offset of a page's first item.
    pub start: String,
    /// Whether the answers carry a `Link` header, whose absence then ends
    /// the list.
    pub link: bool,
}

/// A request body as the spec declares it. Its Rust type is the one
/// progenitor chose, read from the builder it emits, so inline schemas work
/// as well as named components.
pub struct BodyInfo {
    /// Whether the spec requires the body (`requestBody.required`): a
    /// builder without one is refused like one without a required
    /// parameter.
    pub required: bool,
    pub example: Option<serde_json::Value>,
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

/// Reads `x-idempotent`: `true`, `false`,
/// `{unless-body-sets: [property, ...], check: text}`, or `{check: text}`
/// (never sent again, and this is what to check). Without it, the
/// methods HTTP defines as idempotent may be sent again and the others not.
fn resend_of(
    id: &str,
    method: &str,
    operation: &Operation,
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
        format!(
            "{id}: x-idempotent must be true, false, {{unless-body-sets: [property, ...], check: text}} or {{check: text}}"
        )
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
                return Err(format!("{id}: x-idempotent has an unknown key {unknown:?}"));
            }
            // Without `unless-body-sets` the operation is never sent again,
            // and `check` says what to look at instead.
            let names = match fields.get("unless-body-sets") {
                None => Vec::new(),
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
            if names.is_empty() && !fields.contains_key("check") {
                return Err(bad());
            }
            if let Some(missing) = names.iter().find(|name| !body_properties.contains(name)) {
                return Err(format!(
                    "{id}: x-idempotent names {missing:?}, which is not a property of the request body"
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

/// The top-level property names of a body schema, inline or a component.
fn properties_of(spec: &OpenAPI, schema: &ReferenceOr<openapiv3::Schema>) -> Vec<String> {
    let schema = match schema {
        ReferenceOr::Item(schema) => schema,
        ReferenceOr::Reference { reference } => {
            match rules::component_name(reference).and_then(|name| rules::component(spec, name)) {
                Ok(schema) => schema,
                Err(_) => return Vec::new(),
            }
        }
    };
    match &schema.schema_kind {
        openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) => {
            object.properties.keys().cloned().collect()
        }
        _ => Vec::new(),
    }
}

/// Reads `x-list: {items: property, max: parameter, start: parameter,
/// link: bool}`: the success answer is an object component whose `items`
/// property is an array of a named component, and `max` and `start` are
/// integer (`int64`) query parameters of the operation.
fn list_of(
    spec: &OpenAPI,
    id: &str,
    operation: &Operation,
    params: &[ParamInfo],
    response: &ReferenceOr<openapiv3::Response>,
) -> Result<Option<ListInfo>, String> {
    let Some(value) = operation.extensions.get("x-list") else {
        return Ok(None);
    };
    let bad = |what: &str| format!("{id}: x-list {what}");
    let fields = value.as_object().ok_or_else(|| {
        bad("must be {items: property, max: parameter, start: parameter, link: bool}")
    })?;
    if let Some(unknown) = fields
        .keys()
        .find(|key| !matches!(key.as_str(), "items" | "max" | "start" | "link"))
    {
        return Err(bad(&format!("has an unknown key {unknown:?}")));
    }
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| bad(&format!("needs `{key}`, a name")))
    };
    let (items, max, start) = (text("items")?, text("max")?, text("start")?);
    let link = match fields.get("link") {
        None => false,
        Some(serde_json::Value::Bool(link)) => *link,
        Some(_) => return Err(bad("`link` must be true or false")),
    };
    for name in [&max, &start] {
        let param = params
            .iter()
            .find(|p| !p.in_path && p.name == *name)
            .ok_or_else(|| bad(&format!("names {name:?}, which is not a query parameter")))?;
        if !matches!(param.shape, rules::Shape::Integer { .. }) || param.required {
            return Err(bad(&format!(
                "names {name:?}, which must be an optional integer query parameter"
            )));
        }
    }
    let schema = match response {
        ReferenceOr::Item(response) => response
            .content
            .get("application/json")
            .and_then(|media| media.schema.as_ref()),
        ReferenceOr::Reference { .. } => None,
    };
    let Some(ReferenceOr::Reference { reference }) = schema else {
        return Err(bad(
            "needs a success answer whose schema is a $ref to a component",
        ));
    };
    let wrapper = rules::component(spec, rules::component_name(reference)?)?;
    let property = match &wrapper.schema_kind {
        openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) => {
            object.properties.get(&items)
        }
        _ => None,
    }
    .ok_or_else(|| {
        bad(&format!(
            "names {items:?}, which is not a property of the answer"
        ))
    })?;
    let item_type = match property {
        ReferenceOr::Item(schema) => match &schema.schema_kind {
            openapiv3::SchemaKind::Type(openapiv3::Type::Array(openapiv3::ArrayType {
                items: Some(ReferenceOr::Reference { reference }),
                ..
            })) => rules::component_name(reference)?.to_string(),
            _ => {
                return Err(bad(&format!(
                    "names {items:?}, which is not an array of a component"
                )));
            }
        },
        ReferenceOr::Reference { .. } => {
            return Err(bad(&format!(
                "names {items:?}, which is not an inline array"
            )));
        }
    };
    Ok(Some(ListInfo {
        items,
        item_type,
        max,
        start,
        link,
    }))
}

/// A path or query parameter.
pub struct ParamInfo {
    pub name: String,
    pub ident: String,
    pub in_path: bool,
    pub required: bool,
    pub description: String,
    pub shape: rules::Shape,
    /// The name of the client-wide setting this parameter takes when a
    /// call does not set it: its `x-client-default`.
    pub client_default: Option<String>,
}

/// Names the builders use for their own setters and fields, which no
/// parameter may take.
const BUILDER_NAMES: &[&str] = &["client", "body", "options", "retry", "budget", "timeout"];

/// Reads a parameter's `x-client-default: name`: the parameter takes the
/// client-wide value the `ClientBuilder` setter of that name sets when a
/// call does not set its own. Only an optional string query parameter may
/// have one.
fn client_default_of(
    id: &str,
    parameter: &Parameter,
    shape: &rules::Shape,
) -> Result<Option<String>, String> {
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
                "{id}: parameter {}: {CLIENT_DEFAULT} must be the name of the client-wide setting, a non-empty string",
                data.name
            )
        })?;
    let is_string = matches!(shape, rules::Shape::String { .. });
    if !matches!(parameter, Parameter::Query { .. }) || data.required || !is_string {
        return Err(format!(
            "{id}: parameter {}: {CLIENT_DEFAULT} is supported on optional string query parameters only",
            data.name
        ));
    }
    Ok(Some(name.to_string()))
}

/// The extension that gives a parameter a client-wide default.
pub const CLIENT_DEFAULT: &str = "x-client-default";

/// What progenitor's builder says about one operation: the Rust types it
/// chose for the body, the parameters and the success answer.
#[derive(Default)]
struct BuilderTypes {
    body: Option<syn::Type>,
    /// The parameters whose Rust type is not a string, with that type.
    non_string: BTreeMap<String, syn::Type>,
    output: Option<syn::Type>,
    /// Whether the builder borrows anything (a string parameter or a body),
    /// and so has a lifetime.
    borrows: bool,
}

/// Reads every operation of the spec.
pub fn operations(spec: &OpenAPI) -> Result<Vec<OperationInfo>, String> {
    let mut out = Vec::new();
    for (path, item) in spec.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            return Err(format!("{path}: path item references are not supported"));
        };
        for (method, operation) in item.iter() {
            out.push(operation_info(
                spec,
                path,
                method,
                operation,
                &item.parameters,
            )?);
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    for pair in out.windows(2) {
        if pair[0].method_ident == pair[1].method_ident {
            return Err(format!(
                "operationIds {} and {} give the same method name {}",
                pair[0].id, pair[1].id, pair[0].method_ident
            ));
        }
    }
    Ok(out)
}

fn operation_info(
    spec: &OpenAPI,
    path: &str,
    method: &str,
    operation: &Operation,
    shared: &[ReferenceOr<Parameter>],
) -> Result<OperationInfo, String> {
    let id = operation
        .operation_id
        .clone()
        .ok_or_else(|| format!("{method} {path}: no operationId"))?;
    let mut params: Vec<ParamInfo> = Vec::new();
    // An operation's own parameter overrides a path-level one of the same
    // name and place, as OpenAPI says.
    let own: Vec<&Parameter> = operation
        .parameters
        .iter()
        .map(|p| resolve_parameter(spec, p))
        .collect::<Result<_, _>>()?;
    let mut all: Vec<&Parameter> = Vec::new();
    for parameter in shared {
        let parameter = resolve_parameter(spec, parameter)?;
        let data = parameter.parameter_data_ref();
        let overridden = own.iter().any(|o| {
            o.parameter_data_ref().name == data.name
                && std::mem::discriminant(*o) == std::mem::discriminant(parameter)
        });
        if !overridden {
            all.push(parameter);
        }
    }
    all.extend(own);
    for parameter in all {
        let data = parameter.parameter_data_ref();
        let in_path = matches!(parameter, Parameter::Path { .. });
        if !in_path && !matches!(parameter, Parameter::Query { .. }) {
            return Err(format!(
                "{id}: parameter {} is a header or cookie parameter; only path and query parameters are supported",
                data.name
            ));
        }
        let shape = match &data.format {
            openapiv3::ParameterSchemaOrContent::Schema(schema) => rules::shape_of(spec, schema)
                .map_err(|e| format!("{id}: parameter {}: {e}", data.name))?,
            openapiv3::ParameterSchemaOrContent::Content(_) => {
                return Err(format!(
                    "{id}: parameter {} uses `content`, which is not supported; give it a `schema`",
                    data.name
                ));
            }
        };
        if matches!(shape, rules::Shape::Object(_) | rules::Shape::Array { .. }) {
            return Err(format!(
                "{id}: parameter {} is an object or array, which is not supported",
                data.name
            ));
        }
        let ident = snake(&data.name);
        if BUILDER_NAMES.contains(&ident.as_str()) {
            return Err(format!(
                "{id}: parameter {} would be the builder's `{ident}`, which the builders use for themselves; rename it",
                data.name
            ));
        }
        let client_default = client_default_of(&id, parameter, &shape)?;
        params.push(ParamInfo {
            name: data.name.clone(),
            ident,
            in_path,
            required: data.required,
            description: data.description.clone().unwrap_or_default(),
            shape,
            client_default,
        });
    }
    let mut body_properties = Vec::new();
    let body = match &operation.request_body {
        None => None,
        Some(ReferenceOr::Reference { .. }) => {
            return Err(format!(
                "{id}: a request body given as a $ref to components.requestBodies is not supported; write it inline"
            ));
        }
        Some(ReferenceOr::Item(body)) => {
            let media = body.content.get("application/json").ok_or_else(|| {
                format!(
                    "{id}: the request body is not application/json, the only media type supported"
                )
            })?;
            let schema = media
                .schema
                .as_ref()
                .ok_or_else(|| format!("{id}: the request body has no schema"))?;
            body_properties = properties_of(spec, schema);
            Some(BodyInfo {
                required: body.required,
                example: media.example.clone(),
            })
        }
    };
    let resend = resend_of(&id, method, operation, &body_properties)?;
    let mut successes = operation
        .responses
        .responses
        .iter()
        .filter_map(|(code, response)| match code {
            StatusCode::Code(code) if (200..300).contains(code) => Some((*code, response)),
            _ => None,
        });
    let (success, response) = successes
        .next()
        .ok_or_else(|| format!("{id}: no success response"))?;
    if successes.next().is_some() {
        return Err(format!(
            "{id}: more than one success response, which is not supported"
        ));
    }
    if let ReferenceOr::Item(response) = response
        && response
            .content
            .keys()
            .any(|media| media != "application/json")
    {
        return Err(format!(
            "{id}: the success response is not application/json, the only media type supported"
        ));
    }
    let list = list_of(spec, &id, operation, &params, response)?;
    if list.is_some() && body.is_some() {
        return Err(format!(
            "{id}: x-list on an operation with a request body is not supported"
        ));
    }
    Ok(OperationInfo {
        method_ident: snake(&id),
        builder_ident: pascal(&id),
        list,
        id,
        method: method.to_ascii_uppercase(),
        path: path.to_string(),
        params,
        success,
        body,
        resend,
    })
}

fn resolve_parameter<'a>(
    spec: &'a OpenAPI,
    parameter: &'a ReferenceOr<Parameter>,
) -> Result<&'a Parameter, String> {
    match parameter {
        ReferenceOr::Item(parameter) => Ok(parameter),
        ReferenceOr::Reference { reference } => {
            let name = reference
                .strip_prefix("#/components/parameters/")
                .ok_or_else(|| format!("unsupported reference {reference}"))?;
            match spec
                .components
                .as_ref()
                .and_then(|c| c.parameters.get(name))
            {
                Some(ReferenceOr::Item(parameter)) => Ok(parameter),
                _ => Err(format!("no component parameter named {name}")),
            }
        }
    }
}

/// The identifier progenitor gives a name in snake case (methods,
/// parameters): `getXMLData` → `get_xml_data`, `list-widgets` →
/// `list_widgets`. It is progenitor's own rule, on heck, so the two agree.
pub fn snake(name: &str) -> String {
    sanitize(name, heck::ToSnakeCase::to_snake_case)
}

/// The identifier progenitor gives a name in Pascal case (builders).
pub fn pascal(name: &str) -> String {
    sanitize(name, heck::ToPascalCase::to_pascal_case)
}

/// progenitor's `sanitize`: drop apostrophes, turn anything that cannot be
/// in an identifier into `-`, change case, and make the result a valid
/// identifier.
fn sanitize(name: &str, case: fn(&str) -> String) -> String {
    let cleaned: String = name
        .replace('\'', "")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let out = case(&cleaned);
    let out = match out.chars().next() {
        None => case("x"),
        Some(c) if c.is_alphabetic() || c == '_' => out,
        Some(_) => format!("_{out}"),
    };
    if syn::parse_str::<syn::Ident>(&out).is_ok() {
        out
    } else {
        format!("{out}_")
    }
}

/// Rewrites paths in progenitor's builders: they use the SDK's client and
/// take finished bodies instead of typify's struct builders.
struct RetargetPaths;

impl VisitMut for RetargetPaths {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if names.len() >= 3 && names[0] == "types" && names[1] == "builder" {
            let rest: Vec<_> = path.segments.iter().skip(2).cloned().collect();
            path.segments = std::iter::once(path.segments[0].clone())
                .chain(rest)
                .collect();
        } else if names == ["super", "Client"] {
            *path = parse_quote!(crate::Client);
        }
        syn::visit_mut::visit_path_mut(self, path);
    }

    fn visit_attribute_mut(&mut self, attr: &mut Attribute) {
        if let syn::Meta::NameValue(nv) = &mut attr.meta
            && nv.path.is_ident("doc")
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            && s.value().contains("super::Client")
        {
            let text = s.value().replace("super::Client", "crate::Client");
            nv.value = parse_quote!(#text);
        }
    }
}

/// The generated `builder` module (progenitor's, with `send` replaced) and
/// the `impl Client` block that opens each builder.
pub fn rewrite(
    spec: &OpenAPI,
    items: Vec<Item>,
    checks: &mut Checks,
) -> Result<(Vec<Item>, Vec<Item>), String> {
    let ops = operations(spec)?;
    let mut builder_items = None;
    let mut client_blocks = Vec::new();
    for item in items {
        match item {
            Item::Mod(module) if module.ident == "builder" => {
                let (_, content) = module.content.ok_or("empty builder module")?;
                builder_items = Some(content);
            }
            Item::Impl(block) if is_inherent_client_impl(&block) && has_operation_fns(&block) => {
                client_blocks.push(block);
            }
            _ => {}
        }
    }
    let mut builder_items = builder_items.ok_or("progenitor emitted no builder module")?;
    // Imports of progenitor's runtime are not needed any more.
    builder_items.retain(|item| match item {
        Item::Use(use_item) => quote!(#use_item).to_string().contains("types"),
        _ => true,
    });
    let mut found: BTreeMap<String, BuilderTypes> = BTreeMap::new();
    let mut extra = Vec::new();
    for item in builder_items.iter_mut() {
        RetargetPaths.visit_item_mut(item);
        if let Item::Struct(builder) = item
            && let Some(op) = ops.iter().find(|op| builder.ident == op.builder_ident)
        {
            let (types, items) = rewrite_builder_struct(builder, op)?;
            found.insert(op.builder_ident.clone(), types);
            extra.extend(items);
        }
    }
    for item in builder_items.iter_mut() {
        if let Item::Impl(block) = item {
            replace_send(block, &ops, &mut found, checks)?;
        }
    }
    builder_items.extend(extra);
    let mut client_items = Vec::new();
    for block in client_blocks {
        client_items.push(Item::Impl(rewrite_client_impl(block, &ops, &found)?));
    }
    client_items.extend(client_default_setters(&ops));
    for op in &ops {
        if !found.contains_key(&op.builder_ident) {
            return Err(format!(
                "{}: progenitor emitted no builder named {}",
                op.id, op.builder_ident
            ));
        }
    }
    Ok((builder_items, client_items))
}

fn is_inherent_client_impl(block: &ItemImpl) -> bool {
    block.trait_.is_none() && quote!(#block).to_string().starts_with("impl Client")
}

fn has_operation_fns(block: &ItemImpl) -> bool {
    block.items.iter().any(|item| matches!(item, ImplItem::Fn(f) if f.sig.ident != "new" && f.sig.ident != "new_with_client"))
}

/// The identifier a type path ends with (`types::Foo` → `Foo`).
fn last_ident(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The `T` of `Name<T>`, where `Name` is the last segment of `ty`.
pub(crate) fn generic_arg<'a>(ty: &'a syn::Type, name: &str) -> Option<&'a syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

fn is_unit(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Tuple(tuple) if tuple.elems.is_empty())
}

fn rewrite_client_impl(
    mut block: ItemImpl,
    ops: &[OperationInfo],
    found: &BTreeMap<String, BuilderTypes>,
) -> Result<ItemImpl, String> {
    block.self_ty = parse_quote!(crate::Client);
    for item in block.items.iter_mut() {
        let ImplItem::Fn(function) = item else {
            continue;
        };
        let name = function.sig.ident.to_string();
        let op = ops
            .iter()
            .find(|op| op.method_ident == name)
            .ok_or_else(|| format!("no operation for client method {name}"))?;
        let types = found
            .get(&op.builder_ident)
            .ok_or_else(|| format!("{}: no builder", op.id))?;
        let builder = format_ident!("{}", op.builder_ident);
        // The builder holds a clone of the client (one reference count), not
        // a borrow: with owned arguments its `send()` future is `'static`
        // and can be spawned; `'a` is only what the arguments borrow.
        if types.borrows {
            function.sig.generics = parse_quote!(<'a>);
            function.sig.output = parse_quote!(-> super::builder::#builder<'a>);
        } else {
            function.sig.generics = parse_quote!();
            function.sig.output = parse_quote!(-> super::builder::#builder);
        }
        function.block =
            parse_quote!({ super::builder::#builder::new(::std::clone::Clone::clone(self)) });
        function.attrs = rewrite_docs(&function.attrs, op, types)?;
    }
    Ok(block)
}

/// Keeps progenitor's prose but swaps its `ignore` example for one that
/// compiles: it sends the spec's own request example when there is one, and
/// a body the caller holds when there is none.
fn rewrite_docs(
    attrs: &[Attribute],
    op: &OperationInfo,
    types: &BuilderTypes,
) -> Result<Vec<Attribute>, String> {
    let mut text = String::new();
    for attr in attrs {
        if let syn::Meta::NameValue(nv) = &attr.meta
            && nv.path.is_ident("doc")
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            text.push_str(&s.value());
            text.push('\n');
        }
    }
    let prose = text
        .split("```ignore")
        .next()
        .unwrap_or("")
        .trim_end()
        .to_string();
    let mut setters = String::new();
    for param in &op.params {
        if param.required {
            let value = if types.non_string.contains_key(&param.ident) {
                "1".to_string()
            } else {
                format!("\"{}\"", placeholder(&param.name))
            };
            setters.push_str(&format!("    .{}({value})\n", param.ident));
        }
    }
    let body_ty = types.body.as_ref().and_then(last_ident);
    let mut signature = "client: &webex_calling::Client".to_string();
    let (intro, parse, body_setter) = match (&op.body, &body_ty) {
        (Some(body), Some(schema)) => match &body.example {
            Some(example) => {
                let example = serde_json::to_string_pretty(example).map_err(|e| e.to_string())?;
                (
                    "Sends the spec's example body.",
                    format!(
                        "let body = webex_calling::parse_body::<webex_calling::types::{schema}>(r#\"\n{example}\n\"#)?;\n"
                    ),
                    "    .body(body)\n",
                )
            }
            None => {
                signature.push_str(&format!(", body: &webex_calling::types::{schema}"));
                (
                    "Sends a body the caller has built.",
                    String::new(),
                    "    .body(body)\n",
                )
            }
        },
        _ => ("Sends the request.", String::new(), ""),
    };
    let returns_value = types.output.as_ref().is_some_and(|ty| !is_unit(ty));
    let (binding, use_line) = if returns_value {
        ("let response = ", "println!(\"{response:?}\");\n")
    } else {
        ("", "")
    };
    let doc = format!(
        "{prose}\n\n# Example\n\n{intro}\n\n```no_run\n\
         # async fn example({signature}) -> Result<(), webex_calling::Error> {{\n\
         {parse}{binding}client\n    .{method}()\n{setters}{body_setter}    .send()\n    .await?;\n{use_line}\
         # Ok(())\n# }}\n```",
        method = op.method_ident,
    );
    Ok(vec![parse_quote!(#[doc = #doc])])
}

fn placeholder(name: &str) -> String {
    format!("{}-from-webex", snake(name).replace('_', "-"))
}

fn replace_send(
    block: &mut ItemImpl,
    ops: &[OperationInfo],
    found: &mut BTreeMap<String, BuilderTypes>,
    checks: &mut Checks,
) -> Result<(), String> {
    if block.trait_.is_some() {
        return Ok(());
    }
    // Builders are matched to operations by their exact name: with
    // `updateHuntGroup` and `updateHuntGroupAgents` both in the spec, a
    // prefix would match the wrong one.
    let Some(name) = last_ident(&block.self_ty) else {
        return Ok(());
    };
    let Some(op) = ops.iter().find(|op| name == op.builder_ident) else {
        return Ok(());
    };
    let types = found
        .get_mut(&op.builder_ident)
        .ok_or_else(|| format!("{}: the builder's struct was not seen", op.id))?;
    // progenitor's `send` returns `Result<ResponseValue<T>, Error<E>>`; `T`
    // is the success body's type, whatever name progenitor gave it.
    for item in &block.items {
        if let ImplItem::Fn(function) = item
            && function.sig.ident == "send"
        {
            let syn::ReturnType::Type(_, ty) = &function.sig.output else {
                return Err(format!("{}: progenitor's send returns nothing", op.id));
            };
            let output = generic_arg(ty, "Result")
                .and_then(|ok| generic_arg(ok, "ResponseValue"))
                .ok_or_else(|| {
                    format!(
                        "{}: the success response is not JSON or empty, which is not supported",
                        op.id
                    )
                })?;
            types.output = Some(output.clone());
        }
    }
    let types = &*types;
    // progenitor's methods are replaced as a whole: the builder holds
    // `Option`s (a setter cannot fail, so there is no error to keep), owns
    // a clone of the client, and has no `body_map`.
    let builder = format_ident!("{}", op.builder_ident);
    let lifetime = types.borrows.then(|| quote!(<'a>));
    let mut methods = vec![new_fn(op)];
    for param in &op.params {
        methods.push(param_fn(param, types));
    }
    if op.body.is_some() {
        methods.push(body_fn(types)?);
    }
    methods.push(call_option_fns());
    methods.push(send_fn(op, types, checks)?);
    if let Some(list) = &op.list {
        methods.push(stream_fn(op, list, types)?);
    }
    *block = parse_quote! {
        impl #lifetime #builder #lifetime {
            #(#methods)*
        }
    };
    Ok(())
}

/// The builder's fields: the client, each parameter, the body. A string
/// parameter and the body are `Cow`s: one update sent to many groups is
/// borrowed by every call instead of copied into each, and an ID the caller
/// already holds is not copied either; owned values move in, and then the
/// builder borrows nothing.
fn rewrite_builder_struct(
    builder: &mut syn::ItemStruct,
    op: &OperationInfo,
) -> Result<(BuilderTypes, Vec<Item>), String> {
    let syn::Fields::Named(fields) = &builder.fields else {
        return Err(format!("{}: expected named fields", builder.ident));
    };
    let mut types = BuilderTypes::default();
    let mut extra = Vec::new();
    let mut new_fields: Vec<TokenStream> = vec![quote!(client: crate::Client)];
    for param in &op.params {
        let field = fields
            .named
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| *i == param.ident))
            .ok_or_else(|| format!("{}: no field for {}", builder.ident, param.name))?;
        let inner = generic_arg(&field.ty, "Result")
            .map(|ty| generic_arg(ty, "Option").unwrap_or(ty))
            .ok_or_else(|| format!("{}: unexpected type of {}", builder.ident, param.name))?;
        let ident = format_ident!("{}", param.ident);
        if last_ident(inner).as_deref() == Some("String") {
            types.borrows = true;
            new_fields.push(quote!(#ident: ::std::option::Option<::std::borrow::Cow<'a, str>>));
        } else {
            new_fields.push(quote!(#ident: ::std::option::Option<#inner>));
            types.non_string.insert(param.ident.clone(), inner.clone());
        }
    }
    if op.body.is_some() {
        let body = fields
            .named
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| i == "body"))
            .ok_or_else(|| format!("{}: no body field", builder.ident))?;
        let schema = generic_arg(&body.ty, "Result")
            .cloned()
            .ok_or_else(|| format!("{}: unexpected body field type", builder.ident))?;
        types.borrows = true;
        new_fields.push(quote!(body: ::std::option::Option<::std::borrow::Cow<'a, #schema>>));
        extra.push(parse_quote! {
            impl<'a> ::std::convert::From<#schema> for ::std::borrow::Cow<'a, #schema> {
                fn from(value: #schema) -> Self {
                    ::std::borrow::Cow::Owned(value)
                }
            }
        });
        extra.push(parse_quote! {
            impl<'a> ::std::convert::From<&'a #schema> for ::std::borrow::Cow<'a, #schema> {
                fn from(value: &'a #schema) -> Self {
                    ::std::borrow::Cow::Borrowed(value)
                }
            }
        });
        types.body = Some(schema);
    }
    new_fields.push(call_options_field());
    let attrs = &builder.attrs;
    let ident = &builder.ident;
    let lifetime = types.borrows.then(|| quote!(<'a>));
    *builder = parse_quote! {
        #(#attrs)*
        pub struct #ident #lifetime {
            #(#new_fields,)*
        }
    };
    Ok((types, extra))
}

/// Opens a builder with nothing set; only the client's operation methods
/// call it.
fn new_fn(op: &OperationInfo) -> TokenStream {
    let params = op.params.iter().map(|p| format_ident!("{}", p.ident));
    let body = op
        .body
        .as_ref()
        .map(|_| quote!(body: ::std::option::Option::None,));
    quote! {
        pub(crate) fn new(client: crate::Client) -> Self {
            Self {
                client,
                #(#params: ::std::option::Option::None,)*
                #body
                options: ::std::default::Default::default(),
            }
        }
    }
}

fn param_doc(param: &ParamInfo) -> String {
    let need = if param.required {
        "Required"
    } else {
        "Optional"
    };
    let mut doc = format!("Sets `{}`. {need}. {}", param.name, param.description);
    if let Some(name) = &param.client_default {
        doc.push_str(&format!(
            " When not set, the call sends the client's own, if its builder set one with \
             [`crate::ClientBuilder::{}`].",
            snake(name)
        ));
    }
    doc
}

/// The builder's field of per-call settings: the runtime's `CallOptions`,
/// which the setters of [`call_option_fns`] fill.
fn call_options_field() -> TokenStream {
    quote!(options: crate::runtime::CallOptions)
}

/// The per-call settings every builder has: a retry policy, a time budget
/// and a per-attempt timeout in place of the client's. The call still goes
/// through the client's connection pool, rate limiter and cap on requests
/// in flight; the runtime checks the values when the call is sent.
fn call_option_fns() -> TokenStream {
    quote! {
        /// This call's retry policy in place of the client's (see
        /// [`crate::RetryPolicy`]). The call still shares the client's
        /// rate limiter, connection pool and cap on requests in flight.
        #[must_use]
        pub fn retry(mut self, policy: crate::RetryPolicy) -> Self {
            self.options.set_retry(policy);
            self
        }
        /// This call's time budget, its retries and waits included, in place
        /// of its retry policy's (see [`crate::RetryPolicy::budget`]). Zero
        /// is refused when the call is sent, and nothing is sent.
        #[must_use]
        pub fn budget(mut self, budget: ::std::time::Duration) -> Self {
            self.options.set_budget(budget);
            self
        }
        /// How long each attempt of this call may take, in place of the
        /// client's (see [`crate::ClientBuilder::timeout`]). Zero is
        /// refused when the call is sent, and nothing is sent.
        #[must_use]
        pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.options.set_timeout(timeout);
            self
        }
    }
}

/// One `ClientBuilder` setter per name the spec gives in an
/// `x-client-default`: the value every call sends for the parameters that
/// carry that name, unless the call sets its own.
pub fn client_default_setters(ops: &[OperationInfo]) -> Option<Item> {
    let mut seen: BTreeMap<&str, &ParamInfo> = BTreeMap::new();
    for op in ops {
        for param in &op.params {
            if let Some(name) = &param.client_default {
                seen.entry(name.as_str()).or_insert(param);
            }
        }
    }
    if seen.is_empty() {
        return None;
    }
    let setters = seen.iter().map(|(name, param)| {
        let ident = format_ident!("{}", snake(name));
        let doc = format!(
            "Sets `{}` for every call that takes it and does not set its own. {}",
            param.name, param.description
        );
        quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #ident(self, value: impl ::std::convert::Into<::std::string::String>) -> Self {
                self.default_parameter(#name, value.into())
            }
        }
    });
    Some(parse_quote! {
        impl crate::ClientBuilder {
            #(#setters)*
        }
    })
}

/// A parameter setter. A string keeps what it is given: a borrowed ID is
/// not copied, an owned one is moved.
fn param_fn(param: &ParamInfo, types: &BuilderTypes) -> TokenStream {
    let ident = format_ident!("{}", param.ident);
    let doc = param_doc(param);
    let value_ty = match types.non_string.get(&param.ident) {
        Some(ty) => quote!(#ty),
        None => quote!(::std::borrow::Cow<'a, str>),
    };
    quote! {
        #[doc = #doc]
        #[must_use]
        pub fn #ident(mut self, value: impl ::std::convert::Into<#value_ty>) -> Self {
            self.#ident = ::std::option::Option::Some(value.into());
            self
        }
    }
}

fn body_type(types: &BuilderTypes) -> Result<&syn::Type, String> {
    types
        .body
        .as_ref()
        .ok_or_else(|| "a body setter on a builder without a body".to_string())
}

fn body_fn(types: &BuilderTypes) -> Result<TokenStream, String> {
    let schema = body_type(types)?;
    let name = last_ident(schema).unwrap_or_default();
    let doc = format!(
        "Sets the request body: a [`types::{name}`], or a reference to one, which sends \
         the same body many times without copying it. Only the fields set in it are sent."
    );
    Ok(quote! {
        #[doc = #doc]
        #[must_use]
        pub fn body<V>(mut self, value: V) -> Self
        where
            V: ::std::convert::Into<::std::borrow::Cow<'a, #schema>>,
        {
            self.body = ::std::option::Option::Some(value.into());
            self
        }
    })
}

/// The `crate::runtime::Operation` the generated `send` hands to the
/// runtime: every fact about the operation the runtime needs, in one place.
fn operation_literal(op: &OperationInfo) -> TokenStream {
    let id = &op.id;
    let method = format_ident!("{}", op.method);
    let success = op.success;
    let resend = match &op.resend.unless_body_sets {
        None => quote!(crate::runtime::Resend::Always),
        Some(names) if names.is_empty() => quote!(crate::runtime::Resend::Never),
        Some(names) => quote!(crate::runtime::Resend::UnlessBodySets(&[#(#names),*])),
    };
    let check = &op.resend.check;
    quote! {
        crate::runtime::Operation {
            id: #id,
            method: ::reqwest::Method::#method,
            success: #success,
            resend: #resend,
            if_unknown: #check,
        }
    }
}

/// `send` and `send_with_meta`: check every rule, then hand the request to
/// the runtime, then decode the success body.
fn send_fn(
    op: &OperationInfo,
    types: &BuilderTypes,
    checks: &mut Checks,
) -> Result<TokenStream, String> {
    let idents: Vec<_> = op
        .params
        .iter()
        .map(|p| format_ident!("{}", p.ident))
        .collect();
    let mut take = Vec::new();
    // A parameter with a client-wide default takes it when the call did
    // not set its own; the default is then checked like any value.
    for (param, ident) in op.params.iter().zip(&idents) {
        if let Some(name) = &param.client_default {
            take.push(quote! {
                let #ident = #ident.or_else(|| {
                    client
                        .default_parameter(#name)
                        .map(|value| ::std::borrow::Cow::Owned(::std::borrow::ToOwned::to_owned(value)))
                });
            });
        }
    }
    // Values that must be there: unwrapped together once every rule has
    // been checked, so that one error names every missing field.
    let mut required = Vec::new();
    for (param, ident) in op.params.iter().zip(&idents) {
        let name = &param.name;
        let mut check = checks.check(&param.shape, &quote!(value));
        if param.in_path && !types.non_string.contains_key(&param.ident) {
            // A path parameter must stay one segment: `.` and `..` would be
            // resolved away by any URL parser, even percent-encoded.
            check = quote!(#check out.path_segment(&at, value););
        }
        if param.required {
            take.push(quote! {
                let #ident = out.require(&root.field(#name), #ident);
            });
            required.push(ident.clone());
        }
        if !check.is_empty() {
            take.push(quote! {
                if let ::std::option::Option::Some(value) = &#ident {
                    let at = root.field(#name);
                    #check
                }
            });
        }
    }
    let body_ident = format_ident!("body");
    let (body_take, body_arg) = match &op.body {
        Some(body) => {
            let require = if body.required {
                required.push(body_ident.clone());
                quote!(let body = out.require(&root.field("body"), body);)
            } else {
                quote!()
            };
            let arg = if body.required {
                quote!(::std::option::Option::Some(&*body))
            } else {
                quote!(body.as_deref())
            };
            (
                quote! {
                    #require
                    if let ::std::option::Option::Some(body) = &body {
                        crate::validate::Rules::check(&**body, &root, out);
                    }
                },
                arg,
            )
        }
        None => (quote!(), quote!(::std::option::Option::None::<&()>)),
    };
    let unwrap = if required.is_empty() {
        quote!()
    } else {
        let patterns = required
            .iter()
            .map(|ident| quote!(::std::option::Option::Some(#ident)));
        quote! {
            let (#(#patterns,)*) = (#(#required,)*) else {
                return ::std::result::Result::Err(violations.into_error());
            };
        }
    };
    // Numbers and enums go into the URL as text.
    let mut to_text = Vec::new();
    for (param, ident) in op.params.iter().zip(&idents) {
        if !types.non_string.contains_key(&param.ident) {
            continue;
        }
        if param.required {
            to_text.push(quote!(let #ident = ::std::string::ToString::to_string(&#ident);));
        } else {
            to_text.push(
                quote!(let #ident = #ident.map(|value| ::std::string::ToString::to_string(&value));),
            );
        }
    }
    // The URL, written into one buffer: literal pieces as they are, each
    // path parameter as one percent-encoded segment.
    let mut pieces = Vec::new();
    let mut literal_len = 0usize;
    let mut rest = op.path.as_str();
    while let Some(start) = rest.find('{') {
        let literal = &rest[..start];
        literal_len += literal.len();
        pieces.push(quote!(url.push_str(#literal);));
        let end = rest[start..].find('}').ok_or("unclosed path parameter")? + start;
        let ident = format_ident!("{}", snake(&rest[start + 1..end]));
        pieces.push(quote!(crate::runtime::push_segment(&mut url, &#ident);));
        rest = &rest[end + 1..];
    }
    if !rest.is_empty() {
        literal_len += rest.len();
        pieces.push(quote!(url.push_str(#rest);));
    }
    let path_params: Vec<_> = op
        .params
        .iter()
        .zip(&idents)
        .filter(|(p, _)| p.in_path)
        .map(|(_, ident)| quote!(#ident.len()))
        .collect();
    let query = op
        .params
        .iter()
        .zip(&idents)
        .filter(|(p, _)| !p.in_path)
        .map(|(p, ident)| {
            let name = &p.name;
            if p.required {
                quote!((#name, ::std::option::Option::Some(&*#ident)))
            } else {
                quote!((#name, #ident.as_deref()))
            }
        });
    let success = op.success;
    let output = types
        .output
        .clone()
        .ok_or_else(|| format!("{}: progenitor emitted no send", op.id))?;
    let decode = if is_unit(&output) {
        quote!(::std::result::Result::Ok(response.with_value(())))
    } else {
        quote!(response.json_with_meta())
    };
    let operation = operation_literal(op);
    let errors = "# Errors\n\n\
         [`crate::Error::InvalidInput`] when a parameter or the body breaks a rule of the \
         spec or a required one is not set (nothing is sent), otherwise whatever the call \
         ends with: see [`crate::Error`].";
    let send_doc = format!(
        "Checks every rule of the spec, then sends the request.\n\n{errors}\n\n\
         On success the service answers `{success}`. [`Self::send_with_meta`] also tells \
         the call's tracking ID and attempts."
    );
    let meta_doc = format!(
        "Like [`Self::send`], and the answer comes with what support asks about a \
         call: its tracking ID, the status and how many attempts it took (see \
         [`crate::Response`]).\n\n{errors}"
    );
    let body_field = op.body.as_ref().map(|_| quote!(body,));
    // An operation with neither parameters nor a body has nothing to check.
    let checks = if op.params.is_empty() && op.body.is_none() {
        quote!()
    } else {
        quote! {
            let root = crate::validate::Path::Root;
            let mut violations = crate::validate::Violations::default();
            let out = &mut violations;
            #(#take)*
            #body_take
            #unwrap
            violations.into_result()?;
        }
    };
    Ok(quote! {
        #[doc = #send_doc]
        pub async fn send(self) -> ::std::result::Result<#output, crate::Error> {
            self.send_with_meta().await.map(crate::Response::into_value)
        }

        #[doc = #meta_doc]
        pub async fn send_with_meta(self) -> ::std::result::Result<crate::Response<#output>, crate::Error> {
            let Self { client, #(#idents,)* #body_field options } = self;
            #checks
            #(#to_text)*
            let mut url = client.url_buffer(#literal_len #(+ #path_params)*);
            #(#pieces)*
            crate::runtime::push_query(&mut url, &[#(#query),*]);
            let operation = #operation;
            let response = client.execute(&operation, url, #body_arg, &options).await?;
            #decode
        }
    })
}

/// `stream()` on a list operation's builder: every item of every page, as
/// a `crate::Items` stream that owns its arguments. Each page is the same
/// builder with `start` and `max` set, and the same per-call settings, sent
/// with `send_with_meta`.
fn stream_fn(
    op: &OperationInfo,
    list: &ListInfo,
    types: &BuilderTypes,
) -> Result<TokenStream, String> {
    let builder = format_ident!("{}", op.builder_ident);
    let item = format_ident!("{}", list.item_type);
    let items = format_ident!("{}", snake(&list.items));
    let max = format_ident!("{}", snake(&list.max));
    let start = format_ident!("{}", snake(&list.start));
    for name in [&max, &start] {
        let ty = types
            .non_string
            .get(&name.to_string())
            .ok_or_else(|| format!("{}: x-list parameter {name} has no Rust type", op.id))?;
        if quote!(#ty).to_string() != "i64" {
            return Err(format!(
                "{}: x-list parameter {name} must be an `integer` of format `int64`",
                op.id
            ));
        }
    }
    let idents: Vec<_> = op
        .params
        .iter()
        .map(|p| format_ident!("{}", p.ident))
        .collect();
    // The arguments the caller borrowed are copied once, so the stream
    // borrows nothing and can be spawned.
    let owned = op
        .params
        .iter()
        .filter(|p| !types.non_string.contains_key(&p.ident))
        .map(|p| {
            let ident = format_ident!("{}", p.ident);
            quote!(let #ident = crate::paging::owned(#ident);)
        });
    let fields = op.params.iter().map(|p| {
        let ident = format_ident!("{}", p.ident);
        if ident == max {
            quote!(#ident: ::std::option::Option::Some(cursor.max))
        } else if ident == start {
            quote!(#ident: ::std::option::Option::Some(cursor.start))
        } else {
            quote!(#ident: ::std::clone::Clone::clone(&#ident))
        }
    });
    let linked = list.link;
    let next = if linked {
        "the page the answer's `Link` header names with `rel=\"next\"`, until an answer names none"
    } else {
        "the one after the items read so far, until a page comes back with fewer items than it asked for"
    };
    let doc = format!(
        "Every item of the list, page after page, as a [`Stream`](futures_core::Stream) \
         of [`types::{item}`] (see [`crate::Items`]).\n\n\
         Each page is one call of this operation, checked, paced by the rate limiter and \
         retried like any other, with this builder's `retry`, `budget` and `timeout`, if set, \
         for each page, `{max_name}` as the page size (100 when it is not set) and \
         `{start_name}` as the first page's offset (0 when it is not set). The next page is \
         {next}. Pages are fetched only as the stream is read: stopping early sends nothing \
         more. The stream owns its arguments, so it can be moved into a spawned task.",
        max_name = list.max,
        start_name = list.start,
    );
    Ok(quote! {
        #[doc = #doc]
        pub fn stream(self) -> crate::Items<types::#item> {
            let Self { client, #(#idents,)* options } = self;
            #(#owned)*
            crate::paging::Items::new(#max, #start, #linked, move |cursor: crate::paging::Cursor| {
                let page = #builder {
                    client: ::std::clone::Clone::clone(&client),
                    #(#fields,)*
                    options: ::std::clone::Clone::clone(&options),
                };
                async move {
                    let response = page.send_with_meta().await?;
                    ::std::result::Result::Ok(crate::paging::Page::new(response, |value| value.#items))
                }
            })
        }
    })
}
