// The live view as an instructor uses it: produce by key, fail over, lose a
// record with acks=1, rewind, reload, share, and get Kafka's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateRawSync, deflateRawSync } from 'node:zlib';
import { useApp, openApp, screenshot, crashBroker } from './harness.mjs';

const app = useApp();

/** Kafka's murmur2 (Utils.murmur2), written independently of the engine. */
function murmur2(bytes) {
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ bytes.length) | 0;
  const whole = bytes.length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = bytes.length & 3;
  if (rest === 3) h ^= bytes[whole + 2] << 16;
  if (rest >= 2) h ^= bytes[whole + 1] << 8;
  if (rest >= 1) h = Math.imul(h ^ bytes[whole], m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}
const partitionFor = (key, n) => (murmur2(new TextEncoder().encode(key)) & 0x7fffffff) % n;

const events = (page) => page.getByRole('list', { name: 'Events, newest first' });
const brokerGroup = (page, n) =>
  page.locator('g.broker').filter({ has: page.getByRole('button', { name: `Broker ${n}`, exact: true }) });

async function play(page) { await page.getByRole('button', { name: 'Play' }).click(); }
async function pause(page) { await page.getByRole('button', { name: 'Pause' }).click(); }
// Plays until the ledger lists one lost record, pauses, and opens its table.
async function playUntilOneLost(page, timeout) {
  await play(page);
  const tab = page.getByRole('tab', { name: 'Lost records (1)' });
  await tab.waitFor({ timeout });
  await pause(page);
  await tab.click();
  return page.getByRole('table', { name: 'Lost records' });
}
// Waits until nothing matches `locator`; fails if something still does after 5 s.
async function gone(locator) { await locator.first().waitFor({ state: 'detached', timeout: 5000 }); }

test('the oracle agrees with Kafka\'s murmur2 test values', () => {
  // From Kafka's UtilsTest.testMurmur2.
  assert.equal(murmur2(new TextEncoder().encode('21')), -973932308);
  assert.equal(murmur2(new TextEncoder().encode('foobar')), -790332482);
  assert.equal(murmur2(new TextEncoder().encode('a-little-bit-long-string')), -985981536);
});

test('a keyed record lands in the partition murmur2 gives', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  const key = 'order-1234';
  const expected = partitionFor(key, 3);
  await page.getByRole('textbox', { name: 'Key', exact: true }).fill(key);
  await page.getByRole('button', { name: 'Produce', exact: true }).click();
  await play(page);
  await events(page).getByText(/got an acknowledgement/).waitFor({ timeout: 20000 });
  await pause(page);
  await page.getByRole('tab', { name: 'Partitions' }).click();
  await page.getByRole('button', { name: `Show the log of MyTopic-${expected}` }).click();
  const log = page.getByRole('table', { name: `Log of MyTopic-${expected}` });
  await log.getByRole('cell', { name: key, exact: true }).waitFor();
  assert.equal(await log.getByRole('cell', { name: 'committed', exact: true }).count(), 1);
  // And in no other partition.
  for (const other of [0, 1, 2].filter((p) => p !== expected)) {
    await page.getByRole('button', { name: `Show the log of MyTopic-${other}` }).click();
    const table = page.getByRole('table', { name: `Log of MyTopic-${other}` });
    await table.waitFor();
    assert.equal(await table.getByRole('cell', { name: key, exact: true }).count(), 0);
  }
  await screenshot(page, 'live-keyed-record');
  // Hovering the leader's broker lists its replicas' log end offsets and
  // high watermarks.
  const leader = page.getByRole('button', { name: `Broker ${expected + 1}`, exact: true });
  await leader.hover();
  const tip = await leader.locator('title').textContent();
  assert.match(tip, new RegExp(`^Broker ${expected + 1}\n`));
  assert.ok(tip.includes(`MyTopic-${expected}: LEO 1 · HW 1`), tip);
  assert.deepEqual(errors, []);
  await context.close();
});

