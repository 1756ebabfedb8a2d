"""python -m compiler.cli"""

from . import entry

entry()
