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

/// Lets Leptos run its scheduled effects.
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
