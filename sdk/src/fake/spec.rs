//! Routing and body checks read from the spec the crate embeds, so the fake
//! refuses exactly what the spec refuses.

use serde_json::{Map, Value, json};

/// The operations of the spec, ready to match requests against.
pub(crate) struct Spec {
    /// The path of the spec's first server URL, as segments (`["v1"]`).
    base: Vec<String>,
    operations: Vec<Operation>,
}

/// One operation of the spec.
pub(crate) struct Operation {
    /// The spec's `operationId`.
    pub(crate) id: String,
    /// The success status the spec declares (the first `2xx`).
    pub(crate) success: u16,
    /// The HTTP method, upper case.
    method: String,
    template: Vec<Part>,
    body: Option<Body>,
}

struct Body {
    required: bool,
    validator: jsonschema::Validator,
    /// The body's schema, and the components its `$ref`s point into.
    schema: Value,
    components: Value,
    /// The top-level properties the body's schema declares.
    properties: Vec<String>,
}

enum Part {
    Literal(String),
    Param(String),
}

/// Where a request path leads.
pub(crate) enum Route<'a> {
    /// An operation, with its path parameters by name.
    Found(&'a Operation, Vec<(String, String)>),
    /// A known path, but no operation for the method.
    MethodNotAllowed,
    /// No path of the spec.
    NotFound,
}

/// What is wrong with a request body.
pub(crate) enum BodyProblem {
    /// The operation requires a body and none came.
    Missing,
    /// The body is not JSON.
    NotJson(String),
    /// The body breaks the schema; one description per problem.
    Invalid(Vec<String>),
}

impl Spec {
    /// Reads the spec embedded in the crate.
    pub(crate) fn load() -> Result<Self, String> {
        Self::from_json(crate::generated::spec::OPENAPI_JSON)
    }

    fn from_json(text: &str) -> Result<Self, String> {
        let spec: Value =
            serde_json::from_str(text).map_err(|e| format!("the spec is not JSON: {e}"))?;
        let server = spec
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .ok_or("the spec has no server URL")?;
        let server = url::Url::parse(server)
            .map_err(|e| format!("the spec's server URL {server:?} is not a URL: {e}"))?;
        let base = segments_of(server.path());
        let components = spec.get("components").cloned().unwrap_or(Value::Null);
        let mut operations = Vec::new();
        let paths = spec
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("the spec has no paths")?;
        for (template, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, operation) in item {
                if !matches!(
                    method.as_str(),
                    "get" | "put" | "post" | "patch" | "delete" | "head" | "options"
                ) {
                    continue;
                }
                let id = operation
                    .get("operationId")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{method} {template} has no operationId"))?;
                let body = match operation.get("requestBody") {
                    Some(request_body) => Some(Body::new(id, request_body, &components)?),
                    None => None,
                };
                let success = operation
                    .get("responses")
                    .and_then(Value::as_object)
                    .and_then(|responses| {
                        responses
                            .keys()
                            .filter_map(|status| status.parse::<u16>().ok())
                            .find(|status| (200..300).contains(status))
                    })
                    .ok_or_else(|| format!("{id} declares no success status"))?;
                operations.push(Operation {
                    id: id.to_string(),
                    success,
                    method: method.to_ascii_uppercase(),
                    template: segments_of(template)
                        .into_iter()
                        .map(|segment| {
                            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                                Some(name) => Part::Param(name.to_string()),
                                None => Part::Literal(segment),
                            }
                        })
                        .collect(),
                    body,
                });
            }
        }
        Ok(Self { base, operations })
    }

    /// Finds the operation for `method` on `segments` (decoded, base path
    /// included).
    pub(crate) fn route(&self, method: &str, segments: &[String]) -> Route<'_> {
        let Some(rest) = segments.strip_prefix(self.base.as_slice()) else {
            return Route::NotFound;
        };
        // A literal segment wins over a parameter, as on Webex:
        // `callPickups/availableUsers` is not the call pickup
        // `availableUsers`. The path that matches with the most literal
        // segments is the one meant.
        let mut best: Option<(usize, Vec<&Operation>)> = None;
        for operation in &self.operations {
            if operation.matches(rest).is_none() {
                continue;
            }
            let literals = operation
                .template
                .iter()
                .filter(|part| matches!(part, Part::Literal(_)))
                .count();
            match &mut best {
                Some((most, found)) if *most == literals => found.push(operation),
                Some((most, _)) if *most > literals => {}
                _ => best = Some((literals, vec![operation])),
            }
        }
        let Some((_, found)) = best else {
            return Route::NotFound;
        };
        match found
            .into_iter()
            .find(|operation| operation.method == method)
        {
            Some(operation) => match operation.matches(rest) {
                Some(params) => Route::Found(operation, params),
                None => Route::NotFound,
            },
            None => Route::MethodNotAllowed,
        }
    }

    /// The operation with this `operationId`.
    pub(crate) fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|operation| operation.id == id)
    }
}

