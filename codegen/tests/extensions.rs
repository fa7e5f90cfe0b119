//! The spec's `x-` extensions: what the generator makes of them, and the
//! errors that name a misuse.

const SPEC: &str = r##"openapi: 3.0.3
info:
  title: Fixture
  version: "1"
paths:
  /lamps/{lampId}:
    get:
      operationId: getLamp
      summary: Read a lamp.
      description: Answers with the lamp.
      parameters:
        - name: lampId
          in: path
          required: true
          description: ID of the lamp.
          schema:
            type: string
      responses:
        "200":
          description: The lamp.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/LampDetails"
    put:
      operationId: updateLamp
      summary: Update a lamp.
      description: Answers with no body.
      parameters:
        - name: lampId
          in: path
          required: true
          description: ID of the lamp.
          schema:
            type: string
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/UpdateLamp"
      responses:
        "204":
          description: Updated.
components:
  schemas:
    Colour:
      type: string
      x-extensible-enum: true
      description: A colour.
      enum:
        - RED
        - BLUE
    LampDetails:
      type: object
      description: A lamp as read.
      x-update-schema: UpdateLamp
      required:
        - id
        - colour
      properties:
        id:
          type: string
          description: Its ID.
        colour:
          $ref: "#/components/schemas/Colour"
        watts:
          type: integer
          format: int32
          x-aliases:
            - watt
          description: Its power.
    UpdateLamp:
      type: object
      description: A lamp's update.
      required:
        - colour
      properties:
        colour:
          $ref: "#/components/schemas/Colour"
        watts:
          type: integer
          format: int32
          description: Its power.
"##;

fn generate(spec: &str) -> Result<String, String> {
    webex_calling_codegen::generate(spec)
        .map(|files| files.into_iter().map(|f| f.contents).collect())
        .map_err(|e| e.to_string())
}

#[test]
fn an_extensible_enum_keeps_unknown_values_and_refuses_them_in_checks() {
    let out = generate(SPEC).unwrap();
    assert!(out.contains("Unknown(::std::string::String)"), "{out}");
    assert!(out.contains("_ => Self::Unknown(value)"), "{out}");
    assert!(
        out.contains("if let types::Colour::Unknown(unknown) = value"),
        "{out}"
    );
    assert!(
        out.contains("out.unknown_value(&at, unknown, &[\"RED\", \"BLUE\"])"),
        "{out}"
    );
}

#[test]
fn an_alias_is_read_but_not_written() {
    let out = generate(SPEC).unwrap();
    assert!(out.contains("#[serde(alias = \"watt\")]"), "{out}");
}

#[test]
fn a_read_with_an_update_schema_converts_same_named_properties() {
    let out = generate(SPEC).unwrap();
    assert!(
        out.contains("impl ::std::convert::From<&LampDetails> for UpdateLamp"),
        "{out}"
    );
    assert!(
        out.contains("pub fn to_update(&self) -> UpdateLamp"),
        "{out}"
    );
    assert!(
        out.contains("colour: ::std::clone::Clone::clone(&value.colour)"),
        "{out}"
    );
}

#[test]
fn an_update_property_the_read_only_has_as_optional_is_refused_by_name() {
    let spec = SPEC.replacen("        - id\n        - colour\n", "        - id\n", 1);
    let error = generate(&spec).unwrap_err();
    assert!(
        error.contains("LampDetails.colour: is optional, but UpdateLamp requires `colour`"),
        "{error}"
    );
}

#[test]
fn an_update_schema_that_does_not_exist_is_refused_by_name() {
    let spec = SPEC.replacen(
        "x-update-schema: UpdateLamp",
        "x-update-schema: UpdateLight",
        1,
    );
    let error = generate(&spec).unwrap_err();
    assert!(
        error.contains("LampDetails: x-update-schema names UpdateLight"),
        "{error}"
    );
}

#[test]
fn a_property_that_cannot_be_converted_is_refused_naming_the_extensions_to_use() {
    let spec = SPEC.replacen(
        "        watts:\n          type: integer\n          format: int32\n          description: Its power.\n",
        "        watts:\n          type: string\n          description: Its power.\n",
        1,
    );
    let error = generate(&spec).unwrap_err();
    assert!(error.contains("LampDetails.watts: cannot turn"), "{error}");
    assert!(error.contains("x-update-schema"), "{error}");
}

#[test]
fn a_cookie_parameter_is_refused_naming_the_operation_the_place_and_the_construct() {
    let spec = SPEC.replacen(
        "      parameters:\n",
        "      parameters:\n        - name: session\n          in: cookie\n          description: A session.\n          schema:\n            type: string\n",
        1,
    );
    let error = webex_calling_codegen::generate(&spec).unwrap_err();
    let refusal = webex_calling_codegen::Refusal {
        operation: "getLamp".into(),
        location: "parameter session".into(),
        construct: "cookie parameter".into(),
        detail: String::new(),
    };
    assert_eq!(error.refusals(), [refusal]);
    assert_eq!(
        error.to_string(),
        "getLamp › parameter session: cookie parameter"
    );
}

