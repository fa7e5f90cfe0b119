//! The generator's output for each fixture spec of `codegen/tests/fixtures/`
//! (its committed snapshot), compiled into this crate and called against a
//! scripted server on loopback: a snapshot that does not compile, or sends
//! the wrong request, fails here.

// A fixture's generated code is only partly called, and is held to the
// lints of generated code, not of hand-written code.
#![allow(dead_code, unused_imports, clippy::all)]

#[path = "../../tests/src/scripted.rs"]
mod scripted;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/get-200-query-params-inline-response/mod.rs"]
mod get_200_query_params_inline_response;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/delete-204-path-level-params/mod.rs"]
mod delete_204_path_level_params;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/post-201-required-body-without-example/mod.rs"]
mod post_201_required_body_without_example;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/operation-ids-acronyms-hyphens-shared-prefix/mod.rs"]
mod operation_ids_acronyms_hyphens_shared_prefix;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/put-200-enum-bounded-string/mod.rs"]
mod put_200_enum_bounded_string;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/put-204-optional-array/mod.rs"]
mod put_204_optional_array;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/nested-inline-objects-component-kinds-allof-oneof/mod.rs"]
mod nested_inline_objects_component_kinds_allof_oneof;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/headers-array-queries-statuses-bytes/mod.rs"]
mod headers_array_queries_statuses_bytes;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/names-that-collide/mod.rs"]
mod names_that_collide;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/websocket-101-upgrade/mod.rs"]
mod websocket_101_upgrade;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/form-body-number-components-moved-properties/mod.rs"]
mod form_body_number_components_moved_properties;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/property-names-that-collide-nullable-object/mod.rs"]
mod property_names_that_collide_nullable_object;

// Formatted by the generator, as the SDK's own generated code is.
#[rustfmt::skip]
#[path = "../../codegen/tests/snapshots/put-204-ecma-262-patterns/mod.rs"]
mod put_204_ecma_262_patterns;

use scripted::{Reply, Script, ScriptedServer};
use serde_json::json;

use crate::{Client, Error, RetryPolicy};

async fn serve(reply: Reply) -> (ScriptedServer, Client) {
    let server = ScriptedServer::start(Script::new().then(reply)).await;
    let client = Client::builder()
        .token("fixture-token")
        .base_url(server.base_url())
        .retry(RetryPolicy::none())
        .build()
        .expect("a client for the scripted server");
    (server, client)
}

