import { expect, test, type Route } from '@playwright/test';
import { bookSessionStartingSoon, completeSession, writePlanViaApi } from './clinical';
import { CLIENT_ZONE, bookFirstSlot, bookableTherapist, logIn, registerViaApi } from './scheduling';

test('the therapist writes a plan, signs a SOAP note rating its goal, and the client sees the progress', async ({
  page,
  browser,
  request,
}) => {
  // The session must have started before it can be completed: it is booked to start within a minute.
  test.setTimeout(180_000);
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  const session = await bookSessionStartingSoon(request, client, therapist);

  await logIn(page, therapist);
  const areaNav = page.getByRole('navigation', { name: 'Therapist area' });
  await areaNav.getByRole('link', { name: 'Clients' }).click();
  await page.getByRole('list', { name: 'Clients' }).getByRole('link', { name: client.displayName }).click();
  await expect(page.getByRole('heading', { level: 1, name: client.displayName })).toBeVisible();
  await expect(page.getByRole('tab', { name: 'Plan' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByText('This client has no plan yet.')).toBeVisible();

  // The plan: a problem, a goal with a measurable objective, an intervention and a review date.
  await page.getByRole('button', { name: 'Add a problem' }).click();
  await expect(page.getByLabel('Problem 1')).toBeFocused();
  await page.getByLabel('Problem 1').fill('Poor sleep since the move');
  await page.getByRole('button', { name: 'Add a goal' }).click();
  const goalText = page.getByLabel('Goal 1', { exact: true });
  await expect(goalText).toBeFocused();
  await goalText.fill('Sleep through the night');
  const goal = page.getByRole('group', { name: 'Goal 1', exact: true });
  // A new goal can only start as not started or in progress.
  await expect(goal.getByLabel('Status of goal 1').locator('option')).toHaveText(['Not started', 'In progress']);
  await goal.getByLabel('Status of goal 1').selectOption('in_progress');
  await goal.getByLabel('Target date of goal 1').fill('2031-03-01');
  await goal.getByRole('button', { name: 'Add an objective to goal 1' }).click();
  await expect(page.getByLabel('Objective 1.1', { exact: true })).toBeFocused();
  await page.getByLabel('Objective 1.1', { exact: true }).fill('PHQ-9 total below 10');
  await page.getByRole('checkbox', { name: /Measure it with a questionnaire score/ }).check();
  const target = page.getByRole('group', { name: 'Score target of objective 1.1' });
  await expect(target.getByLabel('Questionnaire')).toHaveValue('phq9');
  await expect(target.getByLabel('Score')).toHaveValue('10');
  await page.getByLabel('Target date of objective 1.1').fill('2031-02-01');
  await page.getByRole('button', { name: 'Add an intervention' }).click();
  await page.getByLabel('Intervention 1', { exact: true }).fill('CBT for insomnia');
  await page.getByLabel('How often (intervention 1)').fill('weekly');
  await page.getByLabel('Review date').fill('2031-01-15');
  await page.getByRole('button', { name: 'Create plan' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Plan saved: version 1.' })).toBeVisible();
  await expect(page.getByText(/Version 1 · saved .* · not yet acknowledged by the client/)).toBeVisible();
  // An open goal cannot be dropped from the plan; only closed ones can.
  await expect(goal.getByRole('button', { name: 'Remove goal 1' })).toHaveCount(0);

  // The session is held; its note is on the to-do page.
  await completeSession(request, therapist, client, session);
  await areaNav.getByRole('link', { name: 'Notes to write' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Notes to write' })).toBeVisible();
  await page
    .getByRole('list', { name: 'Recently completed sessions' })
    .getByRole('link', { name: new RegExp(`Note for ${client.displayName}`) })
    .click();

  await expect(page.getByRole('heading', { level: 1, name: 'Session note' })).toBeVisible();
  await expect(page.getByRole('radio', { name: 'SOAP' })).toBeChecked();
  await page.getByLabel('Subjective', { exact: true }).fill('Sleeping about six hours; fewer night wakings.');
  await page.getByLabel('Objective', { exact: true }).fill('Calm, engaged, sleep diary complete.');
  await page.getByLabel('Assessment', { exact: true }).fill('Improving with stimulus control.');
  const rating = page.getByRole('group', { name: 'Goal: Sleep through the night' });
  await rating.getByRole('radio', { name: 'Progressing' }).check();
  await rating.getByLabel('Comment on goal 1').fill('Six hours on most nights');
  // The draft saves itself once typing pauses.
  await expect(page.getByRole('status').filter({ hasText: /Draft saved at/ })).toBeVisible();

  // Signing needs every field: the server names the empty one and the keyboard lands there.
  await page.getByRole('button', { name: 'Sign and lock note' }).click();
  await expect(page.getByRole('alert').filter({ hasText: /Fill in plan before signing/ })).toBeVisible();
  await expect(page.getByLabel('Plan', { exact: true })).toBeFocused();
  await page.getByLabel('Plan', { exact: true }).fill('Keep the sleep diary; review in two weeks.');
  await page.getByRole('button', { name: 'Sign and lock note' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Note signed and locked.' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'SOAP note, signed' })).toBeFocused();
  await expect(page.getByRole('definition').filter({ hasText: 'Keep the sleep diary' })).toBeVisible();

  // Signed means locked: later changes are dated addenda.
  await page.getByLabel('Addendum', { exact: true }).fill('Client called: the improvement holds.');
  await page.getByRole('button', { name: 'Add addendum' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Addendum added.' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Addenda' })).toContainText('the improvement holds');
  const note = await request.get(`/api/v1/appointments/${session.id}/note`, { headers: { Authorization: `Bearer ${therapist.token}` } });
  const locked = await request.put(`/api/v1/appointments/${session.id}/note`, {
    headers: { Authorization: `Bearer ${therapist.token}`, 'If-Match': note.headers()['etag']! },
    data: { template: 'free', fields: { text: 'rewritten' } },
  });
  expect(locked.status()).toBe(409);

  // The rating is in the goal's progress history, comment included, for the therapist.
  await page.getByRole('link', { name: `Chart of ${client.displayName}` }).click();
  await page.getByRole('tab', { name: 'Progress' }).click();
  const history = page.getByRole('region', { name: 'Progress on Sleep through the night' });
  await expect(history.getByRole('row').nth(1)).toContainText('Progressing');
  await expect(history.getByRole('row').nth(1)).toContainText('Six hours on most nights');

  // The client reads the plan with the goal's progress (not the note's comment) and acknowledges it.
  const clientContext = await browser.newContext();
  const clientPage = await clientContext.newPage();
  await logIn(clientPage, client);
  await clientPage.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'My plan' }).click();
  await expect(clientPage.getByRole('heading', { level: 1, name: 'My plan' })).toBeVisible();
  await expect(clientPage.getByRole('heading', { name: 'Sleep through the night' })).toBeVisible();
  await expect(clientPage.getByText('PHQ-9 total below 10')).toBeVisible();
  const progress = clientPage.getByRole('list', { name: 'Progress on Sleep through the night' });
  await expect(progress).toContainText('Progressing');
  await expect(progress).not.toContainText('Six hours');
  await clientPage.getByRole('button', { name: 'I have read version 1 of my plan' }).click();
  await expect(clientPage.getByRole('status').filter({ hasText: 'You acknowledged this version on' })).toBeVisible();
  await clientContext.close();

  // The therapist sees the acknowledgement with the version.
  await page.getByRole('tab', { name: 'Plan' }).click();
  await expect(page.getByText(/Version 1 · saved .* · acknowledged by the client on/)).toBeVisible();
});

test('a draft save that fails stops signing: the new text stays, and signing later locks in the new text', async ({
  page,
  request,
}) => {
  test.setTimeout(180_000);
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  const session = await bookSessionStartingSoon(request, client, therapist);
  await completeSession(request, therapist, client, session);
  const auth = { Authorization: `Bearer ${therapist.token}` };
  const noteUrl = `/api/v1/appointments/${session.id}/note`;
  // A complete draft saved earlier, so only the save can stand between the click and the signature.
  const draft = await request.put(noteUrl, {
    headers: { ...auth, 'If-Match': '"v0"' },
    data: {
      template: 'soap',
      fields: { subjective: 'Sleeping better.', objective: 'Calm.', assessment: 'Improving.', plan: 'Review in four weeks.' },
    },
  });
  expect(draft.status(), await draft.text()).toBe(200);

  await logIn(page, therapist);
  await page.goto(`/therapist/appointments/${session.id}/note`);
  const planField = page.getByLabel('Plan', { exact: true });
  await expect(planField).toHaveValue('Review in four weeks.');

  // The server cannot save drafts for a while.
  const failSaves = (route: Route) =>
    route.request().method() === 'PUT'
      ? route.fulfill({
          status: 503,
          contentType: 'application/problem+json',
          body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'Try again in a moment.' }),
        })
      : route.fallback();
  await page.route(`**${noteUrl}`, failSaves);
  await planField.fill('Review in two weeks: sleep diary first.');
  await page.getByRole('button', { name: 'Sign and lock note' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Your latest changes could not be saved: Try again in a moment.' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: /^Not saved\. Your text stays here/ })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Sign and lock note' })).toBeEnabled();
  await expect(planField).toHaveValue('Review in two weeks: sleep diary first.');
  await expect(page.getByRole('heading', { name: 'SOAP note, signed' })).toHaveCount(0);
  const held = await request.get(noteUrl, { headers: auth });
  expect(((await held.json()) as { state: string }).state).toBe('draft');

  // Back up: signing saves the text on screen first and locks in that text.
  await page.unroute(`**${noteUrl}`, failSaves);
  await page.getByRole('button', { name: 'Sign and lock note' }).click();
  await expect(page.getByRole('heading', { name: 'SOAP note, signed' })).toBeFocused();
  await expect(page.getByRole('definition').filter({ hasText: 'Review in two weeks: sleep diary first.' })).toBeVisible();
  const signed = (await (await request.get(noteUrl, { headers: auth })).json()) as {
    state: string;
    document: { fields: Record<string, string> };
  };
  expect(signed.state).toBe('signed');
  expect(signed.document.fields.plan).toBe('Review in two weeks: sleep diary first.');
});

test('a client answers PHQ-9 item 9 above 0, sees crisis resources, and the therapist’s open page shows the alert', async ({
  page,
  browser,
  request,
}) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  await bookFirstSlot(request, client, therapist, 50, 'video');

  // The therapist sends the PHQ-9 from the client's chart, and leaves the page open.
  await logIn(page, therapist);
  await page.goto(`/therapist/clients/${client.id}`);
  // The chart's tabs work from the keyboard: arrows move between them, counted from the focused tab even when keys
  // come faster than the page re-renders (two key presses in one task; CI once saw the second one lost).
  await page.getByRole('tab', { name: 'Plan' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Progress' })).toBeFocused();
  await page.getByRole('tab', { name: 'Progress' }).evaluate((tab) => {
    for (const _ of [1, 2]) {
      tab.ownerDocument.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    }
  });
  await expect(page.getByRole('tab', { name: 'Sessions' })).toBeFocused();
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByRole('tab', { name: 'Measures' })).toBeFocused();
  await expect(page.getByRole('tab', { name: 'Measures' })).toHaveAttribute('aria-selected', 'true');
  const assign = page.getByRole('form', { name: 'Send a questionnaire' });
  await assign.getByRole('radio', { name: /PHQ-9/ }).check();
  await assign.getByRole('radio', { name: 'Once' }).check();
  await assign.getByRole('button', { name: 'Send questionnaire' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'PHQ-9 assigned once.' })).toBeVisible();
  const banner = page.getByRole('alert').filter({ hasText: 'Safety alert' });
  await expect(banner).toHaveCount(0);
  // Marks this document: if the page were reloaded, the mark would be gone.
  await page.evaluate(() => Object.assign(window, { hearthNoReload: true }));

  const clientContext = await browser.newContext();
  const clientPage = await clientContext.newPage();
  await logIn(clientPage, client);
  await clientPage.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Questionnaires' }).click();
  await clientPage.getByRole('list', { name: 'Questionnaires to answer now' }).getByRole('link', { name: 'Answer the PHQ-9' }).click();
  await expect(clientPage.getByRole('heading', { level: 1, name: 'PHQ-9' })).toBeVisible();

  // Every item needs an answer before the form is sent.
  await clientPage.getByRole('button', { name: 'Send my answers' }).click();
  const missing = clientPage.getByRole('alert').filter({ hasText: /Please answer question/ });
  await expect(missing).toContainText('1, 2, 3, 4, 5, 6, 7, 8, 9');
  await expect(missing).toBeFocused();
  for (let n = 1; n <= 8; n += 1) {
    await clientPage.getByRole('group', { name: new RegExp(`^${n}\\. `) }).getByRole('radio', { name: 'Not at all' }).check();
  }
  await clientPage.getByRole('button', { name: 'Send my answers' }).click();
  await expect(missing).toContainText('Please answer question 9 before sending.');
  await missing.getByRole('link', { name: 'Go to question 9' }).click();
  const item9 = clientPage.getByRole('group', { name: /^9\. Thoughts that you would be better off dead/ });
  await expect(item9.getByRole('radio', { name: 'Not at all' })).toBeFocused();
  await item9.getByRole('radio', { name: 'Several days' }).check();
  await clientPage.getByRole('button', { name: 'Send my answers' }).click();

  // Crisis resources come first, in an alert, and can be called or texted at once.
  const crisis = clientPage.getByRole('alert').filter({ hasText: 'You don’t have to go through this alone' });
  await expect(crisis).toBeVisible();
  await expect(crisis.getByRole('heading')).toBeFocused();
  await expect(crisis).toContainText('988 Suicide & Crisis Lifeline');
  await expect(crisis.getByRole('link', { name: 'Call 988' })).toHaveAttribute('href', 'tel:988');
  await expect(crisis.getByRole('link', { name: 'Text 988' })).toHaveAttribute('href', 'sms:988');
  await expect(clientPage.getByRole('status').filter({ hasText: 'Your PHQ-9 score: 1 of 27 (Minimal).' })).toBeVisible();

  // The therapist's page, open all along, shows the alert without a reload.
  await expect(banner).toBeVisible({ timeout: 15_000 });
  await expect(banner).toContainText(`${client.displayName} answered item 9 of the PHQ-9`);
  expect(await page.evaluate(() => (window as unknown as { hearthNoReload?: boolean }).hearthNoReload)).toBe(true);

  await banner.getByRole('link', { name: 'Review safety alerts' }).click();
  const open = page.getByRole('list', { name: 'Open safety alerts' });
  await expect(open.getByRole('listitem')).toHaveCount(1);
  await open.getByRole('button', { name: `Acknowledge the alert for ${client.displayName}` }).click();
  await expect(page.getByRole('status').filter({ hasText: `Alert for ${client.displayName} acknowledged.` })).toBeVisible();
  await expect(page.getByText('No open safety alerts.')).toBeVisible();

  // The score is in the client's chart: a trend chart and the same data as a table.
  await page.goto(`/therapist/clients/${client.id}?tab=measures`);
  await expect(page.getByRole('img', { name: /PHQ-9 scores over time/ })).toBeVisible();
  const table = page.getByRole('table', { name: 'PHQ-9 scores (table view of the chart)' });
  await expect(table.getByRole('row').nth(1)).toContainText('Minimal');
  await expect(page.getByRole('table', { name: /Every questionnaire/ })).toContainText('Item 9 answered above 0');

  // And in the client's own scores.
  await clientPage.getByRole('link', { name: 'See all my scores' }).click();
  await expect(clientPage.getByRole('img', { name: /PHQ-9 scores over time/ })).toBeVisible();
  await expect(clientPage.getByRole('table', { name: 'PHQ-9 scores (table view of the chart)' }).getByRole('row')).toHaveCount(2);
  await clientContext.close();
});

test('unsaved plan edits survive a background reload that fails', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  await bookFirstSlot(request, client, therapist, 50, 'video');
  const plan = { problems: ['Worry'], goals: [{ id: crypto.randomUUID(), text: 'Worry less', status: 'in_progress' }] };
  await writePlanViaApi(request, therapist, client.id, plan, '"v0"');

  await logIn(page, therapist);
  await page.goto(`/therapist/clients/${client.id}`);
  await expect(page.getByText(/^Version 1/)).toBeVisible();
  await page.getByLabel('Goal 1', { exact: true }).fill('Worry less at work');

  // The plan is reloaded in the background (the window regains focus) while the server is down.
  const planPath = `/api/v1/clients/${client.id}/plan`;
  const down = (route: Route) =>
    route.request().method() === 'GET'
      ? route.fulfill({
          status: 503,
          contentType: 'application/problem+json',
          body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'Try again in a moment.' }),
        })
      : route.fallback();
  const isPlan = (url: URL) => url.pathname === planPath;
  await page.route(isPlan, down);
  await page.evaluate(() => window.dispatchEvent(new Event('visibilitychange')));
  await expect(page.getByRole('alert').filter({ hasText: 'The plan could not be reloaded (Try again in a moment.)' })).toBeVisible();
  await expect(page.getByLabel('Goal 1', { exact: true })).toHaveValue('Worry less at work');

  // Back up: the edits are still there to save.
  await page.unroute(isPlan, down);
  await page.getByRole('button', { name: 'Save plan' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Plan saved: version 2.' })).toBeVisible();
  const saved = await request.get(planPath, { headers: { Authorization: `Bearer ${therapist.token}` } });
  const body = (await saved.json()) as { document: { goals: { text: string }[] } };
  expect(body.document.goals[0]!.text).toBe('Worry less at work');
});

