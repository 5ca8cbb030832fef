// The page's step list is the doctor's own: every step the doctor can name
// (including a dropped running session) is marked on the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepMarks } from '../../renderer/ui/doctor-panel';
import { STEP_TEXT } from '../../main/app/doctor';

test('every doctor step is on the page, and the failed one is marked with the earlier ones ok', () => {
  for (const step of Object.keys(STEP_TEXT)) {
    const marks = stepMarks(step);
    const i = marks.findIndex((m) => m.mark === 'failed');
    assert.equal(marks[i]?.step, step, `${step} is marked failed`);
    assert.ok(marks.slice(0, i).every((m) => m.mark === 'ok') && marks.slice(i + 1).every((m) => m.mark === 'skipped'), step);
  }
});
