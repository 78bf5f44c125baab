// The classic messaging models page, as the first lesson uses it: a queue
// gives each message to one receiver and keeps it for an offline one; a
// topic copies each message to every online subscriber and keeps nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useApp, openApp, screenshot } from './harness.mjs';

const app = useApp();

const node = (page, name) => page.getByRole('img', { name: new RegExp(`^${name} \\(`) });
const label = async (page, name) => node(page, name).getAttribute('aria-label');

test('a queue shares messages out and waits for receivers; a topic copies them to whoever is online', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByRole('button', { name: 'Messaging models' }).click();
  await page.getByRole('region', { name: 'Messaging models' }).waitFor();
  // Faster than real time, so the test does not wait on 700 ms hops.
  for (let i = 0; i < 4; i++) await page.keyboard.press('+');

  // Queue: two messages, one to each receiver (competing consumers).
  const send = page.getByRole('button', { name: 'Send to queue' });
  await send.click();
  await send.click();
  await page.waitForFunction(() => {
    const got = (n) => document.querySelector(`[aria-label^="Receiver ${n} (online)"]`)?.getAttribute('aria-label') ?? '';
    return got(1).includes('got 1') && got(2).includes('got 1');
  });

  // Both receivers offline: the next message waits in the queue...
  await page.getByRole('button', { name: 'Take Receiver 1 offline' }).click();
  await page.getByRole('button', { name: 'Take Receiver 2 offline' }).click();
  await send.click();
  await page.waitForFunction(() =>
    document.querySelector('[aria-label^="Queue jobs"]')?.getAttribute('aria-label').includes('job 3 waiting'));
  await screenshot(page, 'models-queue-waiting');
  // ...and is delivered when a receiver comes back.
  await page.getByRole('button', { name: 'Bring Receiver 2 online' }).click();
  await page.waitForFunction(() =>
    (document.querySelector('[aria-label^="Receiver 2 (online)"]')?.getAttribute('aria-label') ?? '').includes('job 3'));

  // Topic: Subscriber 2 offline misses what is published meanwhile.
  await page.getByRole('button', { name: 'Take Subscriber 2 offline' }).click();
  await page.getByRole('button', { name: 'Publish to topic' }).click();
  await page.waitForFunction(() => {
    const l = (n) => document.querySelector(`[aria-label^="Subscriber ${n} ("]`)?.getAttribute('aria-label') ?? '';
    return l(1).includes('news 1') && l(3).includes('news 1') && l(2).includes('missed 1');
  });
  await page.getByRole('button', { name: 'Bring Subscriber 2 online' }).click();
  assert.match(await label(page, 'Subscriber 2'), /got 0; missed 1/);
  const topic = page.getByRole('img', { name: /^Topic news:/ });
  assert.match(await topic.getAttribute('aria-label'), /1 published, stored: none/);
  await screenshot(page, 'models-topic-missed');

  // Start over brings the opening scene back; the Kafka view is still there.
  await page.getByRole('button', { name: 'Start over' }).click();
  assert.match(await label(page, 'Receiver 1'), /^Receiver 1 \(online\): got 0/);
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'models-phone');
  await page.getByRole('button', { name: 'Kafka cluster' }).click();
  await page.getByRole('button', { name: 'Broker 1', exact: true }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