impl Operation {
    fn matches(&self, segments: &[String]) -> Option<Vec<(String, String)>> {
        if segments.len() != self.template.len() {
            return None;
        }
        let mut params = Vec::new();
        for (part, segment) in self.template.iter().zip(segments) {
            match part {
                Part::Literal(literal) if literal == segment => {}
                Part::Literal(_) => return None,
                // Every path parameter of the spec has `minLength: 1`.
                Part::Param(_) if segment.is_empty() => return None,
                Part::Param(name) => params.push((name.clone(), segment.clone())),
            }
        }
        Some(params)
    }

    /// Parses the raw body and checks it against the operation's schema.
    /// Returns the body as JSON (`Null` when there is none and none is
    /// required).
    pub(crate) fn check_body(&self, raw: &[u8]) -> Result<Value, BodyProblem> {
        let Some(body) = &self.body else {
            return Ok(Value::Null);
        };
        if raw.iter().all(u8::is_ascii_whitespace) {
            return if body.required {
                Err(BodyProblem::Missing)
            } else {
                Ok(Value::Null)
            };
        }
        let value: Value =
            serde_json::from_slice(raw).map_err(|e| BodyProblem::NotJson(e.to_string()))?;
        let problems: Vec<String> = body
            .validator
            .iter_errors(&value)
            .map(|error| {
                let at = field_path(&value, error.instance_path().as_str());
                if at.is_empty() {
                    format!("the body: {error}")
                } else {
                    format!("{at}: {error}")
                }
            })
            .collect();
        if problems.is_empty() {
            Ok(value)
        } else {
            Err(BodyProblem::Invalid(problems))
        }
    }

