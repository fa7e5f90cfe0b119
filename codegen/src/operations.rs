//! Passes over progenitor's client: the operation builders stay, the
//! transport is replaced by the SDK's runtime.

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
    pub success_schema: Option<String>,
    pub request_schema: String,
    pub request_example: Option<serde_json::Value>,
    pub resend: Resend,
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

/// Reads `x-idempotent`: `true`, `false`, or
/// `{unless-body-sets: [property, ...], check: text}`. Without it, the
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
            "{id}: x-idempotent must be true, false or {{unless-body-sets: [property, ...], check: text}}"
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
            let names = fields
                .get("unless-body-sets")
                .and_then(serde_json::Value::as_array)
                .ok_or_else(bad)?
                .iter()
                .map(|name| name.as_str().map(str::to_string).ok_or_else(bad))
                .collect::<Result<Vec<_>, _>>()?;
            if names.is_empty() {
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

/// The top-level property names of a component schema.
fn properties_of(spec: &OpenAPI, schema: &str) -> Vec<String> {
    let Some(ReferenceOr::Item(schema)) = spec
        .components
        .as_ref()
        .and_then(|components| components.schemas.get(schema))
    else {
        return Vec::new();
    };
    match &schema.schema_kind {
        openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) => {
            object.properties.keys().cloned().collect()
        }
        _ => Vec::new(),
    }
}

