//! Component tests in headless Chromium: mount the app, read its DOM, click
//! as a user would.

use kafkasim_app::App;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Mounts a fresh app into its own container and returns the container.
fn mount() -> HtmlElement {
    // Each test starts from the scene, not from the last test's saved session.
    if let Some(s) = web_sys::window().unwrap().local_storage().unwrap() {
        s.clear().unwrap();
    }
    let host: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    leptos::mount::mount_to(host.clone(), App).forget();
    host
}

fn find(host: &Element, selector: &str) -> Element {
    host.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
}

/// Clicks any element, SVG included (SVG elements have no `click()`).
fn click(el: &Element) {
    let init = web_sys::MouseEventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
    el.dispatch_event(&ev).unwrap();
}

/// Lets Leptos run its scheduled effects, and what they left for the
/// next animation frames (the chips, a zoom of the diagram).
async fn settle() {
    for _ in 0..3 {
        any_spawner::Executor::tick().await;
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10)
                .unwrap();
        });
        wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
        let frame = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window()
                .unwrap()
                .request_animation_frame(&resolve)
                .unwrap();
        });
        wasm_bindgen_futures::JsFuture::from(frame).await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn the_diagram_shows_the_engines_cluster() {
    let host = mount();
    settle().await;
    for b in 1..=3 {
        find(&host, &format!("[aria-label='Broker {b}']"));
    }
    let leader = find(&host, "[aria-label='MyTopic-0 on broker 1 (leader)']");
    assert!(leader.class_list().contains("is-leader"));
    let follower = find(
        &host,
        "[aria-label='MyTopic-0 on broker 2 (follower, in sync)']",
    );
    assert!(!follower.class_list().contains("is-leader"));
    // Badges read without colour: L for the leader, F for an in-sync follower.
    assert_eq!(
        find(&leader, ".replica-badge").text_content().as_deref(),
        Some("L")
    );
    assert_eq!(
        find(&follower, ".replica-badge").text_content().as_deref(),
        Some("F")
    );
    host.remove();
}

#[wasm_bindgen_test]
async fn crash_broker_dispatches_a_command_and_greys_the_broker() {
    let host = mount();
    settle().await;
    let broker = find(&host, "[aria-label='Broker 1']");
    click(&broker);
    settle().await;
    let crash = host.query_selector_all("button").unwrap();
    let crash: HtmlElement = (0..crash.length())
        .filter_map(|i| crash.item(i))
        .find(|n| n.text_content().as_deref() == Some("Crash broker"))
        .expect("a Crash broker button")
        .unchecked_into();
    crash.click();
    settle().await;
    let column = broker.closest("g.broker").unwrap().unwrap();
    assert_eq!(column.get_attribute("data-status").as_deref(), Some("down"));
    host.remove();
}

/// The button whose text is exactly `text`.
fn button(host: &Element, text: &str) -> HtmlElement {
    let all = host.query_selector_all("button").unwrap();
    (0..all.length())
        .filter_map(|i| all.item(i))
        .find(|n| n.text_content().as_deref() == Some(text))
        .unwrap_or_else(|| panic!("no button {text}"))
        .unchecked_into()
}

/// The text of each cell of the table row whose header is `row`.
fn row_cells(table: &Element, row: &str) -> Vec<String> {
    let rows = table.query_selector_all("tbody tr").unwrap();
    let tr = (0..rows.length())
        .filter_map(|i| rows.item(i))
        .map(|n| n.unchecked_into::<Element>())
        .find(|tr| {
            tr.query_selector("th")
                .unwrap()
                .and_then(|th| th.text_content())
                .as_deref()
                == Some(row)
        })
        .unwrap_or_else(|| panic!("no row {row}"));
    let cells = tr.query_selector_all("td").unwrap();
    (0..cells.length())
        .filter_map(|i| cells.item(i))
        .map(|c| c.text_content().unwrap_or_default())
        .collect()
}

#[wasm_bindgen_test]
async fn the_partition_inspector_lists_leader_isr_and_each_log() {
    let host = mount();
    settle().await;
    button(&host, "Partitions").click();
    settle().await;
    let table = find(&host, "table[aria-label='Partitions of MyTopic']");
    // Quick start: P0 on [1,2], P1 on [2,3], P2 on [3,1].
    assert_eq!(
        row_cells(&table, "MyTopic-0")[..5],
        ["1", "1", "[1,2]", "[1,2]", "0"]
    );
    assert_eq!(row_cells(&table, "MyTopic-2")[2], "[3,1]");
    find(&host, "table[aria-label='Log of MyTopic-0']");
    host.remove();
}

