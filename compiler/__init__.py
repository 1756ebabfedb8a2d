"""policyc: a compiler for customer-support policies.

The pipeline, one module per pass (see README, "How the compiler is built"):

    frontend/  text -> AST (parser.py, transform.py, nodes.py, replies_yaml.py)
    middle/    names and types (resolve.py), reply templates (templates.py),
               decision-table IR (ir.py, lower.py) and its reference evaluator (evaluate.py)
    backend/   IR -> Python module (python.py, through writer.py)
    runtime/   helpers copied verbatim into every generated module (support.py)

This package imports nothing heavy at import time; a generated module never imports it.
"""

__version__ = "0.1.0"