fn violations(error: &Error) -> Vec<String> {
    error
        .invalid_input()
        .unwrap_or_else(|| panic!("expected invalid input, got {error}"))
        .violations()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[tokio::test]
async fn a_get_sends_its_required_and_set_query_parameters_and_reads_an_inline_response() {
    let (server, client) = serve(Reply::json(200, json!({ "items": ["cog"] }))).await;
    let page = client
        .list_gadgets()
        .kind("gear wheel")
        .max(10)
        .name("c&g")
        .send()
        .await
        .unwrap();
    assert_eq!(page.items, ["cog"]);
    let request = &server.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.target,
        "/v1/gadgets?kind=gear%20wheel&max=10&name=c%26g"
    );
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn a_get_refuses_a_missing_required_query_parameter_and_a_bound_before_sending() {
    let (server, client) = serve(Reply::status(500)).await;
    let error = client.list_gadgets().max(101).send().await.unwrap_err();
    assert_eq!(
        violations(&error),
        ["kind: is required", "max: at most 100, got 101"]
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn path_level_parameters_reach_every_operation_of_the_path() {
    let (server, client) = serve(Reply::json(200, json!({ "id": "s/1", "teeth": 12 }))).await;
    let sprocket = client
        .get_sprocket()
        .sprocket_id("s/1")
        .send()
        .await
        .unwrap();
    assert_eq!(sprocket.teeth, Some(12));
    assert_eq!(server.requests()[0].target, "/v1/sprockets/s%2F1");

    let (server, client) = serve(Reply::status(204)).await;
    client
        .delete_sprocket()
        .sprocket_id("s1")
        .force(true)
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.method, "DELETE");
    assert_eq!(request.target, "/v1/sprockets/s1?force=true");
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn a_post_with_an_inline_body_of_required_fields_is_answered_201_with_a_body() {
    use post_201_required_body_without_example::types::CreateCrateBody;
    let (server, client) = serve(Reply::json(201, json!({ "id": "c1", "label": "Tools" }))).await;
    let created = client
        .create_crate()
        .body(CreateCrateBody::new("Tools", 4))
        .send()
        .await
        .unwrap();
    assert_eq!(created.id, "c1");
    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/v1/crates");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&request.body).unwrap(),
        json!({ "label": "Tools", "slots": 4 })
    );
}

#[tokio::test]
async fn a_body_with_required_fields_must_be_set_and_keep_its_rules() {
    use post_201_required_body_without_example::types::CreateCrateBody;
    let (server, client) = serve(Reply::status(500)).await;
    let error = client.create_crate().send().await.unwrap_err();
    assert_eq!(violations(&error), ["body: is required"]);
    let error = client
        .create_crate()
        .body(CreateCrateBody::new("", 0))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        violations(&error),
        [
            "label: at least 1 character, got 0",
            "slots: at least 1, got 0"
        ]
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn operation_ids_with_acronyms_and_hyphens_become_progenitor_method_names() {
    let (server, client) = serve(Reply::json(200, json!({ "title": "Doc" }))).await;
    let panel = client.get_xml_data().doc_id("d1").send().await.unwrap();
    assert_eq!(panel.title.as_deref(), Some("Doc"));
    assert_eq!(server.requests()[0].target, "/v1/documents/d1/xml");

    let (server, client) = serve(Reply::status(204)).await;
    client.list_reports().send().await.unwrap();
    assert_eq!(server.requests()[0].target, "/v1/reports");
}

#[tokio::test]
async fn operations_whose_ids_share_a_prefix_each_send_their_own_request() {
    use operation_ids_acronyms_hyphens_shared_prefix::types::{Panel, PanelAgents};
    let (server, client) = serve(Reply::status(204)).await;
    client
        .update_panel()
        .panel_id("p1")
        .body(Panel::new().title("Front"))
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.target, "/v1/panels/p1");
    assert_eq!(request.body_text(), r#"{"title":"Front"}"#);

    let (server, client) = serve(Reply::json(200, json!({ "title": "Front" }))).await;
    let panel = client
        .update_panel_agents()
        .panel_id("p1")
        .body(PanelAgents::new(["a1".to_string()]))
        .send()
        .await
        .unwrap();
    assert_eq!(panel.title.as_deref(), Some("Front"));
    let request = &server.requests()[0];
    assert_eq!(request.target, "/v1/panels/p1/agents");
    assert_eq!(request.body_text(), r#"{"agents":["a1"]}"#);
}

#[tokio::test]
async fn a_put_answered_200_returns_its_body() {
    use put_200_enum_bounded_string::types::{Colour, RenameThing};
    let (server, client) = serve(Reply::json(200, json!({ "id": "t2" }))).await;
    let renamed = client
        .rename_thing()
        .thing_id("t1")
        .body(RenameThing::new().name("Lamp").colour(Colour::Red))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.id, "t2");
    assert_eq!(server.requests()[0].method, "PUT");
}

#[tokio::test]
async fn values_that_pass_ecma_262_look_around_and_back_references_are_sent() {
    use put_204_ecma_262_patterns::types::SetCode;
    let (server, client) = serve(Reply::status(204)).await;
    client
        .set_code()
        .code_id("front-door")
        .body(SetCode::new().code("A12").quoted("\"x\""))
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.target, "/v1/codes/front-door");
    assert_eq!(request.body_text(), r#"{"code":"A12","quoted":"\"x\""}"#);
}

#[tokio::test]
async fn values_that_fail_look_ahead_look_behind_or_a_back_reference_are_refused_before_sending() {
    use put_204_ecma_262_patterns::types::SetCode;
    let (server, client) = serve(Reply::status(500)).await;
    let error = client
        .set_code()
        .code_id("front-")
        .body(SetCode::new().code("1AB").quoted("'x\""))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        violations(&error),
        [
            "codeId: must match `^[a-z0-9-]+(?<!-)$`, got \"front-\"",
            "code: must start with a capital letter, then capitals and digits, got \"1AB\"",
            "quoted: must match `^(['\"]).*\\1$`, got \"'x\\\"\"",
        ]
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_put_answered_204_sends_an_empty_list_when_set() {
    use put_204_optional_array::types::FillBox;
    let (server, client) = serve(Reply::status(204)).await;
    client
        .fill_box()
        .box_id("b1")
        .note("n")
        .body(FillBox::new().items(Vec::<String>::new()))
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.target, "/v1/boxes/b1?note=n");
    assert_eq!(request.body_text(), r#"{"items":[]}"#);
}

#[tokio::test]
async fn nested_inline_objects_arrays_of_them_and_components_of_every_kind_are_sent_as_set() {
    use nested_inline_objects_component_kinds_allof_oneof::types::{
        Colour, Shape, UpdateWidgetBody, UpdateWidgetBodyMembersItem, UpdateWidgetBodyMode,
        UpdateWidgetBodySettings, UpdateWidgetBodySettingsNoAnswer,
    };
    let (server, client) = serve(Reply::json(
        200,
        json!({
            "id": "w1",
            "colour": "RED",
            "shape": { "radius": 3 },
            "createdAt": "2026-12-03T08:00:00Z",
            "serial": "9b2e4a1c-7d3f-4f6e-8a9b-0c1d2e3f4a5b"
        }),
    ))
    .await;
    let body = UpdateWidgetBody::new()
        .name("Lamp".to_string())
        .mode(UpdateWidgetBodyMode::Fast)
        .settings(
            UpdateWidgetBodySettings::new().no_answer(UpdateWidgetBodySettingsNoAnswer::new(3)),
        )
        .members([UpdateWidgetBodyMembersItem::new("m1").weight(50.0)])
        .tags(vec!["a".to_string()])
        .labels(std::collections::HashMap::from([(
            "k".to_string(),
            "v".to_string(),
        )]))
        .colour(Colour::Blue);
    let widget = client
        .update_widget()
        .widget_id("w1")
        .body(&body)
        .send()
        .await
        .unwrap();
    // The allOf's members are one struct; the oneOf decodes as typify renders it.
    assert_eq!(widget.id, "w1");
    assert_eq!(widget.colour, Some(Colour::Red));
    assert_eq!(widget.shape, Shape::Radius(3));
    assert_eq!(widget.created_at.as_deref(), Some("2026-12-03T08:00:00Z"));
    assert_eq!(
        widget.serial.as_deref(),
        Some("9b2e4a1c-7d3f-4f6e-8a9b-0c1d2e3f4a5b")
    );
    let request = &server.requests()[0];
    assert_eq!(request.method, "PUT");
    assert_eq!(request.target, "/v1/widgets/w1");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&request.body).unwrap(),
        json!({
            "colour": "BLUE",
            "labels": { "k": "v" },
            "members": [{ "id": "m1", "weight": 50.0 }],
            "mode": "FAST",
            "name": "Lamp",
            "settings": { "noAnswer": { "rings": 3 } },
            "tags": ["a"]
        })
    );
}

#[tokio::test]
async fn the_rules_of_nested_objects_and_of_components_are_checked_with_their_paths() {
    use nested_inline_objects_component_kinds_allof_oneof::types::{
        UpdateWidgetBody, UpdateWidgetBodyMembersItem, UpdateWidgetBodySettings,
        UpdateWidgetBodySettingsNoAnswer,
    };
    let (server, client) = serve(Reply::status(500)).await;
    let body = UpdateWidgetBody::new()
        .name("Twelve chars".to_string())
        .settings(
            UpdateWidgetBodySettings::new().no_answer(UpdateWidgetBodySettingsNoAnswer::new(6)),
        )
        .members([UpdateWidgetBodyMembersItem::new("").weight(100.5)])
        .tags(vec!["a".to_string(), "b".to_string(), "c".to_string()]);
    let error = client
        .update_widget()
        .widget_id("w1")
        .body(body)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        violations(&error),
        [
            "members[0].id: at least 1 character, got 0",
            "members[0].weight: at most 100, got 100.5",
            "name: at most 10 characters, got 12",
            "settings.noAnswer.rings: at most 5, got 6",
            "tags: at most 2 items, got 3",
        ]
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_header_parameter_and_array_query_parameters_are_sent_and_the_answer_headers_kept() {
    use headers_array_queries_statuses_bytes::types::ListJournalsOrder;
    let reply = Reply::json(
        200,
        json!({ "items": [{ "id": "9b2e4a1c-7d3f-4f6e-8a9b-0c1d2e3f4a5b", "at": "2026-12-03T08:00:00Z" }] }),
    )
    .header("Link", "<http://127.0.0.1/reports?page=2>; rel=\"next\"");
    let (server, client) = serve(reply).await;
    let page = client
        .list_journals()
        .timezone("Europe/Paris")
        .name(["a b", "c"])
        .ids([1, 2])
        .order(ListJournalsOrder::Desc)
        .send_with_meta()
        .await
        .unwrap();
    let items = page.items.as_ref().unwrap();
    assert_eq!(items[0].id, "9b2e4a1c-7d3f-4f6e-8a9b-0c1d2e3f4a5b");
    assert_eq!(items[0].at.as_deref(), Some("2026-12-03T08:00:00Z"));
    assert_eq!(
        page.headers().get("link").unwrap(),
        "<http://127.0.0.1/reports?page=2>; rel=\"next\""
    );
    let request = &server.requests()[0];
    assert_eq!(
        request.target,
        "/v1/reports?order=desc&name=a%20b&name=c&ids=1&ids=2"
    );
    assert_eq!(request.header("timezone"), Some("Europe/Paris"));
}

#[tokio::test]
async fn a_header_value_a_header_cannot_carry_and_a_list_too_long_are_refused_before_sending() {
    let (server, client) = serve(Reply::status(500)).await;
    let error = client
        .list_journals()
        .timezone("Europe/Paris\r\nX-Other: 1")
        .ids([1, 2, 3, 4])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        violations(&error),
        [
            "timezone: must not contain control characters, which a header cannot carry",
            "ids: at most 3 items, got 4",
        ]
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn several_success_statuses_answer_a_body_or_none() {
    let (server, client) = serve(Reply::json(200, json!({ "rows": 7 }))).await;
    let result = client.run_journal().report_id("r1").send().await.unwrap();
    assert_eq!(result.and_then(|r| r.rows), Some(7));
    assert_eq!(server.requests()[0].target, "/v1/reports/r1/run");

    let (_server, client) = serve(Reply::status(202)).await;
    let answer = client
        .run_journal()
        .report_id("r1")
        .send_with_meta()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    assert_eq!(*answer, None);
}

#[tokio::test]
async fn a_success_body_that_is_not_json_is_returned_as_bytes() {
    let (server, client) = serve(Reply::text(200, "text/csv", "a,b\n1,2\n")).await;
    let csv = client
        .download_journal()
        .report_id("r1")
        .send()
        .await
        .unwrap();
    assert_eq!(&csv[..], b"a,b\n1,2\n");
    let request = &server.requests()[0];
    assert_eq!(request.target, "/v1/reports/r1/file");
    assert_eq!(request.header("accept"), Some("text/csv"));
}

#[tokio::test]
async fn colliding_names_are_told_apart_and_each_sends_its_own_request() {
    let (server, client) = serve(Reply::status(204)).await;
    client
        .read_the_list_of_things()
        .client_query("c")
        .url_query("u")
        .send_query(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        server.requests()[0].target,
        "/v1/things?client=c&url=u&send=true"
    );

    let (server, client) = serve(Reply::status(204)).await;
    client.read_the_list_of_things_2().send().await.unwrap();
    assert_eq!(server.requests()[0].target, "/v1/other/things");

    let (server, client) = serve(Reply::status(204)).await;
    client
        .get_thing()
        .id("t1")
        .id_query("t2")
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests()[0].target, "/v1/things/t1?id=t2");

    let (server, client) = serve(Reply::status(204)).await;
    client.get_thing_2().id("t1").send().await.unwrap();
    assert_eq!(server.requests()[0].target, "/v1/things/t1/copy");

    let (server, client) = serve(Reply::status(204)).await;
    client.execute_operation().send().await.unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/v1/execute");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_sent_as_given_with_its_content_type() {
    let (server, client) = serve(Reply::status(204)).await;
    client
        .put_journal_note()
        .report_id("r1")
        .body("first line\nsecond")
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.method, "PUT");
    assert_eq!(request.target, "/v1/reports/r1/note");
    assert_eq!(request.header("content-type"), Some("text/plain"));
    assert_eq!(request.body_text(), "first line\nsecond");

    let (server, client) = serve(Reply::status(500)).await;
    let error = client
        .put_journal_note()
        .report_id("r1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(violations(&error), ["body: is required"]);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_websocket_operation_asks_to_switch_protocols_and_hands_over_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (server, client) = serve(Reply::switch_protocols()).await;
    let answer = client
        .stream_console()
        .console_id("c/1")
        .from(7)
        .send_with_meta()
        .await
        .unwrap();
    assert_eq!(answer.status(), 101);
    let request = &server.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.target, "/v1/consoles/c%2F1/stream?from=7");
    assert_eq!(request.header("connection"), Some("Upgrade"));
    assert_eq!(request.header("upgrade"), Some("websocket"));
    assert_eq!(request.header("sec-websocket-version"), Some("13"));
    assert_eq!(request.header("sec-websocket-key").map(str::len), Some(24));
    assert_eq!(
        request.header("authorization"),
        Some("Bearer fixture-token")
    );

    // The connection is the caller's: the server's greeting, then an echo
    // of what the caller writes.
    let mut connection = answer.into_value();
    let mut greeting = [0u8; 6];
    connection.read_exact(&mut greeting).await.unwrap();
    assert_eq!(&greeting, b"hello\n");
    connection.write_all(b"ping").await.unwrap();
    let mut echo = [0u8; 4];
    connection.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"ping");
}

#[tokio::test]
async fn a_websocket_operation_answered_without_a_switch_fails_naming_the_status() {
    let (_server, client) = serve(Reply::json(200, json!({ "not": "a socket" }))).await;
    let error = client
        .stream_console()
        .console_id("c1")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::NotUpgraded { status: 200, .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), Some(200));
    assert!(error.to_string().contains("answered 200 OK"), "{error}");
    assert!(
        error.to_string().contains("101 Switching Protocols"),
        "{error}"
    );

    let (_server, client) = serve(Reply::status(404)).await;
    let error = client
        .stream_console()
        .console_id("c1")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
}