test('crashing a leader moves leadership and the produce path follows', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByRole('img', { name: 'MyTopic-0 on broker 1 (leader)' }).waitFor();
  await crashBroker(page, 1);
  await play(page);
  // ZooKeeper's session timeout passes, the controller elects from the ISR.
  await page.getByRole('img', { name: 'MyTopic-0 on broker 2 (leader)' }).waitFor({ timeout: 60000 });
  await page.getByRole('textbox', { name: 'Partition', exact: true }).fill('0');
  await page.getByRole('button', { name: 'Produce', exact: true }).click();
  // The producer's first try goes to the dead broker; its metadata refresh
  // redirects it, and the diagram draws the new route for a few seconds.
  await page.locator('.redirect-label', { hasText: 'MyTopic-0 → Broker 2' }).waitFor({ timeout: 30000 });
  await page.locator('path.redirect').first().waitFor();
  await pause(page);
  await events(page).getByText('Producer 1 refreshed its metadata: MyTopic-0 is now led by Broker 2, not Broker 1; it sends its records there.').waitFor();
  await play(page);
  await events(page).getByText(/Producer 1 got an acknowledgement from MyTopic-0/).waitFor({ timeout: 30000 });
  await pause(page);
  // The event log narrowed to the crashed broker's problems tells the story.
  await page.getByRole('combobox', { name: 'Node' }).selectOption('Broker 1');
  await page.getByRole('checkbox', { name: 'Only problems' }).check();
  await events(page).getByText(/Broker 1 crashed/).waitFor();
  // The log is rewritten by an effect after its filter changes: until it
  // runs it may still show the lines the filter drops. Only lines about Broker 1:
  await gone(events(page).getByText(/Producer 1/));
  await page.getByRole('combobox', { name: 'Node' }).selectOption('');
  await page.getByRole('checkbox', { name: 'Only problems' }).uncheck();
  await page.getByRole('combobox', { name: 'Kind of event' }).selectOption({ label: 'Producers' });
  await events(page).getByText(/Producer 1 got an acknowledgement/).first().waitFor();
  // Only producer lines:
  await gone(events(page).getByText(/Broker 1 crashed/));
  await page.getByRole('tab', { name: 'Partitions' }).click();
  const table = page.getByRole('table', { name: 'Partitions of MyTopic' });
  const row = table.getByRole('row').filter({ has: page.getByRole('button', { name: 'Show the log of MyTopic-0' }) });
  assert.equal(await row.getByRole('cell').nth(0).textContent(), '2', 'broker 2 leads MyTopic-0');
  const log = page.getByRole('table', { name: 'Log of MyTopic-0' });
  await log.getByRole('cell', { name: '[2]' }).waitFor();
  await screenshot(page, 'live-failover');
  assert.deepEqual(errors, []);
  await context.close();
});

test('acks=1 and a leader crash before replication lose an acknowledged record', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  // The follower of MyTopic-0 falls behind: cut it off from the leader. It
  // stays in the ISR until replica.lag.time.max.ms (30 s) passes.
  await page.getByText('Cluster', { exact: true }).click();
  await page.getByLabel('First node').selectOption({ label: 'Broker 1' });
  await page.getByLabel('Second node').selectOption({ label: 'Broker 2' });
  await page.getByRole('button', { name: 'Cut network' }).click();
  await page.getByText('Cluster', { exact: true }).click();
  await page.getByText('Producer settings').click();
  await page.getByLabel('acks', { exact: true }).selectOption('1');
  await page.getByRole('textbox', { name: 'Partition', exact: true }).fill('0');
  await page.getByRole('button', { name: 'Produce', exact: true }).click();
  await play(page);
  await events(page).getByText(/Producer 1 got an acknowledgement from MyTopic-0/).waitFor({ timeout: 20000 });
  await pause(page);
  const beforeCrash = Math.round(parseFloat(await page.getByLabel('Virtual time').textContent()) * 1000);
  await crashBroker(page, 1);
  const lost = await playUntilOneLost(page, 60000);
  await lost.getByRole('cell', { name: 'MyTopic-0@0' }).waitFor();
  await lost.getByRole('cell', { name: 'Producer 1, acks=1' }).waitFor();
  await screenshot(page, 'live-lost-record');

  // Rewind to before the crash: broker 1 is up again, nothing is lost yet.
  await page.getByRole('slider', { name: 'Timeline' }).fill(String(beforeCrash - 1));
  assert.equal(await brokerGroup(page, 1).getAttribute('data-status'), 'up');
  await page.getByRole('tab', { name: 'Lost records (0)' }).waitFor();
  await screenshot(page, 'live-rewound');
  assert.deepEqual(errors, []);
  await context.close();
});

