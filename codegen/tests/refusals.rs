//! What the generator refuses, and how it says so: per operation, in
//! document order, one line each, with panics inside progenitor and typify
//! caught.

use webex_calling_codegen::model::{CLIENT_METHODS, construct};
use webex_calling_codegen::{Refusal, generate};

/// A document of one `GET /x` answered with the component `X`, plus the
/// operations in `more` (YAML under `paths:`).
fn document(x: &str, more: &str) -> String {
    format!(
        r##"openapi: 3.0.3
info:
  title: Fixture
  version: "1"
paths:
  /x:
    get:
      operationId: getX
      responses:
        "200":
          description: X.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/X"
{more}components:
  schemas:
    X:
{x}"##
    )
}

#[test]
fn a_not_schema_is_a_refusal_of_the_operation_on_one_line_not_a_panic_in_typify() {
    let spec = document("      not:\n        type: string\n", "");
    let error = generate(&spec).unwrap_err();
    let [refusal] = error.refusals() else {
        panic!("one refusal expected: {error}");
    };
    assert_eq!(refusal.operation, "getX");
    assert_eq!(refusal.location, "components.schemas.X");
    assert_eq!(refusal.construct, construct::NOT_SCHEMA);
    assert_eq!(error.to_string(), "getX › components.schemas.X: not schema");
}

#[test]
fn a_not_inside_a_property_refuses_only_the_operations_that_reach_it() {
    let more = r#"  /y:
    put:
      operationId: putY
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                code:
                  not: {type: integer}
      responses:
        "204": {description: Done.}
"#;
    let error = generate(&document(
        "      type: object\n      properties:\n        a: {type: string}\n",
        more,
    ))
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "putY › components.schemas.PutYBody.code: not schema"
    );
}

#[test]
fn every_refused_operation_is_named_in_document_order_and_the_others_do_not_hide_them() {
    let more = r#"  /y:
    post:
      operationId: upload y
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                file:
                  type: string
      responses:
        "204":
          description: Done.
  /z:
    get:
      operationId: getZ
      parameters:
        - name: session
          in: cookie
          schema:
            type: string
        - name: filter
          in: query
          content:
            application/json:
              schema:
                type: object
      responses:
        "204":
          description: Done.
"#;
    let spec = document(
        "      type: object\n      properties:\n        id:\n          type: string\n",
        more,
    );
    let error = generate(&spec).unwrap_err();
    let refusal = |operation: &str, location: &str, construct: &str, detail: &str| Refusal {
        operation: operation.into(),
        location: location.into(),
        construct: construct.into(),
        detail: detail.into(),
    };
    assert_eq!(
        error.refusals(),
        [
            refusal(
                "upload y",
                "requestBody",
                construct::FORM_BODY,
                "multipart/form-data"
            ),
            refusal("getZ", "parameter session", construct::COOKIE_PARAMETER, ""),
            refusal("getZ", "parameter filter", construct::PARAMETER_CONTENT, ""),
        ]
    );
    assert_eq!(
        error.to_string(),
        "upload y › requestBody: form request body — multipart/form-data\n\
         getZ › parameter session: cookie parameter\n\
         getZ › parameter filter: parameter with content"
    );
}

#[test]
fn a_problem_in_a_component_refuses_each_operation_that_reaches_it() {
    let x = "      type: object\n      properties:\n        ratio:\n          type: number\n          multipleOf: 0.5\n";
    let error = generate(&document(x, "")).unwrap_err();
    let [refusal] = error.refusals() else {
        panic!("one refusal expected: {error}");
    };
    assert_eq!(refusal.operation, "getX");
    assert_eq!(refusal.location, "components.schemas.X");
    assert_eq!(refusal.construct, construct::EXCLUSIVE_BOUND);
}

#[test]
fn text_that_is_not_openapi_3_0_is_a_refusal_of_the_document() {
    let error =
        generate("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n").unwrap_err();
    assert_eq!(error.refusals()[0].operation, Refusal::DOCUMENT);
    assert_eq!(error.refusals()[0].construct, construct::NOT_OPENAPI);
}