    /// Checks `value` as this operation's body, and also refuses any field
    /// its schema does not declare, at any depth: seed data with a typo
    /// would otherwise be stored and never read back.
    pub(crate) fn check_seed(&self, value: &Value) -> Result<(), Vec<String>> {
        let Some(body) = &self.body else {
            return Err(vec![format!("{} takes no body", self.id)]);
        };
        let mut problems: Vec<String> = body
            .validator
            .iter_errors(value)
            .map(|error| {
                let at = field_path(value, error.instance_path().as_str());
                if at.is_empty() {
                    format!("the settings: {error}")
                } else {
                    format!("{at}: {error}")
                }
            })
            .collect();
        undeclared(&body.schema, &body.components, value, "", &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Keeps the top-level fields the operation's schema declares.
    pub(crate) fn declared_fields(&self, body: &Value) -> Map<String, Value> {
        let (Some(declared), Some(body)) = (&self.body, body.as_object()) else {
            return Map::new();
        };
        body.iter()
            .filter(|(name, _)| declared.properties.iter().any(|p| p == *name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }
}

impl Body {
    fn new(operation: &str, request_body: &Value, components: &Value) -> Result<Self, String> {
        let schema = request_body
            .pointer("/content/application~1json/schema")
            .ok_or_else(|| format!("{operation} has no application/json body schema"))?;
        // The schema's `$ref`s point into `#/components`, so the schema is
        // checked inside a document that carries them. OpenAPI 3.0 schemas
        // are JSON Schema draft 4 with extra keywords, which a draft 4
        // validator ignores; draft 4 also counts `20.0` as no integer, as
        // Webex does.
        let document = json!({ "allOf": [schema], "components": components });
        let validator = jsonschema::draft4::new(&document)
            .map_err(|e| format!("the body schema of {operation} does not compile: {e}"))?;
        let resolved = resolve(schema, components);
        let properties = resolved
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        Ok(Self {
            required: request_body
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            validator,
            properties,
            schema: schema.clone(),
            components: components.clone(),
        })
    }
}

/// Follows a local `#/components/...` reference, once.
fn resolve<'a>(schema: &'a Value, components: &'a Value) -> Option<&'a Value> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => components.pointer(reference.strip_prefix("#/components")?),
        None => Some(schema),
    }
}

/// Every field of `value` that `schema` does not declare, as
/// `at: ... is not a field of the spec`.
fn undeclared(schema: &Value, components: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let Some(schema) = resolve(schema, components) else {
        return;
    };
    match value {
        Value::Object(fields) => {
            let Some(declared) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            for (name, field) in fields {
                let path = if at.is_empty() {
                    name.clone()
                } else {
                    format!("{at}.{name}")
                };
                match declared.get(name) {
                    Some(property) => undeclared(property, components, field, &path, out),
                    None => out.push(format!("{path}: is not a field of the spec")),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    undeclared(
                        item_schema,
                        components,
                        item,
                        &format!("{at}[{index}]"),
                        out,
                    );
                }
            }
        }
        _ => {}
    }
}

fn segments_of(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A JSON pointer into `value` written the way the SDK names fields:
/// `agents[0].weight`.
fn field_path(value: &Value, pointer: &str) -> String {
    let mut out = String::new();
    let mut current = Some(value);
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        match current {
            Some(Value::Array(items)) => {
                out.push('[');
                out.push_str(&token);
                out.push(']');
                current = token.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            _ => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&token);
                current = current.and_then(|v| v.get(&token));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec::load().expect("the embedded spec loads")
    }

    fn operation<'a>(spec: &'a Spec, id: &str) -> &'a Operation {
        spec.operations
            .iter()
            .find(|o| o.id == id)
            .expect("operation")
    }

    fn problems(spec: &Spec, id: &str, body: &str) -> Vec<String> {
        match operation(spec, id).check_body(body.as_bytes()) {
            Err(BodyProblem::Invalid(problems)) => problems,
            Err(BodyProblem::NotJson(e)) => panic!("not JSON: {e}"),
            Err(BodyProblem::Missing) => panic!("missing"),
            Ok(_) => Vec::new(),
        }
    }

    #[test]
    fn every_operation_is_routed_under_the_server_path() {
        let spec = spec();
        match spec.route(
            "PUT",
            &segments_of("/v1/telephony/config/locations/L/huntGroups/H"),
        ) {
            Route::Found(operation, params) => {
                assert_eq!(operation.id, "updateHuntGroup");
                assert_eq!(
                    params,
                    vec![
                        ("locationId".to_string(), "L".to_string()),
                        ("huntGroupId".to_string(), "H".to_string())
                    ]
                );
            }
            _ => panic!("not routed"),
        }
        assert!(matches!(
            spec.route(
                "PUT",
                &segments_of("/telephony/config/locations/L/huntGroups/H")
            ),
            Route::NotFound
        ));
        assert!(matches!(
            spec.route(
                "PATCH",
                &segments_of("/v1/telephony/config/locations/L/callPickups/C")
            ),
            Route::MethodNotAllowed
        ));
        // A literal segment wins over a parameter in the same place.
        match spec.route(
            "GET",
            &segments_of("/v1/telephony/config/locations/L/callPickups/availableUsers"),
        ) {
            Route::Found(operation, _) => assert_eq!(operation.id, "listCallPickupAvailableAgents"),
            _ => panic!("not routed"),
        }
        match spec.route(
            "GET",
            &segments_of("/v1/telephony/config/locations/L/huntGroups/availableNumbers"),
        ) {
            Route::Found(operation, _) => {
                assert_eq!(operation.id, "getHuntGroupPrimaryAvailablePhoneNumbers");
            }
            _ => panic!("not routed"),
        }
        assert!(matches!(
            spec.route(
                "PUT",
                &segments_of("/v1/telephony/config/locations/L/callPickups/availableUsers")
            ),
            Route::MethodNotAllowed
        ));
        assert!(matches!(
            spec.route(
                "GET",
                &segments_of("/v1/telephony/config/locations/L/callPickups/C")
            ),
            Route::Found(operation, _) if operation.id == "getCallPickup"
        ));
    }

    #[test]
    fn the_spec_examples_pass() {
        let spec = spec();
        let document: Value = serde_json::from_str(crate::generated::spec::OPENAPI_JSON).unwrap();
        for (id, pointer) in [
            (
                "updateCallPickup",
                "/paths/~1telephony~1config~1locations~1{locationId}~1callPickups~1{callPickupId}/put/requestBody/content/application~1json/example",
            ),
            (
                "updateHuntGroup",
                "/paths/~1telephony~1config~1locations~1{locationId}~1huntGroups~1{huntGroupId}/put/requestBody/content/application~1json/example",
            ),
        ] {
            let example = document.pointer(pointer).expect("example").to_string();
            assert_eq!(problems(&spec, id, &example), Vec::<String>::new(), "{id}");
        }
    }

    #[test]
    fn problems_name_the_field_path() {
        let spec = spec();
        let found = problems(
            &spec,
            "updateHuntGroup",
            r#"{"agents": [{"id": "a"}, {"id": "b", "weight": "101"}]}"#,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("agents[1].weight: "), "{found:?}");

        let found = problems(
            &spec,
            "updateHuntGroup",
            r#"{"callPolicies": {"policy": "BOGUS"}}"#,
        );
        assert!(
            found.iter().any(|p| p.starts_with("callPolicies.policy: ")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("callPolicies: ") && p.contains("noAnswer")),
            "{found:?}"
        );
    }

    #[test]
    fn counts_must_be_json_integers() {
        let spec = spec();
        let found = problems(
            &spec,
            "updateCallPickup",
            r#"{"notificationDelayTimerSeconds": 20.0}"#,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("notificationDelayTimerSeconds: "),
            "{found:?}"
        );
    }

    #[test]
    fn an_81_character_name_and_11_alternate_numbers_are_refused() {
        let spec = spec();
        let name = "x".repeat(81);
        assert_eq!(
            problems(
                &spec,
                "updateCallPickup",
                &format!(r#"{{"name": "{name}"}}"#)
            )
            .len(),
            1
        );
        let numbers = vec![json!({"phoneNumber": "1"}); 11];
        let body = json!({ "alternateNumbers": numbers }).to_string();
        let found = problems(&spec, "updateHuntGroup", &body);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("alternateNumbers: "), "{found:?}");
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_at_the_top() {
        let spec = spec();
        let found = problems(&spec, "updateCallPickup", "[1]");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("the body: "), "{found:?}");
    }

    #[test]
    fn only_declared_fields_are_kept() {
        let spec = spec();
        let kept = operation(&spec, "updateCallPickup")
            .declared_fields(&json!({"name": "a", "id": "forged", "agents": []}));
        assert_eq!(Value::Object(kept), json!({"name": "a", "agents": []}));
    }
}