test('a plan changed elsewhere is not overwritten, and private notes are the author’s alone', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  await bookFirstSlot(request, client, therapist, 50, 'video');
  const goalId = crypto.randomUUID();
  const plan = { problems: ['Worry'], goals: [{ id: goalId, text: 'Worry less', status: 'in_progress' }] };
  const v1 = await writePlanViaApi(request, therapist, client.id, plan, '"v0"');

  await logIn(page, therapist);
  await page.goto(`/therapist/clients/${client.id}`);
  await expect(page.getByText(/^Version 1/)).toBeVisible();
  await expect(page.getByLabel('Goal 1', { exact: true })).toHaveValue('Worry less');

  // Meanwhile the plan moves on in another tab.
  await writePlanViaApi(request, therapist, client.id, { ...plan, goals: [{ ...plan.goals[0]!, text: 'Worry less at night' }] }, v1);

  await page.getByLabel('Goal 1', { exact: true }).fill('Worry less at work');
  await page.getByRole('button', { name: 'Save plan' }).click();
  const conflict = page.getByRole('alert').filter({ hasText: 'your changes were not saved' });
  await expect(conflict).toBeVisible();
  await conflict.getByRole('button', { name: 'Reload plan' }).click();
  await expect(page.getByText(/^Version 2/)).toBeVisible();
  await expect(page.getByLabel('Goal 1', { exact: true })).toHaveValue('Worry less at night');

  // A status the server refuses (an open goal cannot go back to "not started") is not even offered.
  await expect(page.getByLabel('Status of goal 1').locator('option')).toHaveText(['In progress', 'Achieved', 'Revised', 'Discontinued']);

  // Private notes: clearly labelled, kept for their author.
  await page.getByRole('tab', { name: 'Plan' }).focus();
  await page.keyboard.press('End');
  await expect(page.getByRole('tab', { name: 'Private notes' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByText('Private: only you can read these.')).toBeVisible();
  await page.getByLabel('Private note', { exact: true }).fill('Transference: reminds me of a former client.');
  await page.getByRole('button', { name: 'Save private note' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Private note saved.' })).toBeVisible();
  const notes = page.getByRole('list', { name: 'Your private notes' });
  await expect(notes).toContainText('Transference');
  await notes.getByRole('button', { name: /^Edit/ }).click();
  await expect(notes.getByLabel('Private note', { exact: true })).toBeFocused();
  await notes.getByLabel('Private note', { exact: true }).fill('Transference: check in supervision.');
  await notes.getByRole('button', { name: 'Save changes' }).click();
  await expect(notes).toContainText('check in supervision');

  const listed = await request.get(`/api/v1/clients/${client.id}/psychotherapy-notes`, {
    headers: { Authorization: `Bearer ${therapist.token}` },
  });
  const [written] = ((await listed.json()) as { items: { id: string }[] }).items;
  const asClient = await request.get(`/api/v1/psychotherapy-notes/${written!.id}`, { headers: { Authorization: `Bearer ${client.token}` } });
  // The policy table closes the route to clients (403); the issue asks other callers for 404.
  expect(asClient.ok()).toBe(false);
  expect(await asClient.text()).not.toContain('supervision');
});
