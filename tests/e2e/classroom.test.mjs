// The class as an instructor runs it: a diagram readable from the back row
// of a 1024x768 projector, questions whose set-up does not give the answer
// away, time that skips to what matters, and links that follow the lesson.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useApp, openApp, screenshot, crashBroker } from './harness.mjs';

const app = useApp();
const projector = { width: 1024, height: 768 };

/** The smallest on-screen type size (px) of each kind of diagram text in `root`. */
async function typeSizes(page, root = 'body') {
  return page.evaluate((root) => {
    const smallest = (selector) => {
      const sizes = [...document.querySelector(root).querySelectorAll(selector)]
        .filter((t) => t.getBoundingClientRect().height > 0)
        .map((t) => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
      return sizes.length ? Math.min(...sizes) : null;
    };
    return {
      broker: smallest('.broker-title'),
      node: smallest('.node-label'),
      group: smallest('.group-title'),
      replica: smallest('.replica-label'),
    };
  }, root);
}

/** Whether any two of the elements matched by `selector` overlap on screen. */
async function overlapping(page, selector) {
  return page.evaluate((selector) => {
    const boxes = [...document.querySelectorAll(selector)]
      .map((t) => ({ text: t.textContent, r: t.getBoundingClientRect() }))
      .filter((b) => b.r.height > 0);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i].r, boxes[j].r];
        const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (x > 2 && y > 2) return `${boxes[i].text} / ${boxes[j].text}`;
      }
    }
    return null;
  }, selector);
}

async function presentDiagramOnly(page) {
  await page.keyboard.press('p');
  await page.keyboard.press('d');
  await page.getByRole('button', { name: 'Show side panel' }).waitFor();
  await page.waitForTimeout(600); // the diagram eases to its new size
}

