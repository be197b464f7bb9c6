// The one formatting of captured browser console messages, shared by perfgate/playwright and
// perfgate/cypress: each message becomes `[<ISO time>] <LEVEL> <text>`, the envelope perfgate
// reads as the Cypress capture (README "Inputs"): the timestamp and the level are kept, the
// text is the message as the browser shows it. Lines after the first of a multi-line message
// follow as they are (perfgate reads them as that record's continuation).
"use strict";

// Console methods (Cypress) and Playwright's ConsoleMessage.type() values → the level word.
const LEVELS = {
  log: "LOG",
  info: "INFO",
  warn: "WARN",
  warning: "WARN",
  error: "ERROR",
  assert: "ERROR",
  debug: "DEBUG",
  trace: "DEBUG",
};

function level(type) {
  return LEVELS[type] || "LOG";
}

/** One captured message, `{ type, text, time }` (time in epoch ms), as the lines of a log. */
function formatLine({ type, text, time }) {
  const body = String(text).replace(/\r\n?/g, "\n");
  return `[${new Date(time).toISOString()}] ${level(type)} ${body}\n`;
}

function show(value, seen) {
  if (typeof value === "string") return value;
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return `ƒ ${value.name || "anonymous"}()`;
  if (typeof value === "symbol") return value.toString();
  if (value instanceof Error) return value.stack || `${value.name}: ${value.message}`;
  if (value === null || typeof value !== "object") return String(value);
  try {
    return JSON.stringify(value, (_key, v) => {
      if (typeof v === "bigint") return `${v}n`;
      if (v && typeof v === "object") {
        if (seen.has(v)) return "[Circular]";
        seen.add(v);
      }
      return v;
    });
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * The text of a console call's arguments as the browser prints it: a format string's `%s %d
 * %i %f %o %O %j` take the next arguments, `%c` takes its CSS argument and prints nothing,
 * `%%` is `%`; the other arguments follow, separated by spaces (objects as JSON).
 */
function formatArgs(args) {
  const rest = [...args];
  let head = "";
  if (typeof rest[0] === "string") {
    const format = rest.shift();
    head = format.replace(/%([sdifoOjc%])/g, (match, spec) => {
      if (spec === "%") return "%";
      if (rest.length === 0) return match;
      const arg = rest.shift();
      switch (spec) {
        case "c":
          return "";
        case "d":
        case "i":
          return typeof arg === "symbol" ? "NaN" : String(Number.parseInt(arg, 10));
        case "f":
          return typeof arg === "symbol" ? "NaN" : String(Number.parseFloat(arg));
        case "s":
          return typeof arg === "string" ? arg : show(arg, new WeakSet());
        default:
          return show(arg, new WeakSet());
      }
    });
  }
  const tail = rest.map((a) => show(a, new WeakSet()));
  return [head, ...tail].filter((part, i) => i > 0 || typeof args[0] === "string").join(" ");
}

/** `<name>-<epochms>.log`, the name made safe for any file system. */
function logFileName(name, time) {
  const safe =
    String(name)
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[-.]+|-+$/g, "")
      .slice(0, 120) || "console";
  return `${safe}-${time}.log`;
}

module.exports = { formatLine, formatArgs, logFileName, level };
