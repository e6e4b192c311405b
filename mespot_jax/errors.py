"""Errors a user can act on.

`InputError` is raised for bad input (a corrupt video, a missing column, an
unreadable frame, an out-of-range label). Its message names the file, row or
frame and what was expected; the command-line entry points print it as one
line instead of a traceback.
"""


class InputError(ValueError):
  """Bad user input; the message says what to fix."""