#[wasm_bindgen_test]
async fn the_lost_records_tab_says_none_were_lost() {
    let host = mount();
    settle().await;
    let tab = button(&host, "Lost records (0)");
    assert_eq!(tab.get_attribute("role").as_deref(), Some("tab"));
    tab.click();
    settle().await;
    assert_eq!(tab.get_attribute("aria-selected").as_deref(), Some("true"));
    let body = find(&host, "[role='tabpanel']").text_content().unwrap();
    assert!(body.contains("0 of 0 acknowledged records lost"), "{body}");
    host.remove();
}

/// Sets a `<select>` (found by its accessible name) as a user's choice would.
fn choose(host: &Element, label: &str, value: &str) {
    let select: web_sys::HtmlSelectElement =
        find(host, &format!("select[aria-label='{label}']")).unchecked_into();
    select.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict("change", &init).unwrap();
    select.dispatch_event(&ev).unwrap();
}

/// The event log's lines, newest first.
fn log_lines(host: &Element) -> Vec<String> {
    let items = find(host, "ol[aria-label='Events, newest first']")
        .query_selector_all("li")
        .unwrap();
    (0..items.length())
        .filter_map(|i| items.item(i))
        .map(|n| n.text_content().unwrap_or_default())
        .collect()
}

/// A fresh app whose log tells of Broker 1 crashing and Producer 1 sending.
async fn crashed_broker_and_a_send() -> HtmlElement {
    let host = mount();
    settle().await;
    click(&find(&host, "[aria-label='Broker 1']"));
    settle().await;
    button(&host, "Crash broker").click();
    button(&host, "Produce").click();
    settle().await;
    host
}

#[wasm_bindgen_test]
async fn the_event_log_narrows_to_a_node_and_a_kind_of_event() {
    let host = crashed_broker_and_a_send().await;
    let all = log_lines(&host);
    assert!(
        all.iter().any(|l| l.contains("Broker 1 crashed.")),
        "{all:?}"
    );
    assert!(all.iter().any(|l| l.contains("Producer 1")), "{all:?}");

    choose(&host, "Node", "Broker 1");
    settle().await;
    let about_broker = log_lines(&host);
    assert!(!about_broker.is_empty());
    assert!(
        about_broker.iter().all(|l| l.contains("Broker 1")),
        "{about_broker:?}"
    );

    choose(&host, "Node", "");
    choose(&host, "Kind of event", "3"); // Producers
    settle().await;
    let producers = log_lines(&host);
    assert!(!producers.is_empty());
    assert!(
        producers.iter().all(|l| l.contains("Producer 1")),
        "{producers:?}"
    );
    host.remove();
}

/// The names of the lit nodes of the diagram, in document order.
fn lit(host: &Element) -> Vec<String> {
    let nodes = host.query_selector_all(".is-lit").unwrap();
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .filter_map(|e| e.get_attribute("aria-label"))
        .collect()
}

#[wasm_bindgen_test]
async fn a_lesson_step_narrates_highlights_and_moves_on() {
    let host = mount();
    settle().await;
    find(&host, "[aria-label='Lessons']")
        .unchecked_into::<HtmlElement>()
        .click();
    settle().await;
    find(&host, "[aria-label='Open lesson 6: Replication']")
        .unchecked_into::<HtmlElement>()
        .click();
    settle().await;
    let panel = find(&host, "[aria-label='Lesson']");
    let text = panel.text_content().unwrap();
    assert!(text.contains("Lesson 6 · Replication"), "{text}");
    assert!(text.contains("Step 1 of 8"), "{text}");
    // Step 1 points at every replica of the three partitions.
    let on = lit(&host);
    assert_eq!(on.len(), 6, "{on:?}");
    assert!(on.iter().all(|l| l.starts_with("MyTopic-")), "{on:?}");

    button(&host, "Next").click();
    settle().await;
    let text = find(&host, "[aria-label='Lesson']").text_content().unwrap();
    assert!(text.contains("Step 2 of 8"), "{text}");
    assert_eq!(
        lit(&host),
        vec![
            "MyTopic-0 on broker 1 (leader)",
            "MyTopic-2 on broker 1 (leader)",
            "MyTopic-1 on broker 2 (leader)",
        ]
    );
    assert!(button(&host, "Back").get_attribute("disabled").is_none());

    // Free play: the forms come back and nothing is lit.
    button(&host, "Try it yourself").click();
    settle().await;
    assert!(lit(&host).is_empty());
    find(&host, "[aria-label='Free play']");
    button(&host, "Back to lesson").click();
    settle().await;
    assert!(find(&host, "[aria-label='Lesson']")
        .text_content()
        .unwrap()
        .contains("Step 2 of 8"));
}

