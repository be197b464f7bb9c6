// perfgate's JavaScript side: the console formatting shared by perfgate/playwright and
// perfgate/cypress. The CLI itself is the `perfgate` bin (bin/perfgate).
"use strict";

module.exports = require("./format");
