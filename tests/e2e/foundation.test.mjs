// The foundation: engine → wasm → Leptos → browser, driven as a person would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useApp, openApp, screenshot } from './harness.mjs';

const app = useApp();

test('the page draws the cluster the engine built', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  for (const name of ['Broker 1', 'Broker 2', 'Broker 3', 'Producer 1', 'ZooKeeper 1']) {
    await page.getByRole('button', { name, exact: true }).waitFor();
  }
  // The quick-start layout: P0 on [1,2], P1 on [2,3], P2 on [3,1], leaders first.
  await page.getByRole('img', { name: 'MyTopic-0 on broker 1 (leader)' }).waitFor();
  await page.getByRole('img', { name: 'MyTopic-0 on broker 2 (follower, in sync)' }).waitFor();
  await page.getByRole('img', { name: 'MyTopic-1 on broker 2 (leader)' }).waitFor();
  await page.getByRole('img', { name: 'MyTopic-2 on broker 3 (leader)' }).waitFor();
  await screenshot(page, 'foundation-1280x720');
  assert.deepEqual(errors, []);
  await context.close();
});

test('crashing a broker changes the picture', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  const broker1 = page.locator('g.broker').filter({ has: page.getByRole('button', { name: 'Broker 1', exact: true }) });
  assert.equal(await broker1.getAttribute('data-status'), 'up');
  await page.getByRole('button', { name: 'Broker 1', exact: true }).click();
  await page.getByRole('button', { name: 'Crash broker' }).click();
  assert.equal(await broker1.getAttribute('data-status'), 'down');
  await broker1.getByText(/^down( · controller)?$/).waitFor();
  await page.getByRole('button', { name: 'Restart broker' }).isEnabled();
  await screenshot(page, 'foundation-crashed');
  assert.deepEqual(errors, []);
  await context.close();
});

test('playing the clock moves a produced record through the cluster', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByRole('button', { name: 'Produce', exact: true }).click();
  await page.getByRole('button', { name: 'Play' }).click();
  const log = page.getByRole('list', { name: 'Events, newest first' });
  await log.getByText(/got an acknowledgement/).waitFor({ timeout: 20000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  assert.deepEqual(errors, []);
  await context.close();
});

test('the layout is usable at phone width', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url, { width: 390, height: 844 });
  await page.getByRole('button', { name: 'Produce', exact: true }).waitFor();
  await page.getByLabel(/auto\.offset\.reset/).selectOption('earliest');
  await page.getByRole('button', { name: 'Add consumer' }).click();
  // The picture is stacked to the screen's width: nothing hides off to the side.
  const within = async (role, name) => {
    const box = await page.getByRole(role, { name, exact: true }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${name} lies within the screen: ${JSON.stringify(box)}`);
  };
  for (const name of ['ZooKeeper 1', 'Producer 1', 'Broker 1', 'Broker 2', 'Broker 3', 'Consumer 1']) await within('button', name);
  await within('group', 'Group billing');
  const frame = await page.locator('.diagram-frame').evaluate((f) => [f.scrollWidth, f.clientWidth]);
  assert.ok(frame[0] <= frame[1] + 1, `the diagram does not scroll sideways: ${frame}`);
  await screenshot(page, 'foundation-phone');
  // The top bar's menus open within the screen too.
  for (const [menu, button] of [['Cluster', 'Compare'], ['Session', 'Share link']]) {
    await page.getByText(menu, { exact: true }).click();
    await within('button', button);
    await page.getByText(menu, { exact: true }).click();
  }
  // A lesson opened from far down the list opens at its narration.
  await page.getByRole('button', { name: 'Lessons' }).click();
  await page.getByText('Replication', { exact: true }).click();
  const next = await page.getByRole('button', { name: 'Next' }).boundingBox();
  assert.ok(next && next.y >= 0 && next.y + next.height <= 844, `Next is on screen: ${JSON.stringify(next)}`);
  await screenshot(page, 'foundation-phone-lesson');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a consumer joins a group, takes the partitions and reads a record', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByLabel(/auto\.offset\.reset/).selectOption('earliest');
  await page.getByRole('button', { name: 'Add consumer' }).click();
  await page.getByRole('group', { name: 'Group billing' }).waitFor();
  const consumer = page.getByRole('button', { name: 'Consumer 1', exact: true });
  await consumer.waitFor();
  await page.getByRole('button', { name: 'Produce', exact: true }).click();
  await page.getByRole('button', { name: 'Play' }).click();
  const log = page.getByRole('list', { name: 'Events, newest first' });
  // group.initial.rebalance.delay.ms (3 s) passes, then join and sync.
  await log.getByText(/Group billing is stable in generation 1/).waitFor({ timeout: 60000 });
  await log.getByText(/Consumer 1 was assigned MyTopic-0, MyTopic-1, MyTopic-2/).waitFor({ timeout: 20000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  // The consumer row shows the three partitions it owns.
  for (const p of ['P0', 'P1', 'P2']) {
    await consumer.getByText(p, { exact: true }).waitFor();
  }
  await screenshot(page, 'consumer-group-1280x720');
  // Kafka keeps what was read: seeking to the beginning reads it again,
  // and the simulator says why it is a repeat.
  await page.getByRole('button', { name: 'Play' }).click();
  await log.getByText(/Consumer 1 processed MyTopic-\d@0/).waitFor({ timeout: 20000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  await consumer.click();
  await page.getByRole('button', { name: 'Read again from the beginning' }).click();
  await page.getByRole('button', { name: 'Play' }).click();
  await log.getByText(/DUPLICATE: Consumer 1 processed MyTopic-\d@0 again/).waitFor({ timeout: 30000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  assert.deepEqual(errors, []);
  await context.close();
});