test('acks=0: a record sent to a crashed leader was counted as sent and is listed as lost', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByText('Producer settings').click();
  await page.getByLabel('acks', { exact: true }).selectOption('0');
  // Left unset, idempotence follows acks: off with acks=0, no error.
  assert.equal(await page.getByRole('checkbox', { name: 'Idempotence' }).isChecked(), false);
  await crashBroker(page, 1);
  // The producer has not heard of the crash: it still sends to broker 1.
  await page.getByRole('textbox', { name: 'Partition', exact: true }).fill('0');
  await page.getByRole('textbox', { name: 'Value', exact: true }).fill('into the void');
  await page.getByRole('button', { name: 'Produce', exact: true }).click();
  const lost = await playUntilOneLost(page, 20000);
  await lost.getByRole('cell', { name: 'MyTopic-0 (never written)' }).waitFor();
  await lost.getByRole('cell', { name: 'Producer 1, acks=0' }).waitFor();
  await lost.getByRole('cell', { name: /^acks=0: broker 1 was down/ }).waitFor();
  await screenshot(page, 'live-lost-acks0');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a reload restores the session, and a share link opens it elsewhere', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await crashBroker(page, 2);
  await page.getByRole('button', { name: 'Produce', exact: true }).click();
  for (let i = 0; i < 5; i++) await page.getByRole('button', { name: 'Step' }).click();
  const clock = await page.getByLabel('Virtual time').textContent();
  await page.reload();
  await page.getByRole('button', { name: 'Broker 1', exact: true }).waitFor();
  assert.equal(await brokerGroup(page, 2).getAttribute('data-status'), 'down');
  assert.equal(await page.getByLabel('Virtual time').textContent(), clock);

  await page.getByText('Session', { exact: true }).click();
  await page.getByRole('button', { name: 'Share link' }).click();
  const link = await page.getByRole('textbox', { name: 'Share link' }).inputValue();
  // deflate-raw, base64url: a plain zlib can read it, and it is short.
  const [, packed] = link.match(/#z=([A-Za-z0-9_-]+)$/);
  const json = inflateRawSync(Buffer.from(packed, 'base64url')).toString();
  assert.equal(JSON.parse(json).kafkasim_session, 1);
  assert.ok(packed.length * 2 < Buffer.from(json).toString('base64url').length, `${packed.length} vs ${json.length}`);
  const other = await app.browser.newContext({ viewport: { width: 1280, height: 720 } });
  const elsewhere = await other.newPage();
  await elsewhere.goto(link);
  await elsewhere.getByLabel('Virtual time').getByText(clock, { exact: true }).waitFor();
  assert.equal(await brokerGroup(elsewhere, 2).getAttribute('data-status'), 'down');
  await other.close();
  // The first link format still opens.
  const third = await app.browser.newContext({ viewport: { width: 1280, height: 720 } });
  const plain = await third.newPage();
  await plain.goto(link.replace(/#z=.*/, `#session=${Buffer.from(json).toString('base64url')}`));
  await plain.getByLabel('Virtual time').getByText(clock, { exact: true }).waitFor();
  assert.equal(await brokerGroup(plain, 2).getAttribute('data-status'), 'down');
  await third.close();
  assert.deepEqual(errors, []);
  await context.close();
});

test('a damaged or oversized share link is refused and the page opens as usual', async () => {
  const z = (bytes) => `#z=${deflateRawSync(bytes).toString('base64url')}`;
  for (const [hash, why] of [
    ['#z=not*base64', 'it is not base64url'],
    ['#z=AAAA', 'it does not unpack'],
    // 3 MiB of spaces packs into a few KB: refused while unpacking.
    [z(Buffer.alloc(3 * 1024 * 1024, 32)), 'it does not unpack to a session of at most 2 MiB'],
  ]) {
    const context = await app.browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    await page.goto(app.url + hash);
    await page.getByRole('alert').getByText(`The share link is damaged (${why}`).waitFor();
    await page.getByRole('button', { name: 'Broker 1', exact: true }).waitFor();
    await context.close();
  }
  const context = await app.browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(app.url + z(Buffer.from('{"kafkasim_session": 7}')));
  await page.getByRole('alert').getByText('INVALID_SCENARIO').waitFor();
  await context.close();
});

test('bad input gets Kafka\'s error and changes nothing', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByText('Cluster', { exact: true }).click();
  await page.getByLabel(/^Name/).fill('bad name!');
  await page.getByRole('button', { name: 'Create topic' }).click();
  const alert = page.getByRole('alert');
  await alert.getByText('INVALID_TOPIC_EXCEPTION').waitFor();
  await screenshot(page, 'live-invalid-topic');
  await page.getByRole('button', { name: 'Dismiss error' }).click();
  await page.getByText('Cluster', { exact: true }).click();
  await page.getByRole('tab', { name: 'Partitions' }).click();
  const topics = await page.getByRole('tabpanel').getByLabel('Topic', { exact: true }).locator('option').allTextContents();
  assert.deepEqual(topics, ['MyTopic'], 'no topic was created');

  // A file that is not a session is refused and the session stays.
  await crashBroker(page, 3);
  await page.getByText('Session', { exact: true }).click();
  await page.getByLabel('Import session file').setInputFiles({
    name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": 1}'),
  });
  await alert.getByText('INVALID_SCENARIO').waitFor();
  // What is wrong, in plain words, before the parser's detail.
  await alert.getByText(/This file is JSON but not a kafkasim session: a field is missing, unknown or of the wrong kind\. Not a kafkasim session: /).waitFor();
  assert.equal(await brokerGroup(page, 3).getAttribute('data-status'), 'down');
  await page.keyboard.press('Escape'); // closes the Session menu

  // An explicit partition the topic does not have.
  await page.getByRole('textbox', { name: 'Partition', exact: true }).fill('7');
  await page.getByRole('button', { name: 'Produce', exact: true }).click();
  await alert.getByText('UNKNOWN_TOPIC_OR_PARTITION').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('keyboard: Space plays and pauses, the help lists the shortcuts', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.locator('body').press('Space');
  await page.getByRole('button', { name: 'Pause' }).waitFor();
  await page.locator('body').press('Space');
  await page.getByRole('button', { name: 'Play' }).waitFor();
  const before = await page.getByLabel('Virtual time').textContent();
  await page.locator('body').press('PageDown');
  await page.locator('body').press('PageDown');
  assert.notEqual(await page.getByLabel('Virtual time').textContent(), before, 'PageDown steps');
  await page.locator('body').press('PageUp');
  await page.locator('body').press('PageUp');
  assert.equal(await page.getByLabel('Virtual time').textContent(), before, 'PageUp steps back');
  await page.locator('body').press('?');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
  await page.locator('body').press('Escape');
  assert.equal(await page.getByRole('dialog').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a group scales out with its + button, auto-produce keeps records flowing', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByLabel(/auto\.offset\.reset/).selectOption('earliest');
  await page.getByRole('button', { name: 'Add consumer' }).click();
  await page.getByRole('button', { name: 'Add consumer to group billing' }).click();
  await page.getByRole('button', { name: 'Consumer 2', exact: true }).waitFor();
  await page.getByLabel('Auto-produce').selectOption({ label: 'every 50 ms' });
  await page.getByRole('button', { name: 'Pause' }).waitFor();
  await events(page).getByText(/sent key "customer-2"/).first().waitFor({ timeout: 30000 });
  await page.getByLabel('Auto-produce').selectOption('off');
  await pause(page);
  await screenshot(page, 'live-auto-produce');

  // __consumer_offsets can join the picture.
  const offsets = page.getByRole('img', { name: /^__consumer_offsets-\d+ on broker 1/ });
  assert.equal(await offsets.count(), 0);
  await page.getByText('Cluster', { exact: true }).click();
  await page.getByLabel(/Show __consumer_offsets on the brokers/).check();
  await offsets.first().waitFor();
  await page.keyboard.press('Escape');
  await screenshot(page, 'live-consumer-offsets-shown');
  assert.deepEqual(errors, []);
  await context.close();
});

test('while records flow, the action panel crashes a broker and follows a producer\'s counters', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByLabel('Auto-produce').selectOption({ label: 'every 50 ms' });
  await page.getByRole('button', { name: 'Pause' }).waitFor();
  await page.getByRole('button', { name: 'Broker 3', exact: true }).click();
  const crash = page.getByRole('region', { name: 'Actions for Broker 3' }).getByRole('button', { name: 'Crash broker' });
  await events(page).getByText(/sent key "customer-3"/).first().waitFor({ timeout: 30000 });
  await crash.click();
  await page.getByRole('region', { name: 'Actions for Broker 3' }).getByRole('button', { name: 'Restart broker' }).and(page.locator(':enabled')).waitFor();
  await events(page).getByText(/Broker 3 crashed/).first().waitFor();
  // A producer's counters follow the traffic.
  await page.getByRole('button', { name: 'Producer 1', exact: true }).click();
  const stats = page.getByRole('region', { name: 'Actions for Producer 1' }).getByText(/acknowledged \d+/);
  const first = await stats.textContent();
  await page.waitForFunction((t) => { const hint = document.querySelector('[aria-label="Actions for Producer 1"] .panel-hint'); return hint && hint.textContent !== t; }, first, { timeout: 30000 });
  await page.getByLabel('Auto-produce').selectOption('off');
  await pause(page);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a new session from the KRaft scene draws the controller quorum', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  // Some work first, so replacing it asks.
  await crashBroker(page, 3);
  page.once('dialog', (d) => d.accept());
  await page.getByText('Session', { exact: true }).click();
  await page.getByLabel('Scene').selectOption({ label: 'Quick start (KRaft)' });
  await page.getByRole('heading', { name: /Quick start \(KRaft\)/ }).waitFor();
  await page.getByText('KRaft controller quorum').waitFor();
  await page.getByRole('button', { name: 'Controller 1', exact: true }).waitFor();
  assert.equal(await brokerGroup(page, 3).getAttribute('data-status'), 'up', 'the crash belonged to the old session');
  await page.getByRole('img', { name: 'MyTopic-0 on broker 1 (leader)' }).waitFor();
  await page.keyboard.press('Escape');
  await screenshot(page, 'live-kraft-scene');
  assert.deepEqual(errors, []);
  await context.close();
});
