//! The operation builders and the `Client` methods that open them, emitted
//! from the model alone.
//!
//! Each operation gets three pieces, each from its own function, so that
//! what a builder holds, what it can be told and how it sends can change
//! apart:
//! - `builder_struct`: the builder's fields (the client, each parameter,
//!   the body);
//! - `builder_impl`: `new`, one setter per parameter, `body`, then
//!   `send_fns` (`send` and `send_with_meta`);
//! - `client_method`: the `Client` method with its documentation and
//!   example.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Item, parse_quote};

use crate::model::{In, List, Model, Operation, Output, Param, ParamType};
use crate::types::Checks;

/// The items of `builder.rs` and of `client.rs`.
pub fn emit(model: &Model, checks: &mut Checks) -> (Vec<Item>, Vec<Item>) {
    let mut builder_items: Vec<Item> = vec![parse_quote!(
        use super::types;
    )];
    let mut methods = Vec::new();
    let mut borrowed_bodies = BTreeSet::new();
    for op in &model.operations {
        builder_items.push(builder_struct(op));
        builder_items.push(builder_impl(op, checks));
        if let Some(body) = &op.body
            && borrowed_bodies.insert(body.type_name.clone())
        {
            builder_items.extend(cow_impls(&body.type_name));
        }
        methods.push(client_method(op));
    }
    let mut client_items = if methods.is_empty() {
        Vec::new()
    } else {
        vec![parse_quote! {
            impl crate::Client {
                #(#methods)*
            }
        }]
    };
    client_items.extend(client_default_setters(&model.operations));
    (builder_items, client_items)
}

/// Whether the builder borrows anything (a text parameter or a body), and
/// so has a lifetime.
fn borrows(op: &Operation) -> bool {
    op.body.is_some() || op.params.iter().any(|p| p.ty == ParamType::Str)
}

/// The media type of the request body, sent as `Content-Type`.
fn content_type(op: &Operation) -> &str {
    match (&op.body, &op.raw_body) {
        (Some(body), _) if body.form => crate::model::FORM,
        (_, Some(raw)) => raw.media.as_str(),
        _ => "application/json",
    }
}

