"""The language service: what an editor asks of a policy while it is being written.

    analyse(path, overlay) -> Analysis      compile unsaved text exactly as `policyc check`
    Analysis.index                          every declaration and reference, with spans
    symbols.hover / complete / rename       answers in the policy's own words (Korean labels)
    apply_fixes(texts, fixes)               the structured fixes diagnostics carry

`policyc lsp` (compiler/lsp.py) serves it over the Language Server Protocol, and
`policyc check --fix` applies its safe fixes; both go through `pipeline.compile_policy`, so
an editor and CI never disagree.
"""
