"""`policyc serve`: a policy playground in the browser, served on this machine only.

    app.create_app(root, token, port) -> a Starlette app      (the API and the page)
    app.main(root, port, open_browser)                         binds 127.0.0.1, prints the URL

The page (static/, shipped in the wheel) edits a policy and its replies in CodeMirror 6
(bundled once into static/editor.bundle.js by scripts/build_editor.sh, so installing needs no
Node), fills a form generated from the policy's FACTS_SCHEMA, and shows what the policy
decides, why, and the reply. Every answer comes from the language service
(compiler/service), the same pipeline as `policyc check`.
"""
