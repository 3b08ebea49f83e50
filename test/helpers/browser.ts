import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';

const INSTALL_HINT =
  'Chromium is required by the browser tests (test/browser) and was not found. Install it with ' +
  '`apt-get install -y --no-install-recommends chromium` (Debian; the binary is /usr/bin/chromium, ' +
  '.ci/run does this), or set CHROMIUM_PATH to a Chromium/Chrome binary. playwright-core downloads ' +
  'no browser of its own.';

/** CHROMIUM_PATH, else `chromium` on PATH or /usr/bin/chromium; throws with install instructions. */
export function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  const candidates = fromEnv
    ? [fromEnv]
    : [
        ...(process.env.PATH ?? '')
          .split(path.delimiter)
          .filter(Boolean)
          .map((dir) => path.join(dir, 'chromium')),
        '/usr/bin/chromium',
      ];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(
    fromEnv ? `CHROMIUM_PATH=${fromEnv} is not an executable file. ${INSTALL_HINT}` : INSTALL_HINT,
  );
}

/** Headless Chromium from the system package (never a downloaded one). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  try {
    return await chromium.launch({
      executablePath,
      headless: true,
      // Root in CI containers: the sandbox needs user namespaces that containers rarely allow.
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
      timeout: 30_000,
    });
  } catch (err) {
    throw new Error(`could not launch Chromium at ${executablePath}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Where browser tests keep screenshots (git-ignored). */
export function artifactsDir(name: string): string {
  const dir = path.resolve(__dirname, '../../test-artifacts', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface UiPage {
  page: Page;
  /** Console errors and failed requests seen so far, for failure messages. */
  problems: string[];
}

/**
 * A page that can reach loopback only: the Web UI also fetches a news feed from temporal.io, which
 * is answered here with an empty feed so that no request leaves the machine.
 */
export async function openLoopbackPage(browser: Browser): Promise<UiPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  context.setDefaultTimeout(15_000);
  await context.route(
    (url) => url.hostname !== '127.0.0.1' && url.hostname !== 'localhost',
    (route) =>
      route.request().resourceType() === 'fetch' || route.request().resourceType() === 'xhr'
        ? route.fulfill({ status: 200, contentType: 'application/json', body: '[]' })
        : route.abort('blockedbyclient'),
  );
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (r) =>
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`),
  );
  return { page, problems };
}

export interface SignalFromUi {
  signal: string;
  /** Typed into the dialog's JSON editor as is. */
  input: string;
  /** Screenshot of the filled-in dialog, taken just before Submit. */
  screenshotPath?: string;
}

/**
 * Sends a signal through the workflow page's own "Send a Signal" dialog (More Actions → Send a
 * Signal), choosing the signal from the names the UI got from the workflow's registered handlers.
 * Resolves once the UI's signal request has been answered with success.
 */
export async function sendSignalFromWorkflowPage(page: Page, options: SignalFromUi): Promise<void> {
  // The workflow page loads its execution, then the actions; the first load of the SvelteKit app
  // on a busy machine can take a while.
  await page.getByRole('button', { name: /more actions/i }).click({ timeout: 30_000 });
  await page.getByRole('menuitem', { name: /send a signal/i }).click();

  const dialog = page.getByRole('dialog', { name: /send a signal/i });
  await dialog.waitFor({ state: 'visible' });

  // Signal name: a select listing the handlers the worker reports (__temporal_workflow_metadata).
  await dialog.getByRole('button', { name: /select a signal|signal name/i }).click();
  const option = dialog
    .getByRole('option')
    .filter({ has: page.getByText(options.signal, { exact: true }) })
    .first();
  await option.waitFor({ state: 'visible', timeout: 20_000 }).catch(async (err: Error) => {
    const offered = await dialog.getByRole('option').allInnerTexts();
    throw new Error(
      `the Send a Signal dialog does not offer "${options.signal}" (offered: ${JSON.stringify(offered)}); ` +
        `is a worker running for the workflow's task queue? ${err.message}`,
      { cause: err },
    );
  });
  await option.click();

  // Input: a CodeMirror editor (contenteditable, role textbox, labelled "Data").
  const editor = dialog.getByRole('textbox', { name: /data/i });
  await replaceEditorText(page, editor, options.input);
  const typed = (await editor.innerText()).trim();
  if (!sameJson(typed, options.input)) {
    throw new Error(`the signal input editor holds ${JSON.stringify(typed)}, not ${options.input}`);
  }

  const submit = dialog.getByRole('button', { name: /^submit$/i });
  await expectEnabled(submit);
  if (options.screenshotPath) await page.screenshot({ path: options.screenshotPath });

  const signalled = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(`/signal/${options.signal}`),
    { timeout: 20_000 },
  );
  await submit.click();
  const response = await signalled;
  if (!response.ok()) {
    throw new Error(`the Web UI's signal request failed: ${response.status()} ${await response.text()}`);
  }
  await dialog.waitFor({ state: 'hidden' });
}

async function replaceEditorText(page: Page, editor: Locator, text: string): Promise<void> {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text);
  // Editors that close brackets by themselves may have added a spare one after the cursor.
  if (!sameJson((await editor.innerText()).trim(), text)) {
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await editor.fill(text);
  }
}

async function expectEnabled(button: Locator): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await button.isEnabled())) {
    if (Date.now() > deadline) throw new Error("the dialog's Submit button stayed disabled");
    await new Promise((r) => setTimeout(r, 100));
  }
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}