#[wasm_bindgen_test]
async fn messages_in_flight_are_drawn_on_the_chip_canvas_over_the_diagram() {
    let host = mount();
    settle().await;
    let canvas: web_sys::HtmlCanvasElement = find(&host, "canvas.chip-layer").unchecked_into();
    assert_eq!(canvas.get_attribute("aria-hidden").as_deref(), Some("true"));
    button(&host, "Produce").click();
    settle().await;
    for _ in 0..4 {
        if canvas.get_attribute("data-chips").as_deref() != Some("0") {
            break;
        }
        button(&host, "Step").click();
        settle().await;
    }
    let drawn: u32 = canvas
        .get_attribute("data-chips")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(drawn >= 1, "the produce request is drawn");
    // The canvas covers the diagram at the screen's resolution.
    let svg = find(&host, "svg.diagram");
    assert!(canvas.width() >= svg.client_width() as u32 && canvas.width() > 0);
    host.remove();
}

#[wasm_bindgen_test]
async fn while_playing_a_filter_change_shows_at_once_not_on_the_next_beat() {
    let host = crashed_broker_and_a_send().await;
    button(&host, "Play").click();
    settle().await;
    choose(&host, "Node", "Broker 1");
    // One turn of the effects, well under a beat (250 ms): new lines wait
    // for the beat while playing, a filter does not.
    any_spawner::Executor::tick().await;
    let lines = log_lines(&host);
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|l| l.contains("Broker 1")), "{lines:?}");
    button(&host, "Pause").click();
    settle().await;
    host.remove();
}

/// The same scenario gives the same run in the browser as natively: every
/// golden trace, computed here in wasm, has the digest the native test
/// committed (crates/engine/tests/golden/). A random draw whose width
/// depends on the platform (a `usize` range: 64 bits natively, 32 in wasm)
/// would make them differ.
#[wasm_bindgen_test]
fn golden_traces_are_the_same_in_wasm_as_natively() {
    use kafkasim_engine::run::golden::{digest_line, traces};
    let committed: [(&str, &str); 17] = [
        (
            "busy-kraft",
            include_str!("../../engine/tests/golden/busy-kraft.digest"),
        ),
        (
            "busy-zookeeper",
            include_str!("../../engine/tests/golden/busy-zookeeper.digest"),
        ),
        (
            "example-my-failover-lesson",
            include_str!("../../engine/tests/golden/example-my-failover-lesson.digest"),
        ),
        (
            "example-my-topic",
            include_str!("../../engine/tests/golden/example-my-topic.digest"),
        ),
        (
            "example-rolling-upgrade",
            include_str!("../../engine/tests/golden/example-rolling-upgrade.digest"),
        ),
        (
            "lesson-brokers-and-zookeeper",
            include_str!("../../engine/tests/golden/lesson-brokers-and-zookeeper.digest"),
        ),
        (
            "lesson-cluster-architecture",
            include_str!("../../engine/tests/golden/lesson-cluster-architecture.digest"),
        ),
        (
            "lesson-consumer-groups",
            include_str!("../../engine/tests/golden/lesson-consumer-groups.digest"),
        ),
        (
            "lesson-durability",
            include_str!("../../engine/tests/golden/lesson-durability.digest"),
        ),
        (
            "lesson-kafka-at-a-glance",
            include_str!("../../engine/tests/golden/lesson-kafka-at-a-glance.digest"),
        ),
        (
            "lesson-kraft",
            include_str!("../../engine/tests/golden/lesson-kraft.digest"),
        ),
        (
            "lesson-messaging-systems",
            include_str!("../../engine/tests/golden/lesson-messaging-systems.digest"),
        ),
        (
            "lesson-partitions-and-ordering",
            include_str!("../../engine/tests/golden/lesson-partitions-and-ordering.digest"),
        ),
        (
            "lesson-producing",
            include_str!("../../engine/tests/golden/lesson-producing.digest"),
        ),
        (
            "lesson-replication",
            include_str!("../../engine/tests/golden/lesson-replication.digest"),
        ),
        (
            "lesson-topics",
            include_str!("../../engine/tests/golden/lesson-topics.digest"),
        ),
        (
            "workload",
            include_str!("../../engine/tests/golden/workload.digest"),
        ),
    ];
    let traces = traces();
    let mut names: Vec<&str> = traces.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    let listed: Vec<&str> = committed.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, listed, "list each golden trace here");
    let differ: Vec<String> = traces
        .iter()
        .filter_map(|(name, trace)| {
            let (_, want) = committed.iter().find(|(n, _)| n == name)?;
            let got = digest_line(trace);
            (got != *want).then(|| format!("{name}: native {}, wasm {}", want.trim(), got.trim()))
        })
        .collect();
    assert!(
        differ.is_empty(),
        "traces differ in wasm:\n{}",
        differ.join("\n")
    );
}
