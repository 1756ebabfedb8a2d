"""Tools for policy authors built on the compiler: test, explain, fmt, diff, doc, decide."""
