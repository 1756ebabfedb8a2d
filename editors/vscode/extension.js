// The policyc extension: starts `policyc lsp` (stdio) for .policy files and the reply and
// test YAML files beside them. Everything else (diagnostics, hover, completion, rename,
// formatting, quick fixes) is the language server's.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("policyc").get("command", ["policyc", "lsp"]);
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("policyc", "policyc", { run: server, debug: server }, {
    documentSelector: [
      { scheme: "file", language: "policy" },
      { scheme: "file", pattern: "**/*.replies.yaml" },
      { scheme: "file", pattern: "**/*.tests.yaml" },
    ],
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
