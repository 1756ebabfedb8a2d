"""policyc: a compiler for customer-support policies.

The pipeline, one module per pass (docs/architecture.md walks through it):

    frontend/  text -> AST with comments (parser.py, transform.py, nodes.py), YAML -> records
    middle/    names and types (resolve.py; the AST stops here), reply templates (templates.py),
               the typed IR (ir.py, lower.py, values.py) and its reference evaluator (evaluate.py)
    analysis/  what `policyc check` proves (space.py, mdd.py, encode.py, checks.py), and
               regions.py, the service the tools use
    backend/   IR -> Python module (python.py, writer.py, runtime_code.py), IR -> SQL (sql.py)
    runtime/   what generated modules run on (support.py; each carries the part it uses)
    tools/     the author and data tools; cli/ the command line

This package imports nothing heavy at import time; a generated module never imports it.
"""

__version__ = "0.1.0"