for (const [name, hash, root] of [
  ['the quick start', '', 'body'],
  ['lesson 3 (three producers, six consumers)', '#lesson=cluster-architecture&step=1', 'body'],
  ['lesson 11 (Compare, each side)', '#lesson=durability&step=4', '.compare-side'],
]) {
  test(`presenter mode at 1024x768 makes ${name} readable from the back row`, async () => {
    const { page, errors, context } = await openApp(app.browser, app.url + hash, projector);
    await presentDiagramOnly(page);
    const sizes = await typeSizes(page, root);
    assert.ok(sizes.broker >= 20, `broker titles ${sizes.broker} px`);
    assert.ok(sizes.node >= 20, `node titles ${sizes.node} px`);
    if (sizes.group !== null) assert.ok(sizes.group >= 20, `group titles ${sizes.group} px`);
    assert.ok(sizes.replica >= 15, `replica labels ${sizes.replica} px`);
    const clash = await overlapping(page, '.broker-title, .state-tag, .group-title, .group-caption, .node-label');
    assert.equal(clash, null, `overlapping text: ${clash}`);
    await screenshot(page, `classroom-presenter-1024-${hash ? hash.match(/=([a-z-]+)/)[1] : 'quickstart'}`);
    // The keys give the panels back.
    await page.keyboard.press('d');
    await page.getByRole('button', { name: 'Hide side panel' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('zoom keys and a pinch enlarge the diagram without touching the speed', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  const before = (await typeSizes(page)).broker;
  await page.keyboard.press(']');
  await page.keyboard.press(']');
  await page.waitForTimeout(100);
  const zoomed = (await typeSizes(page)).broker;
  assert.ok(zoomed > before * 1.4, `${before} -> ${zoomed}`);
  assert.equal(await page.getByRole('combobox', { name: 'Speed' }).inputValue(), '1');
  await page.keyboard.press('0');
  assert.equal((await typeSizes(page)).broker, before);
  // A trackpad pinch arrives as a wheel with Ctrl held.
  const svg = page.locator('svg.diagram');
  const box = await svg.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.keyboard.down('Control');
  for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -40);
  await page.keyboard.up('Control');
  assert.ok((await typeSizes(page)).broker > before, 'the pinch zoomed in');
  assert.deepEqual(errors, []);
  await context.close();
});

test('clicking a broker brings its actions into view, and Space still plays', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByRole('button', { name: 'Broker 2', exact: true }).click();
  const actions = page.getByRole('region', { name: 'Actions for Broker 2' });
  const crash = actions.getByRole('button', { name: 'Crash broker' });
  await crash.waitFor();
  const box = await crash.boundingBox();
  assert.ok(box.y >= 0 && box.y + box.height <= 720, `Crash broker at y=${box.y}`);
  await page.waitForFunction(() => document.activeElement?.textContent === 'Crash broker');
  // Space is Play / Pause, not a press of the focused button.
  await page.keyboard.press(' ');
  await page.getByRole('button', { name: 'Pause' }).waitFor();
  await page.keyboard.press(' ');
  await page.getByRole('button', { name: 'Play' }).waitFor();
  assert.equal(
    await page.locator('g.broker').filter({ has: page.getByRole('button', { name: 'Broker 2', exact: true }) }).getAttribute('data-status'),
    'up',
  );
  await screenshot(page, 'classroom-broker-actions-1280');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a question step shows only the set-up; what happened comes after the answer', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url + '#lesson=consumer-groups&step=2');
  const panel = page.getByRole('region', { name: 'Lesson' });
  await panel.getByRole('heading', { name: 'A second member joins' }).waitFor();
  const before = await panel.textContent();
  assert.doesNotMatch(before, /two partitions|gives consumer 1|MyTopic-2/);
  await screenshot(page, 'classroom-question-before');
  // The whole question fits at 1280x720: the last choice is on screen.
  const last = panel.getByRole('button', { name: 'Answer: Consumer 2 waits until consumer 1 leaves' });
  const box = await last.boundingBox();
  assert.ok(box.y + box.height <= 720, `last choice at ${box.y}`);
  await panel.getByRole('button', { name: 'Answer: They are divided between the two consumers' }).click();
  await panel.getByText(/^Right\./).waitFor({ timeout: 20000 });
  await panel.getByText(/range assignor gave consumer 1 MyTopic-0 and MyTopic-1/).waitFor();
  await screenshot(page, 'classroom-question-after');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the address bar follows the lesson, and a changed address opens its step', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url + '#lesson=replication&step=2');
  await page.waitForFunction(() => location.hash === '#lesson=replication&step=2');
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.waitForFunction(() => location.hash === '#lesson=replication&step=3');
  await page.evaluate(() => { location.hash = '#lesson=replication&step=6'; });
  await page.getByText('Step 6 of 8').waitFor();
  await page.evaluate(() => { location.hash = '#lesson=consumer-groups&step=1'; });
  await page.getByRole('heading', { name: 'One consumer reads the whole topic' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('Skip lands on the next thing that matters, and classroom timings make it sooner', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByText(/1 s shows 4 s/).waitFor();
  await crashBroker(page, 1);
  const clock = async () => parseFloat(await page.getByLabel('Virtual time').textContent());
  const crashedAt = await clock();
  await page.keyboard.press('n');
  // Broker 1's ZooKeeper session (18 s by default) expires: the first thing
  // that matters.
  await page.getByRole('status').getByText(/^Skipped 18\.\d+ s: Broker 1 was declared dead/).waitFor();
  const waited = (await clock()) - crashedAt;
  assert.ok(waited > 17 && waited < 19, `waited ${waited} s`);
  // Each further skip is the next step of the failover, a moment later,
  // until broker 2 leads MyTopic-0 (broker 1 led it).
  const log = page.getByRole('list', { name: 'Events, newest first' });
  const led = log.getByText('Broker 2 is now leader of MyTopic-0', { exact: false });
  const seen = [];
  for (let i = 0; i < 8 && (await led.count()) === 0; i++) {
    await page.keyboard.press('n');
    seen.push(await page.getByRole('status').textContent());
  }
  assert.ok(await led.count() > 0, seen.join('\n'));
  assert.ok(seen.some((s) => /is now the active controller/.test(s)), seen.join('\n'));
  assert.ok((await clock()) - crashedAt < 20, 'the failover took moments after the session expired');

  // Classroom timings replay the session with 6 s sessions.
  await page.getByRole('button', { name: 'Reset' }).click();
  await page.getByText('Cluster', { exact: true }).click();
  await page.getByRole('checkbox', { name: 'Classroom timings' }).check();
  await page.getByRole('list', { name: "Classroom timings and Kafka's defaults" }).getByText('zookeeper.session.timeout.ms').waitFor();
  await page.keyboard.press('Escape');
  await crashBroker(page, 1);
  const again = await clock();
  await page.getByRole('button', { name: 'Skip ahead to what matters' }).click();
  await page.getByRole('status').getByText(/^Skipped [56]\.\d+ s: Broker 1 was declared dead/).waitFor();
  assert.ok((await clock()) - again < 7);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a share link opens with its event log, not an empty one', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await crashBroker(page, 2);
  await page.getByRole('button', { name: 'Step' }).click();
  await page.getByText('Session', { exact: true }).click();
  await page.getByRole('button', { name: 'Share link' }).click();
  const link = await page.getByRole('textbox', { name: 'Share link' }).inputValue();
  const other = await app.browser.newContext({ viewport: { width: 1280, height: 720 } });
  const elsewhere = await other.newPage();
  await elsewhere.goto(link);
  const log = elsewhere.getByRole('list', { name: 'Events, newest first' });
  await log.getByText('Broker 2 crashed.').waitFor();
  await log.getByText(/registered/).first().waitFor();
  await other.close();
  assert.deepEqual(errors, []);
  await context.close();
});

test('the Partition field refuses -1 and abc with a clear message and sends nothing', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  const field = page.getByRole('textbox', { name: 'Partition', exact: true });
  for (const [bad, said] of [['-1', /Invalid partition: -1\. Partition number should always be non-negative/], ['abc', /'abc' is not a number/]]) {
    await field.fill(bad);
    await page.getByRole('button', { name: 'Produce', exact: true }).click();
    await page.getByRole('alert').getByText(said).waitFor();
  }
  assert.equal(await page.locator('text=4294967295').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Compare heads each side with its setting and counts what each lost', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByText('Cluster', { exact: true }).click();
  const form = page.getByRole('form', { name: 'Compare side by side' });
  assert.equal(
    await form.getByRole('combobox', { name: 'Setting to compare' }).inputValue(),
    await form.getByRole('option', { name: 'acks=1 against acks=all, with slow followers' }).getAttribute('value'),
  );
  await form.getByRole('button', { name: 'Compare', exact: true }).click();
  const top = page.getByRole('region', { name: 'acks=1', exact: true });
  const bottom = page.getByRole('region', { name: 'acks=all', exact: true });
  await top.getByRole('heading', { name: /acks=1 no acknowledged record lost/ }).waitFor();
  await bottom.getByRole('heading', { name: /acks=all no acknowledged record lost/ }).waitFor();
  // Two records to MyTopic-0 (led by broker 1), acknowledged at once by
  // acks=1; its followers are 1.5 s away. The leader crashes.
  await page.getByRole('textbox', { name: 'Partition', exact: true }).fill('0');
  for (let i = 0; i < 2; i++) await page.getByRole('button', { name: 'Produce', exact: true }).click();
  const acked = page.getByRole('list', { name: 'Events, newest first' }).getByText(/Producer 1 got an acknowledgement from MyTopic-0/);
  for (let i = 0; i < 10 && (await acked.count()) === 0; i++) await page.keyboard.press('.');
  await top.getByRole('button', { name: 'Broker 1', exact: true }).click();
  await page.getByRole('button', { name: 'Crash broker' }).click();
  const lost = top.getByRole('heading', { name: /acks=1 2 acknowledged records lost/ });
  for (let i = 0; i < 10 && (await lost.count()) === 0; i++) await page.keyboard.press('n');
  await lost.waitFor();
  await bottom.getByRole('heading', { name: /acks=all no acknowledged record lost/ }).waitFor();
  await page.getByRole('tab', { name: 'Lost records (acks=1: 2, acks=all: 0)' }).click();
  await page.getByRole('table', { name: 'Lost records with acks=1' }).waitFor();
  await screenshot(page, 'classroom-compare-free-play');
  assert.deepEqual(errors, []);
  await context.close();
});

test('free play: a new topic and a new producer are picked, and a node is isolated in one click', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByText('Cluster', { exact: true }).click();
  const create = page.getByRole('form', { name: 'Create a topic' });
  await create.getByRole('textbox', { name: /Name/ }).fill('orders');
  await create.getByRole('button', { name: 'Create topic' }).click();
  await page.keyboard.press('Escape');
  const produce = page.getByRole('form', { name: 'Produce a record' });
  assert.equal(await produce.getByRole('combobox', { name: 'Topic' }).inputValue(), 'orders');
  assert.equal(await page.getByRole('form', { name: 'Add a consumer' }).getByRole('combobox', { name: 'Topic' }).inputValue(), 'orders');
  await produce.getByRole('button', { name: 'Add producer' }).click();
  await page.getByRole('button', { name: 'Producer 2', exact: true }).waitFor();
  assert.equal(await produce.getByRole('combobox', { name: 'Producer' }).inputValue(), '2');
  await produce.getByRole('button', { name: 'Produce', exact: true }).click();
  for (let i = 0; i < 6; i++) await page.keyboard.press('.');
  await page.getByRole('list', { name: 'Events, newest first' }).getByText(/Producer 2 sent key "user-42" to orders-/).waitFor();

  // Isolate broker 2: one click cuts it from every node, drawn once.
  await page.getByRole('button', { name: 'Broker 2', exact: true }).click();
  await page.getByRole('button', { name: 'Isolate from the network' }).click();
  await page.getByRole('img', { name: 'Broker 2 is isolated from the network' }).waitFor();
  assert.equal(await page.locator('g.net-link').count(), 0, 'no star of cut lines');
  await screenshot(page, 'classroom-isolated-broker');
  await page.getByRole('button', { name: 'Reconnect to the network' }).click();
  await page.getByRole('img', { name: 'Broker 2 is isolated from the network' }).waitFor({ state: 'detached' });
  // One cut between two brokers is drawn between them.
  await page.getByText('Cluster', { exact: true }).click();
  await page.getByLabel('First node').selectOption({ label: 'Broker 1' });
  await page.getByLabel('Second node').selectOption({ label: 'Broker 3' });
  await page.getByRole('button', { name: 'Cut network' }).click();
  await page.getByRole('img', { name: 'Network cut between Broker 1 and Broker 3' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('a slow or paused consumer falls behind, and the group shows what it has not read', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  const form = page.getByRole('form', { name: 'Add a consumer' });
  await form.getByRole('combobox', { name: /Start at/ }).selectOption('earliest');
  await form.getByRole('button', { name: 'Add consumer' }).click();
  const consumer = page.getByRole('button', { name: 'Consumer 1', exact: true });
  await consumer.waitFor();
  await consumer.click();
  const pause = page.getByRole('button', { name: 'Stop fetching' });
  // Until the group has given it partitions there is nothing to pause.
  for (let i = 0; i < 10 && (await pause.isDisabled()); i++) await page.keyboard.press('n');
  await pause.click();
  await page.getByRole('button', { name: 'Fetch again' }).waitFor();
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Produce', exact: true }).click();
  for (let i = 0; i < 12; i++) await page.keyboard.press('.');
  await page.locator('.group-caption', { hasText: /unread 3/ }).waitFor();
  await page.locator('.lag-gauge.is-behind').waitFor();
  await screenshot(page, 'classroom-paused-consumer');
  // A slow application: one record a second once resumed.
  await consumer.click();
  await page.getByRole('combobox', { name: 'Processing time per record' }).selectOption('1000');
  await page.getByRole('button', { name: 'Fetch again' }).click();
  await page.getByRole('list', { name: 'Events, newest first' }).getByText(/takes 1000 ms per record/).waitFor();
  for (let i = 0; i < 40 && (await page.locator('.group-caption', { hasText: /unread 0/ }).count()) === 0; i++) {
    await page.keyboard.press('.');
  }
  await page.locator('.group-caption', { hasText: /unread 0/ }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('the panel follows the clock back, and the last step offers the next lesson', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url + '#lesson=replication&step=3');
  await page.getByText('Step 3 of 8').waitFor();
  // Rewind with the timeline to the start of the lesson: the panel goes with it.
  await page.getByRole('slider', { name: 'Timeline' }).evaluate((el) => {
    el.value = '100';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await page.getByText('Step 1 of 8').waitFor();
  await page.waitForFunction(() => location.hash === '#lesson=replication&step=1');
  await page.goto(app.url + '#lesson=topics&step=6');
  const next = page.getByRole('button', { name: 'Next lesson: Partitions and ordering' });
  await next.click();
  await page.getByText('Lesson 5 · Partitions and ordering').waitFor();
  await page.getByText('Step 1 of 4').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('on a phone a lesson fits the width, and Next stays in reach beside the diagram', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url + '#lesson=consumer-groups&step=2', { width: 390, height: 844 });
  await page.getByRole('heading', { name: 'A second member joins' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390);
  await page.locator('svg.diagram').scrollIntoViewIfNeeded();
  const next = await page.getByRole('button', { name: 'Next', exact: true }).boundingBox();
  const diagram = await page.locator('svg.diagram').boundingBox();
  assert.ok(next.y >= 0 && next.y + next.height <= 844, `Next at ${next.y}`);
  assert.ok(diagram.y < 844 && diagram.y + diagram.height > 0, 'the diagram is on screen too');
  await screenshot(page, 'classroom-phone-lesson-7');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the key calculator works out the partition and lights it', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  const key = page.getByRole('textbox', { name: 'Key', exact: true });
  await key.fill('21');
  const math = page.getByLabel('Which partition this key goes to');
  // Kafka's UtilsTest value for "21"; toPositive, then mod 3.
  await math.getByText('murmur2("21") = -973932308 → toPositive = 1173551340 → mod 3 = 0 → MyTopic-0').waitFor();
  await key.focus();
  await page.locator('g.replica.is-lit').first().waitFor();
  const lit = await page.locator('g.replica.is-lit').evaluateAll((gs) => gs.map((g) => g.getAttribute('aria-label')));
  assert.ok(lit.length >= 2 && lit.every((l) => l.startsWith('MyTopic-0 on broker')), lit.join(', '));
  await key.blur();
  await page.locator('g.replica.is-lit').first().waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await context.close();
});