/// The Rust type of one value of a parameter, as the builder stores it.
fn value_type(ty: &ParamType) -> TokenStream {
    match ty {
        ParamType::Str => quote!(::std::borrow::Cow<'a, str>),
        ParamType::Integer => quote!(i64),
        ParamType::Number => quote!(f64),
        ParamType::Bool => quote!(bool),
        ParamType::Enum(name) => {
            let name = format_ident!("{}", name);
            quote!(types::#name)
        }
        ParamType::List(inner) => {
            let inner = item_type(inner);
            quote!(::std::vec::Vec<#inner>)
        }
    }
}

/// The type of an item of a list parameter: text is owned there.
fn item_type(ty: &ParamType) -> TokenStream {
    match ty {
        ParamType::Str => quote!(::std::string::String),
        other => value_type(other),
    }
}

fn body_type(op: &Operation) -> Option<TokenStream> {
    op.body.as_ref().map(|body| {
        let name = format_ident!("{}", body.type_name);
        quote!(types::#name)
    })
}

/// The builder's fields: the client, each parameter, the body. A text
/// parameter is a `Cow`, and the body a `Body`: one update sent to many
/// groups is borrowed by every call instead of copied into each, and an ID
/// the caller already holds is not copied either; owned values move in, and
/// then the builder borrows nothing. An owned body is boxed, so the builder
/// stays small when it is moved.
fn builder_struct(op: &Operation) -> Item {
    let builder = format_ident!("{}", op.builder_ident);
    let lifetime = borrows(op).then(|| quote!(<'a>));
    let fields = op.params.iter().map(|param| {
        let ident = format_ident!("{}", param.ident);
        let ty = value_type(&param.ty);
        quote!(#ident: ::std::option::Option<#ty>)
    });
    let body = match body_type(op) {
        Some(ty) => quote!(body: ::std::option::Option<crate::runtime::Body<'a, #ty>>,),
        None if op.raw_body.is_some() => quote!(body: ::std::option::Option<::bytes::Bytes>,),
        None => quote!(),
    };
    let doc = format!(
        "Builder for [`Client::{m}`]\n\n[`Client::{m}`]: crate::Client::{m}",
        m = op.method_ident
    );
    parse_quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        pub struct #builder #lifetime {
            client: crate::Client,
            #(#fields,)*
            #body
            options: crate::runtime::CallOptions,
        }
    }
}

/// `From` a body and a reference to it into the builder's `Cow`.
fn cow_impls(type_name: &str) -> Vec<Item> {
    let schema = format_ident!("{}", type_name);
    vec![
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
    ]
}

/// `new`, the setters and the sending functions.
fn builder_impl(op: &Operation, checks: &mut Checks) -> Item {
    let builder = format_ident!("{}", op.builder_ident);
    let lifetime = borrows(op).then(|| quote!(<'a>));
    let mut methods = vec![new_fn(op)];
    for param in &op.params {
        methods.push(param_fn(param));
    }
    if let Some(body) = body_type(op) {
        methods.push(body_fn(op, &body));
    }
    if let Some(raw) = &op.raw_body {
        let doc = format!(
            "Sets the request body, sent as it is with the content type `{}`.",
            raw.media
        );
        let ident = format_ident!("body");
        methods.push(crate::types::setter_fn(
            quote!(#[doc = #doc]),
            &ident,
            quote!(::bytes::Bytes),
            false,
        ));
    }
    methods.push(call_option_fns());
    methods.push(send_fns(op, checks));
    if let Some(list) = &op.list {
        methods.push(stream_fn(op, list));
    }
    parse_quote! {
        impl #lifetime #builder #lifetime {
            #(#methods)*
        }
    }
}

/// Opens a builder with nothing set; only the client's operation methods
/// call it.
fn new_fn(op: &Operation) -> TokenStream {
    let params = op.params.iter().map(|p| format_ident!("{}", p.ident));
    let body = (op.body.is_some() || op.raw_body.is_some())
        .then(|| quote!(body: ::std::option::Option::None,));
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

fn param_doc(param: &Param) -> String {
    let need = if param.required {
        "Required"
    } else {
        "Optional"
    };
    let place = match (param.location, &param.ty) {
        (In::Header, _) => " Sent as the header of that name.",
        (_, ParamType::List(_)) => " Sent once per item.",
        _ => "",
    };
    let mut doc = format!(
        "Sets `{}`. {need}.{place} {}",
        param.name, param.description
    );
    if let Some(name) = &param.client_default {
        doc.push_str(&format!(
            " When not set, the call sends the client's own, if its builder set one with \
             [`crate::ClientBuilder::{}`].",
            snake(name)
        ));
    }
    doc
}

/// A parameter setter. Text keeps what it is given: a borrowed ID is not
/// copied, an owned one is moved; a list takes any iterable.
fn param_fn(param: &Param) -> TokenStream {
    let ident = format_ident!("{}", param.ident);
    let doc = param_doc(param);
    match &param.ty {
        ParamType::List(inner) => {
            crate::types::setter_fn(quote!(#[doc = #doc]), &ident, item_type(inner), true)
        }
        other => crate::types::setter_fn(quote!(#[doc = #doc]), &ident, value_type(other), false),
    }
}

fn body_fn(op: &Operation, schema: &TokenStream) -> TokenStream {
    let name = op
        .body
        .as_ref()
        .map(|b| b.type_name.as_str())
        .unwrap_or_default();
    let doc = format!(
        "Sets the request body: a [`types::{name}`], or a reference to one, which sends \
         the same body many times without copying it. Only the fields set in it are sent."
    );
    quote! {
        #[doc = #doc]
        #[must_use]
        pub fn body<V>(mut self, value: V) -> Self
        where
            V: ::std::convert::Into<::std::borrow::Cow<'a, #schema>>,
        {
            self.body = ::std::option::Option::Some(crate::runtime::Body::from(value.into()));
            self
        }
    }
}

/// The `crate::runtime::Operation` the generated `send` hands to the
/// runtime: every fact about the operation the runtime needs, in one place.
fn operation_literal(op: &Operation) -> TokenStream {
    let id = &op.id;
    let method = method_tokens(&op.method);
    let success = op.success.first().copied().unwrap_or(200);
    let resend = match &op.resend.unless_body_sets {
        None => quote!(crate::runtime::Resend::Always),
        Some(names) if names.is_empty() => quote!(crate::runtime::Resend::Never),
        Some(names) => quote!(crate::runtime::Resend::UnlessBodySets(&[#(#names),*])),
    };
    let check = &op.resend.check;
    let accept = &op.accept;
    let content_type = content_type(op);
    // A static, so that the started call borrows it for as long as it runs.
    quote! {
        static OPERATION: crate::runtime::Operation = crate::runtime::Operation {
            id: #id,
            method: #method,
            success: #success,
            accept: #accept,
            content_type: #content_type,
            resend: #resend,
            if_unknown: #check,
        };
    }
}

/// The method's constant in reqwest: the model holds only the eight
/// methods an OpenAPI path item has, and reqwest names each.
fn method_tokens(method: &str) -> TokenStream {
    let ident = format_ident!("{}", method);
    quote!(::reqwest::Method::#ident)
}

/// The type `send` returns, and how the answer is decoded into it.
fn output(op: &Operation) -> (TokenStream, TokenStream) {
    match &op.output {
        Output::Unit => (
            quote!(()),
            quote!(::std::result::Result::Ok(response.with_value(()))),
        ),
        Output::Json(name) => {
            let name = format_ident!("{}", name);
            (quote!(types::#name), quote!(response.json_with_meta()))
        }
        Output::OptionalJson(name) => {
            let name = format_ident!("{}", name);
            (
                quote!(::std::option::Option<types::#name>),
                quote!(response.json_or_empty_with_meta()),
            )
        }
        Output::Value => (
            quote!(::serde_json::Value),
            quote!(response.value_with_meta()),
        ),
        Output::Bytes => (quote!(::bytes::Bytes), quote!(response.bytes_with_meta())),
        Output::Upgrade => (
            quote!(::reqwest::Upgraded),
            quote!(response.upgraded_with_meta()),
        ),
    }
}

/// `send` and `send_with_meta`: check every rule, then hand the request to
/// the runtime, then decode the success body.
fn send_fns(op: &Operation, checks: &mut Checks) -> TokenStream {
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
        if param.ty == ParamType::Str {
            match param.location {
                // A path parameter must stay one segment: `.` and `..` would
                // be resolved away by any URL parser, even percent-encoded.
                In::Path => check = quote!(#check out.path_segment(&at, value);),
                In::Header => check = quote!(#check out.header_value(&at, value);),
                In::Query => {}
            }
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
            let check = if body.is_object {
                quote! {
                    if let ::std::option::Option::Some(body) = &body {
                        crate::validate::Rules::check(&**body, &root, out);
                    }
                }
            } else {
                quote!()
            };
            (quote!(#require #check), arg)
        }
        None => match &op.raw_body {
            Some(raw) if raw.required => {
                required.push(body_ident.clone());
                (
                    quote!(let body = out.require(&root.field("body"), body);),
                    quote!(::std::option::Option::Some(body)),
                )
            }
            Some(_) => (quote!(), quote!(body)),
            None => (quote!(), quote!(::std::option::Option::None::<&()>)),
        },
    };
    let execute = if op.raw_body.is_some() {
        quote!(execute_bytes)
    } else if op.body.as_ref().is_some_and(|body| body.form) {
        quote!(execute_form)
    } else {
        quote!(execute)
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
    // Numbers, booleans and enums go into the URL as text; so do the items
    // of a list.
    let mut to_text = Vec::new();
    for (param, ident) in op.params.iter().zip(&idents) {
        let convert = match &param.ty {
            ParamType::Str => continue,
            ParamType::List(inner) if **inner == ParamType::Str => continue,
            ParamType::List(_) => quote!(
                value
                    .iter()
                    .map(::std::string::ToString::to_string)
                    .collect::<::std::vec::Vec<::std::string::String>>()
            ),
            _ => quote!(::std::string::ToString::to_string(&value)),
        };
        if param.required {
            to_text.push(quote!(let #ident = { let value = #ident; #convert };));
        } else {
            to_text.push(quote!(let #ident = #ident.map(|value| #convert);));
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
        let Some(end) = rest[start..].find('}').map(|end| end + start) else {
            break;
        };
        let name = &rest[start + 1..end];
        if let Some((_, ident)) = op
            .params
            .iter()
            .zip(&idents)
            .find(|(p, _)| p.location == In::Path && p.name == name)
        {
            pieces.push(quote!(crate::runtime::push_segment(&mut url, &#ident);));
        }
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
        .filter(|(p, _)| p.location == In::Path)
        .map(|(_, ident)| quote!(#ident.len()))
        .collect();
    let scalar = |p: &Param| !matches!(p.ty, ParamType::List(_));
    let query = op
        .params
        .iter()
        .zip(&idents)
        .filter(|(p, _)| p.location == In::Query && scalar(p))
        .map(|(p, ident)| {
            let name = &p.name;
            if p.required {
                quote!((#name, ::std::option::Option::Some(&*#ident)))
            } else {
                quote!((#name, #ident.as_deref()))
            }
        });
    let lists = op
        .params
        .iter()
        .zip(&idents)
        .filter(|(p, _)| p.location == In::Query && !scalar(p))
        .map(|(p, ident)| {
            let name = &p.name;
            if p.required {
                quote!(crate::runtime::push_query_list(&mut url, #name, &#ident);)
            } else {
                quote! {
                    if let ::std::option::Option::Some(list) = &#ident {
                        crate::runtime::push_query_list(&mut url, #name, list);
                    }
                }
            }
        });
    let header_params: Vec<_> = op
        .params
        .iter()
        .zip(&idents)
        .filter(|(p, _)| p.location == In::Header)
        .collect();
    let headers = if header_params.is_empty() {
        quote!(let headers = ::reqwest::header::HeaderMap::new();)
    } else {
        let pushes = header_params.iter().map(|(p, ident)| {
            let name = &p.name;
            if p.required {
                quote!(crate::runtime::push_header(&mut headers, #name, &#ident);)
            } else {
                quote! {
                    if let ::std::option::Option::Some(value) = &#ident {
                        crate::runtime::push_header(&mut headers, #name, value);
                    }
                }
            }
        });
        quote! {
            let mut headers = ::reqwest::header::HeaderMap::new();
            #(#pushes)*
        }
    };
    let success = op
        .success
        .iter()
        .map(|code| format!("`{code}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    let (output, decode) = output(op);
    let operation = operation_literal(op);
    let errors = "# Errors\n\n\
         [`crate::Error::InvalidInput`] when a parameter or the body breaks a rule of the \
         spec or a required one is not set (nothing is sent), otherwise whatever the call \
         ends with: see [`crate::Error`].";
    let send_doc = format!(
        "Checks every rule of the spec, then sends the request.\n\n{errors}\n\n\
         On success the service answers {success}. [`Self::send_with_meta`] also tells \
         the call's tracking ID and attempts."
    );
    let declared = if op.response_headers.is_empty() {
        String::new()
    } else {
        format!(
            " The answer's headers, {} among them, are in [`crate::Response::headers`].",
            op.response_headers
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let meta_doc = format!(
        "Like [`Self::send`], and the answer comes with what support asks about a \
         call: its tracking ID, the status and how many attempts it took (see \
         [`crate::Response`]).{declared}\n\n{errors}"
    );
    let body_field = (op.body.is_some() || op.raw_body.is_some()).then(|| quote!(body,));
    // An operation whose parameters and body have no rule has nothing to
    // check.
    let checks = if take.is_empty() && body_take.is_empty() {
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
    // `send` and `send_with_meta` are not `async fn`s: an `async fn` keeps
    // its arguments, here the whole builder with its body, in its future
    // until the end. `call` checks the rules and starts the call at once,
    // and the future returned holds only the started call.
    quote! {
        #[doc = #send_doc]
        pub fn send(
            self,
        ) -> impl ::std::future::Future<Output = ::std::result::Result<#output, crate::Error>>
               + ::std::marker::Send {
            let call = self.send_with_meta();
            async move { call.await.map(crate::Response::into_value) }
        }

        #[doc = #meta_doc]
        pub fn send_with_meta(
            self,
        ) -> impl ::std::future::Future<
            Output = ::std::result::Result<crate::Response<#output>, crate::Error>,
        > + ::std::marker::Send {
            let call = self.call();
            async move {
                let response = call?.await?;
                #decode
            }
        }

        /// Checks every rule of the spec, then starts the call: nothing is
        /// sent until its future is polled.
        fn call(self) -> ::std::result::Result<crate::client::Call, crate::Error> {
            let Self { client, #(#idents,)* #body_field options } = self;
            #checks
            #(#to_text)*
            let mut url = client.url_buffer(#literal_len #(+ #path_params)*);
            #(#pieces)*
            crate::runtime::push_query(&mut url, &[#(#query),*]);
            #(#lists)*
            #headers
            #operation
            client.#execute(&OPERATION, url, headers, #body_arg, options)
        }
    }
}

/// The `Client` method that opens the builder, with progenitor's prose
/// (summary, description, method and path, arguments) and an example that
/// compiles.
fn client_method(op: &Operation) -> TokenStream {
    let builder = format_ident!("{}", op.builder_ident);
    let method = format_ident!("{}", op.method_ident);
    let doc = method_doc(op);
    // The builder holds a clone of the client (one reference count), not a
    // borrow: with owned arguments its `send()` future is `'static` and can
    // be spawned; `'a` is only what the arguments borrow.
    if borrows(op) {
        quote! {
            #[doc = #doc]
            pub fn #method<'a>(&self) -> super::builder::#builder<'a> {
                super::builder::#builder::new(::std::clone::Clone::clone(self))
            }
        }
    } else {
        quote! {
            #[doc = #doc]
            pub fn #method(&self) -> super::builder::#builder {
                super::builder::#builder::new(::std::clone::Clone::clone(self))
            }
        }
    }
}

fn method_doc(op: &Operation) -> String {
    let mut prose = String::new();
    if let Some(summary) = &op.summary {
        prose.push_str(summary.trim_end_matches(['.', ',']));
        prose.push_str("\n\n");
    }
    if let Some(description) = &op.description {
        prose.push_str(description);
        prose.push_str("\n\n");
    }
    prose.push_str(&format!(
        "Sends a `{}` request to `{}`\n\n",
        op.method, op.path
    ));
    if op.params.iter().any(|p| !p.description.is_empty()) {
        prose.push_str("Arguments:\n");
        for param in &op.params {
            prose.push_str(&format!("- `{}`", param.ident));
            if !param.description.is_empty() {
                prose.push_str(": ");
                prose.push_str(&param.description);
            }
            prose.push('\n');
        }
        if op.body.is_some() {
            prose.push_str("- `body`\n");
        }
    }
    let prose = prose.trim_end();
    let mut setters = String::new();
    for param in &op.params {
        if param.required {
            let value = match &param.ty {
                ParamType::Str => format!("\"{}\"", placeholder(&param.name)),
                ParamType::Integer => "1".to_string(),
                ParamType::Number => "1.0".to_string(),
                ParamType::Bool => "true".to_string(),
                // An enum's or a list's value is left to the reader; the
                // example still compiles.
                ParamType::Enum(_) | ParamType::List(_) => continue,
            };
            setters.push_str(&format!("    .{}({value})\n", param.ident));
        }
    }
    let mut signature = "client: &webex_calling::Client".to_string();
    let (intro, parse, body_setter) = match &op.body {
        Some(body) => match (&body.example, body.is_object) {
            (Some(example), true) => {
                let example = serde_json::to_string_pretty(example).unwrap_or_default();
                let mut hashes = "#".to_string();
                while example.contains(&format!("\"{hashes}")) {
                    hashes.push('#');
                }
                (
                    "Sends the spec's example body.",
                    format!(
                        "let body = webex_calling::parse_body::<webex_calling::types::{}>(r{hashes}\"\n{example}\n\"{hashes})?;\n",
                        body.type_name
                    ),
                    "    .body(body)\n",
                )
            }
            _ => {
                signature.push_str(&format!(
                    ", body: &webex_calling::types::{}",
                    body.type_name
                ));
                (
                    "Sends a body the caller has built.",
                    String::new(),
                    "    .body(body)\n",
                )
            }
        },
        None if op.raw_body.is_some() => (
            "Sends a body given as text.",
            String::new(),
            "    .body(\"body text\")\n",
        ),
        None => ("Sends the request.", String::new(), ""),
    };
    let (binding, use_line) = if op.output == Output::Unit {
        ("", "")
    } else {
        ("let response = ", "println!(\"{response:?}\");\n")
    };
    format!(
        "{prose}\n\n# Example\n\n{intro}\n\n```no_run\n\
         # async fn example({signature}) -> Result<(), webex_calling::Error> {{\n\
         {parse}{binding}client\n    .{method}()\n{setters}{body_setter}    .send()\n    .await?;\n{use_line}\
         # Ok(())\n# }}\n```",
        method = op.method_ident,
    )
}

fn placeholder(name: &str) -> String {
    format!("{}-from-webex", snake(name).replace('_', "-"))
}

/// The identifier progenitor gives a name in snake case (methods,
/// parameters): `getXMLData` → `get_xml_data`, `list-widgets` →
/// `list_widgets`. It is progenitor's own rule, on heck, so the two agree.
pub fn snake(name: &str) -> String {
    sanitize(name, heck::ToSnakeCase::to_snake_case)
}

/// The identifier progenitor and typify give a name in Pascal case
/// (builders, types).
pub fn pascal(name: &str) -> String {
    sanitize(name, heck::ToPascalCase::to_pascal_case)
}

/// progenitor's `sanitize`: drop apostrophes, turn anything that cannot be
/// in an identifier into `-`, change case, and make the result a valid
/// identifier.
fn sanitize(name: &str, case: fn(&str) -> String) -> String {
    let cleaned: String = match name {
        "+1" => "plus1".to_string(),
        "-1" => "minus1".to_string(),
        _ => name
            .replace('\'', "")
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect(),
    };
    let out = case(&cleaned);
    let out = match out.chars().next() {
        None => case("x"),
        Some(c) if c.is_alphabetic() || c == '_' => out,
        Some(_) => format!("_{out}"),
    };
    if syn::parse_str::<syn::Ident>(&out).is_ok() && out != "_" {
        out
    } else {
        format!("{out}_")
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

/// One `ClientBuilder` setter per name the document gives in an
/// `x-client-default`: the value every call sends for the parameters that
/// carry that name, unless the call sets its own.
fn client_default_setters(ops: &[Operation]) -> Option<Item> {
    let mut seen: BTreeMap<&str, &Param> = BTreeMap::new();
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

/// `stream()` on a list operation's builder: every item of every page, as
/// a `crate::Items` stream that owns its arguments. Each page is the same
/// builder with `start` and `max` set, and the same per-call settings, sent
/// with `send_with_meta`.
fn stream_fn(op: &Operation, list: &List) -> TokenStream {
    let builder = format_ident!("{}", op.builder_ident);
    let item = format_ident!("{}", list.item_type);
    let items = format_ident!("{}", list.items_field);
    let max = format_ident!("{}", list.max);
    let start = format_ident!("{}", list.start);
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
        .filter(|p| p.ty == ParamType::Str)
        .map(|p| {
            let ident = format_ident!("{}", p.ident);
            quote!(let #ident = crate::paging::owned(#ident);)
        });
    let fields = idents.iter().map(|ident| {
        if *ident == max {
            quote!(#ident: ::std::option::Option::Some(cursor.max))
        } else if *ident == start {
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
        max_name = list.max_name,
        start_name = list.start_name,
    );
    quote! {
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
    }
}
