// The TextMate grammar over every runbook in runbooks/ and tests/corpus/: no character of a known token is
// left unscoped (or marked illegal), reserved words are never scoped as plain identifiers, comments and
// strings are scoped as such. Run with `npm test` (node's test runner); CI runs it.
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.resolve(__dirname, "..", "..", "..");
const KEYWORDS = new Set(
  ("abort and approval attempts backoff body channel consecutive continue cooldown deadline description escalate " +
    "evaluate every expect failure files firing for from header http idempotent ignoring keep level max metric " +
    "not notify offset on or owner parallel promql required restore retry runbook shell snapshot step timeout " +
    "trigger under unless verify wait webhook within").split(" "),
);
// Characters that belong to some token of the language; anything else may be marked illegal.
const KNOWN = /[A-Za-z0-9_{}(),:="`#<>+\-*/%]/;

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== "source.runbook") return null;
      const file = path.join(__dirname, "..", "syntaxes", "runbook.tmLanguage.json");
      return vsctm.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
    },
  });
  return registry.loadGrammar("source.runbook");
}

/** Every token of a file: { line, start, text, scopes }. */
function tokenize(grammar, text) {
  const out = [];
  let state = vsctm.INITIAL;
  text.split(/\r?\n/).forEach((line, n) => {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) {
      out.push({ line: n + 1, start: t.startIndex, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    }
    state = r.ruleStack;
  });
  return out;
}

function runbookFiles() {
  return ["runbooks", path.join("tests", "corpus")].flatMap((dir) =>
    fs
      .readdirSync(path.join(root, dir))
      .filter((f) => f.endsWith(".runbook"))
      .map((f) => path.join(root, dir, f)),
  );
}

test("every known token in every runbook and corpus file is scoped", async () => {
  const grammar = await loadGrammar();
  const files = runbookFiles();
  assert.ok(files.length > 50, `only ${files.length} files found`);
  const problems = [];
  for (const file of files) {
    const name = path.relative(root, file);
    for (const t of tokenize(grammar, fs.readFileSync(file, "utf8").replace(/^\uFEFF/, ""))) {
      const inner = t.scopes.slice(1);
      const literal = inner.some((s) => s.startsWith("string.") || s.startsWith("comment."));
      [...t.text].forEach((ch, i) => {
        if (/\s/.test(ch) || !KNOWN.test(ch)) return;
        if (inner.length === 0 || (!literal && inner.some((s) => s.startsWith("invalid.illegal.character")))) {
          problems.push(`${name}:${t.line}:${t.start + i + 1} ${JSON.stringify(t.text)} scoped ${t.scopes.join(" ")}`);
        }
      });
      if (!literal && KEYWORDS.has(t.text) && inner.every((s) => s === "variable.other.runbook")) {
        problems.push(`${name}:${t.line}:${t.start + 1} keyword ${t.text} scoped as an identifier`);
      }
      if (!literal && t.text.startsWith("#")) {
        problems.push(`${name}:${t.line}:${t.start + 1} a comment not scoped as one`);
      }
    }
  }
  assert.deepStrictEqual(problems, []);
});

test("scopes of one line of each kind", async () => {
  const grammar = await loadGrammar();
  const text = [
    "runbook demo {",
    '  metric error_rate = promql `sum(rate(x[1m]))`',
    "  trigger errors: error_rate > 5% and avg_over(error_rate, 1h) offset 1d < 2 for 1m -> level 1 # note",
    '    step http POST "https://x/${env.TOKEN}\\n" timeout 30s',
    '  trigger disks: usage > on(instance) 1 unless ignoring(fstype) up == 0 -> level 2 { alert "DiskFull" labels { team "infra" } }',
    "  max series 50",
    "  trigger hot: cpu > 90 for 3 of 5 clear when cpu < 80 keep firing for 1m on no data fire -> level 1",
    "  trigger gaps: clear_rate > 1 on no data clear -> level 1",
    "}",
  ].join("\n");
  const scopeOf = (needle) => {
    const t = tokenize(grammar, text).find((t) => t.text === needle);
    assert.ok(t, `no token ${needle}`);
    return t.scopes[t.scopes.length - 1];
  };
  assert.strictEqual(scopeOf("runbook"), "storage.type.runbook.runbook");
  assert.strictEqual(scopeOf("demo"), "entity.name.namespace.runbook");
  assert.strictEqual(scopeOf("promql"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("errors"), "entity.name.function.trigger.runbook");
  assert.strictEqual(scopeOf("5%"), "constant.numeric.runbook");
  assert.strictEqual(scopeOf("1h"), "constant.numeric.runbook");
  assert.strictEqual(scopeOf("and"), "keyword.operator.logical.runbook");
  assert.strictEqual(scopeOf("avg_over"), "support.function.runbook");
  assert.strictEqual(scopeOf("offset"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("->"), "keyword.operator.arrow.runbook");
  assert.strictEqual(scopeOf("# note"), "comment.line.number-sign.runbook");
  assert.strictEqual(scopeOf("POST"), "constant.language.http-method.runbook");
  assert.strictEqual(scopeOf("${env.TOKEN}"), "variable.other.interpolation.runbook");
  assert.strictEqual(scopeOf("\\n"), "constant.character.escape.runbook");
  assert.strictEqual(scopeOf("sum(rate(x[1m]))"), "string.quoted.other.raw.runbook");
  assert.strictEqual(scopeOf("on"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("ignoring"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("unless"), "keyword.operator.logical.runbook");
  assert.strictEqual(scopeOf("alert"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("labels"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("series"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("of"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("clear"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("when"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("no"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("data"), "keyword.other.runbook");
  assert.strictEqual(scopeOf("fire"), "keyword.other.runbook");
  // The words are not reserved: a name that starts with one is a name.
  const clearRate = tokenize(grammar, text).find((t) => t.text === "clear_rate");
  assert.ok(clearRate, "clear_rate is one token");
});