#[tokio::test]
async fn a_websocket_operation_checks_its_parameters_before_asking_to_switch() {
    let (server, client) = serve(Reply::switch_protocols()).await;
    let error = client
        .stream_console()
        .console_id("c1")
        .from(-1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(violations(&error), ["from: at least 0, got -1"]);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_form_body_is_sent_url_encoded_with_each_item_of_a_list_as_a_field() {
    use form_body_number_components_moved_properties::types::CreateSignupBody;
    let (server, client) = serve(Reply::status(204)).await;
    client
        .create_signup()
        .body(
            CreateSignupBody::new("Ann & Bo")
                .count(2)
                .tags(vec!["a b".to_string(), "c".to_string()]),
        )
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        request.body_text(),
        "count=2&name=Ann+%26+Bo&tags=a+b&tags=c"
    );

    let (server, client) = serve(Reply::status(204)).await;
    let error = client
        .create_signup()
        .body(CreateSignupBody::new(""))
        .send()
        .await
        .unwrap_err();
    assert_eq!(violations(&error), ["name: at least 1 character, got 0"]);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn the_bounds_of_number_and_integer_components_are_checked_where_they_are_used() {
    use form_body_number_components_moved_properties::types::{Dial, Level, Percent};
    let (server, client) = serve(Reply::status(204)).await;
    let error = client
        .set_dial()
        .body(
            Dial::new()
                .percent(Percent(101))
                .levels(vec![Level(1.0), Level(10.0)]),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        violations(&error),
        [
            "levels[1]: at most 9.5, got 10",
            "percent: at most 100, got 101"
        ]
    );
    assert!(server.requests().is_empty());

    client
        .set_dial()
        .body(Dial::new().percent(Percent(100)).levels(vec![Level(0.5)]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&server.requests()[0].body).unwrap(),
        json!({ "percent": 100, "levels": [0.5] })
    );
}

#[tokio::test]
#[allow(deprecated, reason = "reads the deprecated property on purpose")]
async fn an_inline_object_property_keeps_its_alias_and_deprecation_and_a_tree_reads_back() {
    let answer = json!({
        "name": "root",
        "legacyLayout": { "columns": 3 },
        "children": [{ "name": "leaf", "children": [] }]
    });
    let (_server, client) = serve(Reply::json(200, answer)).await;
    let panel = client.get_panel().panel_id("p1").send().await.unwrap();
    assert_eq!(panel.old_layout.and_then(|layout| layout.columns), Some(3));
    let children = panel.children.unwrap();
    assert_eq!(children[0].name, "leaf");
}

#[tokio::test]
async fn properties_spelled_alike_keep_their_json_names_and_a_null_object_reads_as_none() {
    use property_names_that_collide_nullable_object::types::PutLabelBody;
    let (server, client) = serve(Reply::json(200, json!({ "owner": null }))).await;
    let answer = client
        .put_label()
        .body(
            PutLabelBody::new()
                .foo_bar("camel")
                .foo_bar_2("sn")
                .new_field(true),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.owner, None);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&server.requests()[0].body).unwrap(),
        json!({ "fooBar": "camel", "foo_bar": "sn", "new": true })
    );

    let (server, client) = serve(Reply::json(200, json!({ "owner": { "id": "o1" } }))).await;
    let error = client
        .put_label()
        .body(PutLabelBody::new().foo_bar_2("long"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(violations(&error), ["foo_bar: at most 3 characters, got 4"]);
    assert!(server.requests().is_empty());
    let answer = client.put_label().send().await.unwrap();
    assert_eq!(answer.owner.map(|owner| owner.id).as_deref(), Some("o1"));
}