/// `SPEC` with an optional `siteId` query parameter on both operations,
/// declared with `x-client-default: site` (the text after `siteId`'s
/// schema replaces `EXTRA`).
fn with_site(extra: &str) -> String {
    let site = format!(
        "        - name: siteId\n          in: query\n          required: false\n          description: The site.\n{extra}          schema:\n            type: string\n"
    );
    SPEC.replace(
        "          description: ID of the lamp.\n          schema:\n            type: string\n",
        &format!(
            "          description: ID of the lamp.\n          schema:\n            type: string\n{site}"
        ),
    )
}

#[test]
fn a_client_default_gives_the_client_builder_one_setter_and_each_call_a_fallback() {
    let out = generate(&with_site("          x-client-default: site\n")).unwrap();
    assert_eq!(out.matches("impl crate::ClientBuilder").count(), 1, "{out}");
    assert_eq!(out.matches("pub fn site(").count(), 1, "{out}");
    assert!(
        out.contains("self.default_parameter(\"site\", value.into())"),
        "{out}"
    );
    assert_eq!(
        out.matches(".default_parameter(\"site\")").count(),
        2,
        "one fallback per operation: {out}"
    );
}

#[test]
fn without_a_client_default_the_client_builder_gets_no_setter() {
    let out = generate(&with_site("")).unwrap();
    assert!(!out.contains("impl crate::ClientBuilder"), "{out}");
    assert!(!out.contains("default_parameter"), "{out}");
}

#[test]
fn a_client_default_on_a_required_parameter_is_refused_naming_it() {
    let spec = with_site("          x-client-default: site\n")
        .replace("          required: false\n", "          required: true\n");
    let error = generate(&spec).unwrap_err();
    assert!(
        error.contains(
            "parameter siteId: invalid x-client-default — x-client-default is taken on optional text query parameters only"
        ),
        "{error}"
    );
}

#[test]
fn every_builder_has_per_call_settings_and_a_parameter_of_their_names_gets_its_place_as_suffix() {
    let out = generate(SPEC).unwrap();
    for setter in [
        "pub fn retry(mut self, policy: crate::RetryPolicy)",
        "pub fn budget(mut self, budget: ::std::time::Duration)",
        "pub fn timeout(mut self, timeout: ::std::time::Duration)",
    ] {
        assert_eq!(out.matches(setter).count(), 2, "{setter}: {out}");
    }
    // The builder's own `timeout` stays; the parameter's setter is named
    // after its place, and it is still sent as `timeout`.
    let spec = with_site("").replace("name: siteId", "name: timeout");
    let out = generate(&spec).unwrap();
    assert_eq!(
        out.matches("pub fn timeout(mut self, timeout: ::std::time::Duration)")
            .count(),
        2,
        "{out}"
    );
    assert!(out.contains("pub fn timeout_query("), "{out}");
    assert!(
        out.contains(r#"("timeout", timeout_query.as_deref())"#),
        "{out}"
    );
}

/// `SPEC` with an error answer on `getLamp` whose schema is `Problem`,
/// marked `x-documentation-only: DOC_ONLY`.
fn with_problem(doc_only: &str) -> String {
    SPEC.replacen(
        "      responses:\n        \"200\":\n          description: The lamp.\n",
        "      responses:\n        \"404\":\n          description: No such lamp.\n          content:\n            application/json:\n              schema:\n                $ref: \"#/components/schemas/Problem\"\n        \"200\":\n          description: The lamp.\n",
        1,
    )
    .replacen(
        "components:\n  schemas:\n",
        &format!(
            "components:\n  schemas:\n    Problem:\n      type: object\n      x-documentation-only: {doc_only}\n      description: An error body.\n      properties:\n        message:\n          type: string\n          description: What went wrong.\n"
        ),
        1,
    )
}

#[test]
fn a_documentation_only_schema_gets_no_type() {
    let out = generate(&with_problem("true")).unwrap();
    assert!(!out.contains("pub struct Problem"), "{out}");
    let out = generate(&with_problem("false")).unwrap();
    assert!(out.contains("pub struct Problem"), "{out}");
}

#[test]
fn a_success_answer_of_a_documentation_only_schema_is_refused() {
    let spec = with_problem("true").replacen(
        "$ref: \"#/components/schemas/LampDetails\"",
        "$ref: \"#/components/schemas/Problem\"",
        1,
    );
    let error = generate(&spec).unwrap_err();
    assert!(
        error.contains("getLamp › responses: documentation-only schema sent or answered — Problem"),
        "{error}"
    );
}
