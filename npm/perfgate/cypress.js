// perfgate/cypress: a support file that writes each spec's browser console to a log perfgate
// reads. In cypress/support/e2e.js (or .ts):
//
//   import "perfgate/cypress";
//
// Every window the spec loads has its console.log/info/warn/error/debug recorded (then passed
// on to the browser's console as usual); after the spec, the lines are written with
// cy.writeFile to <dir>/<spec name>-<epochms>.log, dir being Cypress.env("PERFGATE_LOGS_DIR")
// or `.logs` (relative to the project root). Nothing is written for a spec that logged nothing.
/* global Cypress, cy, after */
"use strict";

const { formatArgs, formatLine, logFileName } = require("./lib/format");

const METHODS = ["log", "info", "warn", "error", "debug"];
// The spec's own clock: cy.clock() stubs the application window's Date, not this one.
const now = Date.now.bind(Date);
const lines = [];

Cypress.on("window:before:load", (win) => {
  for (const method of METHODS) {
    const original = win.console[method];
    win.console[method] = function perfgateCapture(...args) {
      try {
        lines.push(formatLine({ type: method, text: formatArgs(args), time: now() }));
      } catch {
        // never break the application's logging
      }
      if (typeof original === "function") return original.apply(this, args);
      return undefined;
    };
  }
});

after(() => {
  if (lines.length === 0) return;
  const dir = Cypress.env("PERFGATE_LOGS_DIR") || ".logs";
  const file = `${dir}/${logFileName(Cypress.spec.name, now())}`;
  cy.writeFile(file, lines.splice(0).join(""), { log: false });
});
