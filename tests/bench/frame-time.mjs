// Frame-time benchmark of the live view on a busy scene: 12 brokers,
// 3 topics × 24 partitions with replication factor 3, 6 consumer groups,
// and a burst of records in flight. It opens the release build in dist/
// through a share link, plays, and reports per-frame script time (the
// requestAnimationFrame callbacks: engine tick + reactive DOM updates) and
// frame work (script + style + layout + paint, until the next task runs).
// It also sorts the frames by whether they changed the diagram or the event
// log (watching the whole page would slow it), since a frame that changes the
// page at all pays for style, layout and paint on top of its script. Last,
// paused, it times crashing and restarting a broker, a change of structure.
// A measurement, not a test: it prints figures and never fails on speed.
//   node bench/frame-time.mjs        (from tests/, after `make build`)
// To see what a part of the page costs, hide it and compare, e.g.
//   FRAME_CSS='.event-lines{display:none}' node bench/frame-time.mjs
import { serve, launch, screenshot } from '../e2e/harness.mjs';

const SECONDS = Number(process.env.FRAME_SECONDS ?? 6);
const BURST = 600;

function busySession() {
  const topics = ['orders', 'payments', 'shipments'];
  const commands = [];
  topics.forEach((name) => {
    commands.push({ at: 100, command: 'create_topic', name, partitions: 24, replication_factor: 3 });
  });
  topics.forEach((_, i) => {
    commands.push({ at: 150, command: 'create_producer', id: i + 1, config: { acks: 'all' } });
  });
  let consumer = 0;
  topics.forEach((topic, i) => {
    for (const g of [`g${2 * i + 1}`, `g${2 * i + 2}`]) {
      for (let k = 0; k < 2; k++) {
        consumer += 1;
        commands.push({
          at: 200, command: 'create_consumer', id: consumer,
          config: { 'group.id': g, 'auto.offset.reset': 'earliest' }, topics: [topic],
        });
      }
    }
  });
  for (let r = 0; r < BURST; r++) {
    const t = r % 3;
    commands.push({ at: 8000, command: 'produce', producer: t + 1, topic: topics[t], key: `key-${r}`, value: `v${r}` });
  }
  return {
    kafkasim_session: 1,
    scenario: {
      name: 'Frame-time bench: 12 brokers, 72 partitions, 6 groups',
      cluster: { seed: 3, brokers: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], metadata_mode: 'zookeeper', quorum_size: 3 },
      commands: [],
    },
    commands,
    at: 8000,
  };
}

const encode = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

// Wraps requestAnimationFrame before the app loads, timing each frame.
function instrument() {
  const frames = [];
  window.__frames = frames;
  const raf = window.requestAnimationFrame.bind(window);
  const channel = new MessageChannel();
  let pending = null;
  let carried = {};
  channel.port1.onmessage = () => {
    if (pending) {
      pending.work = performance.now() - pending.start;
      frames.push(pending);
      pending = null;
    }
  };
  window.requestAnimationFrame = (cb) => raf((ts) => {
    const start = performance.now();
    cb(ts);
    const script = performance.now() - start;
    if (!pending) {
      // Changes made between frames (a timer's) are drawn in this one.
      pending = { start, script: 0, ...carried };
      carried = {};
      channel.port2.postMessage(0);
    }
    pending.script += script;
  });
  // Which frames changed the diagram or the event log on the page, to tell
  // the slow frames' kinds apart (see the breakdown printed at the end).
  const mark = (kind) => () => { if (pending) pending[kind] = true; else carried[kind] = true; };
  const watch = () => {
    const diagram = document.querySelector('svg.diagram');
    const log = document.querySelector('.event-lines');
    if (!diagram || !log) { setTimeout(watch, 200); return; }
    const all = { childList: true, subtree: true, attributes: true, characterData: true };
    new MutationObserver(mark('diagram')).observe(diagram, all);
    new MutationObserver(mark('log')).observe(log, all);
  };
  setTimeout(watch, 200);
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const { server, url } = await serve();
const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.addInitScript(instrument);
  await page.goto(`${url}#session=${encode(busySession())}`);
  await page.getByRole('button', { name: 'Broker 12', exact: true }).waitFor({ timeout: 60000 });
  if (process.env.FRAME_CSS) await page.addStyleTag({ content: process.env.FRAME_CSS });
  await page.getByRole("button", { name: "Play" }).click();
  await page.waitForTimeout(500);
  await page.evaluate(() => { window.__frames.length = 0; });
  const chips = [];
  for (let s = 0; s < SECONDS; s++) {
    await page.waitForTimeout(1000);
    chips.push(Number(await page.locator('.chip-layer').first().getAttribute('data-chips')));
  }
  const frames = await page.evaluate(() => window.__frames.slice());
  await page.getByRole('button', { name: 'Pause' }).click();
  await screenshot(page, 'bench-busy-scene');
  const script = frames.map((f) => f.script);
  const work = frames.map((f) => f.work);
  const fmt = (x) => x.toFixed(2);
  console.log(`frames: ${frames.length} in ${SECONDS} s; chips drawn per second sampled: ${chips.join(', ')}`);
  console.log(`script per frame: median ${fmt(pct(script, 50))} ms, p99 ${fmt(pct(script, 99))} ms`);
  console.log(`frame work (script + style + layout + paint): median ${fmt(pct(work, 50))} ms, p99 ${fmt(pct(work, 99))} ms`);
  const kinds = {};
  for (const f of frames) {
    const kind = [f.diagram && 'diagram', f.log && 'log'].filter(Boolean).join(' + ') || 'neither';
    (kinds[kind] ??= []).push(f.work);
  }
  console.log(`frames by what changed on the page: ${Object.entries(kinds).map(([k, ws]) => `${k}: ${ws.length}, median ${fmt(pct(ws, 50))}, over 12 ms ${ws.filter((w) => w > 12).length}`).join('; ')}`);
  const worst = frames.map((f, i) => [f.work, f.script, i]).sort((a, b) => b[0] - a[0]).slice(0, 5);
  console.log(`frame work p90 ${fmt(pct(work, 90))}, p95 ${fmt(pct(work, 95))}, max ${fmt(pct(work, 100))} ms; ${work.filter((w) => w > 12).length} frames over 12 ms; slowest (work/script ms, frame #): ${worst.map(([w, s, i]) => `${w.toFixed(1)}/${s.toFixed(1)} #${i}`).join(', ')}`);
  // A change of structure, as when an instructor crashes a broker: paused,
  // Broker 5 (leader or follower of 18 replicas) crashes and restarts by
  // its buttons, timed from the click to the end of the frame that draws it.
  await page.getByRole('button', { name: 'Broker 5', exact: true }).click();
  const crashes = [];
  for (let k = 0; k < 8; k++) {
    const name = k % 2 === 0 ? 'Crash broker' : 'Restart broker';
    crashes.push(await page.evaluate(async (name) => {
      const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === name && !b.disabled);
      const start = performance.now();
      button.click();
      await new Promise((done) => requestAnimationFrame(() => {
        const channel = new MessageChannel();
        channel.port1.onmessage = done;
        channel.port2.postMessage(0);
      }));
      return performance.now() - start;
    }, name));
    await page.waitForTimeout(300);
  }
  console.log(`a broker crash or restart, paused (click to the end of its frame): median ${fmt(pct(crashes, 50))} ms, max ${fmt(pct(crashes, 100))} ms over ${crashes.length}`);
  await context.close();
} finally {
  await browser.close();
  server.close();
}