#[test]
fn every_construct_is_in_the_crate_docs_table_of_refused_constructs() {
    let docs = include_str!("../src/lib.rs");
    let table = docs
        .split("# Refused constructs")
        .nth(1)
        .and_then(|rest| rest.split("\n//! # ").next())
        .expect("the crate docs have a table of refused constructs");
    for construct in construct::ALL {
        assert!(
            table.contains(&format!("//! | `{construct}` |")),
            "{construct:?} is not in the crate docs' table of refused constructs"
        );
    }
    let rows = table.lines().filter(|l| l.starts_with("//! | `")).count();
    assert_eq!(
        rows,
        construct::ALL.len(),
        "the table has rows of no construct"
    );
}

#[test]
fn an_operation_named_like_a_method_of_the_client_is_renamed_and_the_list_is_complete() {
    let client = include_str!("../../sdk/src/client.rs");
    let file = syn::parse_file(client).unwrap();
    let mut methods = Vec::new();
    for item in file.items {
        if let syn::Item::Impl(block) = item
            && block.trait_.is_none()
            && matches!(&*block.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"))
        {
            for item in block.items {
                if let syn::ImplItem::Fn(function) = item {
                    methods.push(function.sig.ident.to_string());
                }
            }
        }
    }
    assert!(methods.len() > 5, "{methods:?}");
    for method in methods {
        assert!(
            CLIENT_METHODS.contains(&method.as_str()),
            "Client::{method} is not in model::CLIENT_METHODS: an operation of that name would not compile"
        );
    }
}

/// `putY`, whose query parameter `code` has `pattern`, as YAML paths.
fn put_y_with_a_query_pattern(pattern: &str) -> String {
    format!(
        r##"  /y:
    put:
      operationId: putY
      parameters:
        - name: code
          in: query
          schema:
            type: string
            pattern: "{pattern}"
      responses:
        "204": {{description: Done.}}
"##
    )
}

#[test]
fn a_pattern_that_cannot_be_compiled_refuses_only_the_operations_that_use_it() {
    let more = put_y_with_a_query_pattern("(?i)^x")
        + r##"  /z:
    put:
      operationId: putZ
      requestBody:
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/Y"
      responses:
        "204": {description: Done.}
"##;
    let x = "      type: object\n      properties:\n        a:\n          type: string\n          pattern: \"^[a-z]+$\"\n    Y:\n      type: object\n      properties:\n        b:\n          type: string\n          pattern: \"[a-z\"\n";
    let error = generate(&document(x, &more)).unwrap_err();
    let refusals: Vec<(&str, &str, &str)> = error
        .refusals()
        .iter()
        .map(|r| {
            (
                r.operation.as_str(),
                r.location.as_str(),
                r.construct.as_str(),
            )
        })
        .collect();
    assert_eq!(
        refusals,
        [
            ("putY", "parameter code", construct::PATTERN),
            ("putZ", "components.schemas.Y.b", construct::PATTERN),
        ],
        "{error}"
    );
    assert!(error.refusals()[1].detail.contains("[a-z"), "{error}");
    assert!(
        error.refusals()[0]
            .detail
            .contains("not an ECMA-262 regular expression regress can compile"),
        "{error}"
    );
}

#[test]
fn ecma_262_look_around_and_back_references_are_patterns_taken_as_written() {
    let more = put_y_with_a_query_pattern(r"^(?!x)(?<q>['a])\\k<q>$");
    let x = "      type: object\n      properties:\n        b:\n          type: string\n          pattern: \"(?<=a)b\"\n";
    let files = generate(&document(x, &more)).unwrap_or_else(|e| panic!("{e}"));
    let validate = files
        .iter()
        .find(|f| f.name == "validate.rs")
        .expect("a validate.rs");
    for pattern in [r#""(?<=a)b""#, r#""^(?!x)(?<q>['a])\\k<q>$""#] {
        assert!(
            validate.contents.contains(pattern),
            "{pattern} is not checked:\n{}",
            validate.contents
        );
    }
}

#[test]
fn a_form_of_scalars_is_taken_and_one_with_a_nested_object_is_refused_naming_the_field() {
    let more = r##"  /y:
    post:
      operationId: postY
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties:
                name: {type: string}
                address:
                  type: object
                  properties:
                    city: {type: string}
      responses:
        "204": {description: Done.}
  /z:
    post:
      operationId: postZ
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                file: {type: string, format: binary}
      responses:
        "204": {description: Done.}
"##;
    let error = generate(&document("      type: object\n", more)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "postY › requestBody: form request body — property address is not a scalar or a list of scalars, which a form cannot carry\n\
         postZ › requestBody: form request body — multipart/form-data"
    );
}
