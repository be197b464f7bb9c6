// perfgate/playwright: writes the browser console of a Playwright page to a log perfgate reads.
//
//   const { captureConsole } = require("perfgate/playwright");
//   const capture = captureConsole(page, { dir: ".logs", name: "checkout" });
//   … // the page's console messages are kept, and written to .logs/checkout-<epochms>.log
//   … // when the page closes (or on capture.flush() / capture.stop())
//
//   // or the Playwright Test fixture: every test's page captured to .logs/<test title>-<ms>.log
//   const { test, expect } = require("perfgate/playwright");   // instead of @playwright/test
//   test.use({ perfgateLogs: { dir: "e2e-logs" } });            // optional
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { formatArgs, formatLine, logFileName } = require("./lib/format");

/**
 * Starts keeping `page`'s console messages; returns `{ path, flush(), stop() }`. The file
 * `dir/<name>-<epochms>.log` (epochms: when the capture started) is written on the page's
 * `close` event and on every flush() (appending what came since); nothing is written while no
 * message came. stop() stops listening, waits for the messages whose arguments are still being
 * read, and flushes (it returns a promise of the path).
 *
 * Playwright's message text joins the arguments without applying a format string
 * (`console.log("%c✅ Completed in %sms", css, 8.1)`), so such a message's arguments are read
 * from the page and formatted as the browser prints them, by the formatting perfgate/cypress
 * uses too; if the page closes first, the joined text is kept.
 */
function captureConsole(page, { dir = ".logs", name = "playwright" } = {}) {
  const file = path.join(dir, logFileName(name, Date.now()));
  let entries = [];
  const onConsole = (message) => {
    const type = message.type();
    // When the page logged it (Playwright 1.54+), else when it arrived here.
    const time = typeof message.timestamp === "function" ? message.timestamp() : Date.now();
    const text = message.text();
    const entry = { line: formatLine({ type, text, time }) };
    if (/%[sdifoOjc]/.test(text) && message.args().length > 1) {
      entry.pending = Promise.all(message.args().map((arg) => arg.jsonValue()))
        .then((values) => {
          entry.line = formatLine({ type, text: formatArgs(values), time });
        })
        .catch(() => {}) // the page is gone: keep the joined text
        .finally(() => {
          entry.pending = undefined;
        });
    }
    entries.push(entry);
  };
  const flush = () => {
    if (entries.length > 0) {
      fs.mkdirSync(dir, { recursive: true });
      fs.appendFileSync(file, entries.map((e) => e.line).join(""));
      entries = [];
    }
    return file;
  };
  const onClose = () => flush();
  page.on("console", onConsole);
  page.once("close", onClose);
  return {
    path: file,
    flush,
    async stop() {
      page.off("console", onConsole);
      page.off("close", onClose);
      await Promise.all(entries.map((e) => e.pending));
      return flush();
    },
  };
}

/**
 * `base` (Playwright Test's `test`) extended so that every test's `page` is captured, into
 * the `perfgateLogs` option's `dir` (default `.logs`), named after the test's title path.
 */
function extendTest(base) {
  return base.extend({
    perfgateLogs: [{ dir: ".logs" }, { option: true }],
    page: async ({ page, perfgateLogs }, use, testInfo) => {
      const name = testInfo.titlePath.join(" ");
      const capture = captureConsole(page, { dir: perfgateLogs.dir || ".logs", name });
      await use(page);
      await capture.stop();
    },
  });
}

let fixture;
module.exports = { captureConsole, extendTest };
// Loaded only when asked for: captureConsole works with playwright-core alone.
Object.defineProperty(module.exports, "test", {
  enumerable: true,
  get() {
    fixture = fixture || extendTest(require("@playwright/test").test);
    return fixture;
  },
});
Object.defineProperty(module.exports, "expect", {
  enumerable: true,
  get: () => require("@playwright/test").expect,
});
