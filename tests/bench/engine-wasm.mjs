// Measures the engine's standard workload compiled to wasm in headless
// Chromium (the release build in dist/), the same work as the native
// `cargo run --profile bench -p kafkasim-engine --example workload`.
// A measurement, not a test: it prints figures and never fails on speed.
import { serve, launch } from '../e2e/harness.mjs';

const records = 60000;
const { server, url } = await serve();
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.wasmBindings?.bench_standard_workload);
  const best = await page.evaluate((n) => {
    let best = Infinity;
    for (let i = 0; i < 15; i++) {
      const ms = window.wasmBindings.bench_standard_workload(n);
      if (ms < 0) throw new Error(`not all ${n} records were acknowledged`);
      best = Math.min(best, ms);
    }
    return best;
  }, records);
  console.log(`wasm:   ${Math.round(records / (best / 1000))} records/s (best of 15, ${records} records, headless Chromium)`);
} finally {
  await browser.close();
  server.close();
}