/// A path or query parameter.
pub struct ParamInfo {
    pub name: String,
    pub ident: String,
    pub in_path: bool,
    pub required: bool,
    pub description: String,
    pub shape: rules::Shape,
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
    let mut params = Vec::new();
    for parameter in shared.iter().chain(&operation.parameters) {
        let parameter = resolve_parameter(spec, parameter)?;
        let data = parameter.parameter_data_ref();
        let in_path = matches!(parameter, Parameter::Path { .. });
        if !in_path && !matches!(parameter, Parameter::Query { .. }) {
            return Err(format!(
                "{id}: only path and query parameters are supported"
            ));
        }
        let shape = match &data.format {
            openapiv3::ParameterSchemaOrContent::Schema(schema) => rules::shape_of(spec, schema)?,
            openapiv3::ParameterSchemaOrContent::Content(_) => {
                return Err(format!("{id}: parameter {} uses content", data.name));
            }
        };
        params.push(ParamInfo {
            name: data.name.clone(),
            ident: snake(&data.name),
            in_path,
            required: data.required,
            description: data.description.clone().unwrap_or_default(),
            shape,
        });
    }
    let body = match &operation.request_body {
        Some(ReferenceOr::Item(body)) => body,
        _ => return Err(format!("{id}: expected an inline request body")),
    };
    let media = body
        .content
        .get("application/json")
        .ok_or_else(|| format!("{id}: the request body is not application/json"))?;
    let request_schema = match &media.schema {
        Some(ReferenceOr::Reference { reference }) => rules::component_name(reference)?.to_string(),
        _ => {
            return Err(format!(
                "{id}: the request body must reference a component schema"
            ));
        }
    };
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
        return Err(format!("{id}: more than one success response"));
    }
    let response = match response {
        ReferenceOr::Item(response) => response,
        ReferenceOr::Reference { .. } => {
            return Err(format!("{id}: the success response must be inline"));
        }
    };
    let success_schema = match response
        .content
        .get("application/json")
        .and_then(|m| m.schema.as_ref())
    {
        Some(ReferenceOr::Reference { reference }) => {
            Some(rules::component_name(reference)?.to_string())
        }
        Some(ReferenceOr::Item(_)) => {
            return Err(format!(
                "{id}: the success body must reference a component schema"
            ));
        }
        None => None,
    };
    let resend = resend_of(
        &id,
        method,
        operation,
        &properties_of(spec, &request_schema),
    )?;
    Ok(OperationInfo {
        resend,
        method_ident: snake(&id),
        builder_ident: upper_camel(&id),
        id,
        method: method.to_ascii_uppercase(),
        path: path.to_string(),
        params,
        success,
        success_schema,
        request_schema,
        request_example: media.example.clone(),
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

/// `updateCallPickup` → `update_call_pickup`.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn upper_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// progenitor's builders start each required field as an `Err` holding an
/// allocated message that `send` never shows (it names the field itself);
/// an empty `String` says the same without allocating on every call.
struct CheapUnsetFields;

impl VisitMut for CheapUnsetFields {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr
            && call.method == "to_string"
            && call.args.is_empty()
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) = &*call.receiver
            && text.value().ends_with("was not initialized")
        {
            *expr = parse_quote!(::std::string::String::new());
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// Rewrites paths in progenitor's builders: they borrow the SDK's client
/// and take finished bodies instead of typify's struct builders.
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
    let mut client_items = Vec::new();
    for item in items {
        match item {
            Item::Mod(module) if module.ident == "builder" => {
                let (_, content) = module.content.ok_or("empty builder module")?;
                builder_items = Some(content);
            }
            Item::Impl(block) if is_inherent_client_impl(&block) && has_operation_fns(&block) => {
                client_items.push(Item::Impl(rewrite_client_impl(block, &ops)?));
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
    let mut extra = Vec::new();
    for item in builder_items.iter_mut() {
        RetargetPaths.visit_item_mut(item);
        CheapUnsetFields.visit_item_mut(item);
        if let Item::Struct(builder) = item {
            extra.extend(borrow_body(builder, &ops)?);
        }
        if let Item::Impl(block) = item {
            replace_send(block, &ops, checks)?;
        }
    }
    builder_items.extend(extra);
    Ok((builder_items, client_items))
}

fn is_inherent_client_impl(block: &ItemImpl) -> bool {
    block.trait_.is_none() && quote!(#block).to_string().starts_with("impl Client")
}

fn has_operation_fns(block: &ItemImpl) -> bool {
    block.items.iter().any(|item| matches!(item, ImplItem::Fn(f) if f.sig.ident != "new" && f.sig.ident != "new_with_client"))
}

fn rewrite_client_impl(mut block: ItemImpl, ops: &[OperationInfo]) -> Result<ItemImpl, String> {
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
        let builder = format_ident!("{}", op.builder_ident);
        function.sig.output = parse_quote!(-> super::builder::#builder<'_>);
        function.block = parse_quote!({ super::builder::#builder::new(self) });
        function.attrs = rewrite_docs(&function.attrs, op)?;
    }
    Ok(block)
}

/// Keeps progenitor's prose but swaps its `ignore` example for one that
/// compiles and sends the spec's own request example.
fn rewrite_docs(attrs: &[Attribute], op: &OperationInfo) -> Result<Vec<Attribute>, String> {
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
            setters.push_str(&format!(
                "    .{}(\"{}\")\n",
                param.ident,
                placeholder(&param.name)
            ));
        }
    }
    let example = op
        .request_example
        .as_ref()
        .ok_or_else(|| format!("{}: the request body has no example", op.id))?;
    let example = serde_json::to_string_pretty(example).map_err(|e| e.to_string())?;
    let (binding, use_line) = if op.success_schema.is_some() {
        ("let response = ", "println!(\"{response:?}\");\n")
    } else {
        ("", "")
    };
    let doc = format!(
        "{prose}\n\n# Example\n\nSends the spec's example body.\n\n```no_run\n\
         # async fn example(client: &webex_calling::Client) -> Result<(), webex_calling::Error> {{\n\
         let body = webex_calling::parse_body::<webex_calling::types::{schema}>(r#\"\n{example}\n\"#)?;\n\
         {binding}client\n    .{method}()\n{setters}    .body(body)\n    .send()\n    .await?;\n{use_line}\
         # Ok(())\n# }}\n```",
        schema = op.request_schema,
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
    checks: &mut Checks,
) -> Result<(), String> {
    if block.trait_.is_some() {
        return Ok(());
    }
    let ty = &block.self_ty;
    let ty_name = quote!(#ty).to_string();
    let Some(op) = ops.iter().find(|op| ty_name.starts_with(&op.builder_ident)) else {
        return Ok(());
    };
    for item in block.items.iter_mut() {
        let ImplItem::Fn(function) = item else {
            continue;
        };
        let name = function.sig.ident.to_string();
        let replacement = match name.as_str() {
            "new" => {
                // progenitor leaves it undocumented.
                let doc = format!(
                    "Starts a request; [`crate::Client::{}`] is the usual way in.",
                    op.method_ident
                );
                function.attrs.insert(0, parse_quote!(#[doc = #doc]));
                continue;
            }
            "send" => send_fn(op, checks)?,
            "body" => body_fn(op),
            "body_map" => body_map_fn(op),
            _ => match op.params.iter().find(|p| p.ident == name) {
                Some(param) => param_fn(param),
                None => continue,
            },
        };
        *function = syn::parse2(replacement).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The builder holds its body and parameters as `Cow`s: one update sent to
/// many groups is borrowed by every call instead of copied into each, and an
/// ID the caller already holds is not copied either.
fn borrow_body(builder: &mut syn::ItemStruct, ops: &[OperationInfo]) -> Result<Vec<Item>, String> {
    let Some(op) = ops.iter().find(|op| builder.ident == op.builder_ident) else {
        return Ok(Vec::new());
    };
    let schema = format_ident!("{}", op.request_schema);
    let syn::Fields::Named(fields) = &mut builder.fields else {
        return Err(format!("{}: expected named fields", builder.ident));
    };
    let body = fields
        .named
        .iter_mut()
        .find(|f| f.ident.as_ref().is_some_and(|i| i == "body"))
        .ok_or_else(|| format!("{}: no body field", builder.ident))?;
    body.ty = parse_quote!(Result<::std::borrow::Cow<'a, types::#schema>, String>);
    for param in &op.params {
        let field = fields
            .named
            .iter_mut()
            .find(|f| f.ident.as_ref().is_some_and(|i| *i == param.ident))
            .ok_or_else(|| format!("{}: no field for {}", builder.ident, param.name))?;
        if !matches!(
            param.shape,
            rules::Shape::String { .. } | rules::Shape::Free
        ) {
            return Err(format!(
                "{}: only string parameters are supported",
                param.name
            ));
        }
        field.ty = if param.required {
            parse_quote!(Result<::std::borrow::Cow<'a, str>, String>)
        } else {
            parse_quote!(Result<Option<::std::borrow::Cow<'a, str>>, String>)
        };
    }
    Ok(vec![
        parse_quote! {
            impl<'a> ::std::convert::From<types::#schema> for ::std::borrow::Cow<'a, types::#schema> {
                fn from(value: types::#schema) -> Self {
                    ::std::borrow::Cow::Owned(value)
                }
            }
        },
        parse_quote! {
            impl<'a> ::std::convert::From<&'a types::#schema> for ::std::borrow::Cow<'a, types::#schema> {
                fn from(value: &'a types::#schema) -> Self {
                    ::std::borrow::Cow::Borrowed(value)
                }
            }
        },
    ])
}

/// A parameter setter that keeps what it is given: a borrowed ID is not
/// copied, an owned one is moved.
fn param_fn(param: &ParamInfo) -> TokenStream {
    let ident = format_ident!("{}", param.ident);
    let need = if param.required {
        "Required"
    } else {
        "Optional"
    };
    let doc = format!("Sets `{}`. {need}. {}", param.name, param.description);
    let value = if param.required {
        quote!(value.into())
    } else {
        quote!(::std::option::Option::Some(value.into()))
    };
    quote! {
        #[doc = #doc]
        pub fn #ident(mut self, value: impl ::std::convert::Into<::std::borrow::Cow<'a, str>>) -> Self {
            self.#ident = Ok(#value);
            self
        }
    }
}

fn body_fn(op: &OperationInfo) -> TokenStream {
    let schema = format_ident!("{}", op.request_schema);
    let doc = format!(
        "Sets the request body: a [`types::{schema}`], or a reference to one, which sends \
         the same update many times without copying it. Only the fields set in it are sent."
    );
    quote! {
        #[doc = #doc]
        pub fn body<V>(mut self, value: V) -> Self
        where
            V: ::std::convert::Into<::std::borrow::Cow<'a, types::#schema>>,
        {
            self.body = Ok(value.into());
            self
        }
    }
}

fn body_map_fn(op: &OperationInfo) -> TokenStream {
    let schema = format_ident!("{}", op.request_schema);
    quote! {
        /// Changes the request body set so far (empty by default); a
        /// borrowed body is copied first.
        pub fn body_map<F>(mut self, f: F) -> Self
        where
            F: ::std::ops::FnOnce(types::#schema) -> types::#schema,
        {
            self.body = self
                .body
                .map(|body| ::std::borrow::Cow::Owned(f(body.into_owned())));
            self
        }
    }
}

/// The body of `send`: check every rule, then hand the request to the
/// runtime, then decode the success body.
fn send_fn(op: &OperationInfo, checks: &mut Checks) -> Result<TokenStream, String> {
    let idents: Vec<_> = op
        .params
        .iter()
        .map(|p| format_ident!("{}", p.ident))
        .collect();
    let mut take = Vec::new();
    for (param, ident) in op.params.iter().zip(&idents) {
        let name = &param.name;
        let mut check = checks.check(&param.shape, &quote!(value));
        if param.in_path {
            // A path parameter must stay one segment: `.` and `..` would be
            // resolved away by any URL parser, even percent-encoded.
            check = quote!(#check out.path_segment(&at, value););
        }
        if param.required {
            take.push(quote! {
                let #ident = out.take(&root.field(#name), #ident, "is required");
            });
            if !check.is_empty() {
                take.push(quote! {
                    if let ::std::option::Option::Some(value) = &#ident {
                        let at = root.field(#name);
                        #check
                    }
                });
            }
            take.push(quote!(let #ident = #ident.unwrap_or_default();));
        } else {
            take.push(quote! {
                let #ident = out.take(&root.field(#name), #ident, "is not a valid value").flatten();
            });
            if !check.is_empty() {
                take.push(quote! {
                    if let ::std::option::Option::Some(value) = &#ident {
                        let at = root.field(#name);
                        #check
                    }
                });
            }
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
                quote!((#name, ::std::option::Option::Some(#ident.as_str())))
            } else {
                quote!((#name, #ident.as_deref()))
            }
        });
    let id = &op.id;
    let resend = match &op.resend.unless_body_sets {
        None => quote!(crate::runtime::Resend::Always),
        Some(names) if names.is_empty() => quote!(crate::runtime::Resend::Never),
        Some(names) => quote!(crate::runtime::Resend::UnlessBodySets(&[#(#names),*])),
    };
    let check = &op.resend.check;
    let method = format_ident!("{}", op.method);
    let success = op.success;
    let (output, decode) = match &op.success_schema {
        Some(schema) => {
            let schema = format_ident!("{}", schema);
            (quote!(types::#schema), quote!(response.json()))
        }
        None => (
            quote!(()),
            quote!({
                let _ = response;
                ::std::result::Result::Ok(())
            }),
        ),
    };
    let doc = format!(
        "Checks every rule of the spec, then sends the request.\n\n\
         # Errors\n\n\
         [`crate::Error::InvalidInput`] when a parameter or the body breaks a rule of the \
         spec (nothing is sent), otherwise whatever the call ends with: see [`crate::Error`].\n\n\
         On success the service answers `{success}`."
    );
    Ok(quote! {
        #[doc = #doc]
        pub async fn send(self) -> ::std::result::Result<#output, crate::Error> {
            let Self { client, #(#idents,)* body } = self;
            let root = crate::validate::Path::Root;
            let mut violations = crate::validate::Violations::default();
            let out = &mut violations;
            #(#take)*
            let body = out.take(&root.field("body"), body, "is not a valid body").unwrap_or_default();
            crate::validate::Rules::check(&*body, &root, out);
            violations.into_result()?;
            let mut url = client.url_buffer(#literal_len #(+ #path_params)*);
            #(#pieces)*
            crate::runtime::push_query(&mut url, &[#(#query),*]);
            let operation = crate::runtime::Operation {
                id: #id,
                method: ::reqwest::Method::#method,
                success: #success,
                resend: #resend,
                if_unknown: #check,
            };
            let response = client.execute(&operation, url, &*body).await?;
            #decode
        }
    })
}
