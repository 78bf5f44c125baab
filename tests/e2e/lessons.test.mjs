// The lessons, as a class meets them: every built-in lesson walked from its
// first step to its last by keyboard, every question answered, the key step
// of each saved as a screenshot; then Back, a step link, a reload, free play
// and a bad lesson file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useApp, openApp, screenshot, root } from './harness.mjs';

const app = useApp();

const lessonFiles = async () => {
  const dir = join(root, 'lessons');
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8'))));
};

const stepCount = (page) => page.locator('.lesson-step-count').textContent();

/** Waits until the current step has played to its end (Next is the way on). */
const waitForStepEnd = (page) =>
  page.waitForFunction(() => !document.querySelector('.lesson-panel')?.textContent.includes('Watch the cluster for the answer'));

test('every lesson can be walked from first to last step by keyboard', async () => {
  const lessons = await lessonFiles();
  assert.ok(lessons.length >= 10, `${lessons.length} lessons`);
  const { page, errors, context } = await openApp(app.browser, app.url);
  for (const [i, lesson] of lessons.entries()) {
    const number = i + 1;
    console.log("lesson", number, lesson.id);
    await page.getByRole('button', { name: 'Lessons', exact: true }).click();
    await page.getByRole('button', { name: `Open lesson ${number}: ${lesson.title}` }).click();
    await page.getByRole('region', { name: 'Lesson', exact: true }).waitFor();
    // Lessons move quickly in a test: 10× (the models page has no speed
    // menu; the + key works everywhere).
    if (lesson.view === 'models') {
      for (let n = 0; n < 3; n++) await page.keyboard.press('+');
    } else {
      await page.getByRole('combobox', { name: 'Speed' }).selectOption('10');
    }
    let shot = false;
    for (const [k, step] of lesson.steps.entries()) {
      assert.equal(await stepCount(page), `Step ${k + 1} of ${lesson.steps.length}`);
      await page.getByRole('heading', { name: step.title }).waitFor();
      if (step.highlight?.length) {
        await page.waitForFunction(() => document.querySelector('.diagram .is-lit, .models-diagram .is-lit'));
      }
      if (step.prompt) {
        const right = step.prompt.choices[step.prompt.answer];
        await page.getByRole('button', { name: `Answer: ${right}`, exact: true }).click();
        await page.getByText(step.prompt.explanation).waitFor({ timeout: 60_000 });
        assert.match(await page.locator('.explanation').textContent(), /^Right\./);
        if (!shot) {
          await screenshot(page, `lesson-${String(number).padStart(2, '0')}-${lesson.id}`);
          shot = true;
        }
      }
      for (const c of step.commands ?? []) {
        if (c.refused) {
          await page.locator('.refusal', { hasText: c.refused }).waitFor({ timeout: 60_000 });
        }
      }
      if (k + 1 < lesson.steps.length) await page.keyboard.press('ArrowRight');
    }
    if (!shot) await screenshot(page, `lesson-${String(number).padStart(2, '0')}-${lesson.id}`);
    await waitForStepEnd(page);
    assert.ok(await page.getByRole('button', { name: 'Next', exact: true }).isDisabled(), 'the last step ends the lesson');
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('Back returns to the step as it was; a link, a reload and free play keep the place', async () => {
  const { page, errors, context } = await openApp(app.browser, `${app.url}#lesson=replication&step=5`);
  await page.getByRole('heading', { name: 'Broker 1 crashes' }).waitFor();
  assert.equal(await stepCount(page), 'Step 5 of 8');
  // Before the crash broker 1 leads MyTopic-0.
  const p0Leader = (b) => page.getByRole('img', { name: `MyTopic-0 on broker ${b} (leader)` });
  await p0Leader(1).waitFor();
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('10');
  await page.getByRole('button', { name: 'Answer: Broker 2', exact: true }).click();
  await p0Leader(2).waitFor({ timeout: 60_000 });
  await page.keyboard.press('PageDown');
  assert.equal(await stepCount(page), 'Step 6 of 8');
  await page.keyboard.press('PageUp');
  assert.equal(await stepCount(page), 'Step 5 of 8');
  // The step's start again: broker 1 leads, the question is answered already.
  await p0Leader(1).waitFor();
  await page.waitForTimeout(200);
  await screenshot(page, 'lesson-back');

  // A reload reopens the lesson at the same step.
  await page.reload();
  await page.getByRole('heading', { name: 'Broker 1 crashes' }).waitFor();
  assert.equal(await stepCount(page), 'Step 5 of 8');

  // Try it yourself: the forms are back; acting on the cluster is free play.
  await page.getByRole('button', { name: 'Try it yourself' }).click();
  const banner = page.getByRole('region', { name: 'Free play' });
  await banner.waitFor();
  await page.getByRole('button', { name: 'Broker 2', exact: true }).click();
  await page.getByRole('button', { name: 'Crash broker' }).click();
  await page.getByRole('button', { name: 'Back to lesson' }).click();
  await page.getByRole('heading', { name: 'Broker 1 crashes' }).waitFor();
  // The lesson's own timeline is back: broker 2 is up again.
  await page.getByRole('img', { name: 'MyTopic-1 on broker 2 (leader)' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('a lesson file that is not valid is refused with a reason, and nothing changes', async () => {
  const { page, context } = await openApp(app.browser, app.url);
  await page.getByRole('button', { name: 'Lessons', exact: true }).click();
  const bad = { kafkasim_lesson: 1, id: 'Bad Id', title: 't', summary: 's', scenario: {}, steps: [] };
  await page.getByLabel('Open a lesson file').setInputFiles({
    name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bad)),
  });
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /INVALID_SCENARIO.*bad\.json: Lesson id 'Bad Id'.*Nothing was opened/);
  await page.getByRole('heading', { name: 'Lessons' }).waitFor();
  // A lesson whose teaching point does not happen is refused too.
  const wrong = JSON.parse(await readFile(join(root, 'lessons', '06-replication.json'), 'utf8'));
  wrong.steps[4].expect[0].broker = 1;
  await page.getByLabel('Open a lesson file').setInputFiles({
    name: 'wrong.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(wrong)),
  });
  await page.getByText(/Step 5: expected MyTopic-0 to be led by broker 1/).waitFor();
  await context.close();
});

test('side by side: one click drives both clusters, the second with one setting changed', async () => {
  const { page, errors, context } = await openApp(app.browser, app.url);
  await page.getByText('Cluster', { exact: true }).click();
  await page.getByLabel('Setting to compare').selectOption({ label: 'every producer with acks=1' });
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  // Each side is headed with its setting: the quick start's producer uses
  // Kafka's default, acks=all.
  const left = page.getByRole('region', { name: 'acks=all', exact: true });
  const right = page.getByRole('region', { name: 'acks=1', exact: true });
  await right.getByRole('button', { name: 'Broker 1', exact: true }).waitFor();
  await page.keyboard.press('Escape');
  await left.getByRole('button', { name: 'Broker 1', exact: true }).click();
  await page.getByRole('button', { name: 'Crash broker' }).click();
  // The twin crashed its broker 1 too, at the same moment.
  const down = (side) => side.locator('g[data-status="down"]').first();
  await down(left).waitFor();
  await down(right).waitFor();
  assert.match(await right.getByRole('heading').textContent(), /^acks=1 no acknowledged record lost/);
  assert.match(await left.getByRole('heading').textContent(), /^acks=all no acknowledged record lost/);
  await screenshot(page, 'compare-side-by-side');
  await page.getByText('Cluster', { exact: true }).click();
  await page.getByRole('button', { name: 'Stop comparing' }).click();
  assert.equal(await page.getByRole('region', { name: 'acks=1', exact: true }).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});
