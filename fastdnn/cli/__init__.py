"""The ``fastdnn`` command line: ``main`` and its exit codes.

Exit codes: 0 success; 2 bad usage, with argparse's usage line (a malformed or out-of-range
option value, or one that does not fit the data, like --layers); 1 a failure, with a
one-line error naming what failed (a missing or corrupted file, a diverged run; ``--debug``
shows the traceback); 130 interrupted.

parser.py: the commands and options; options.py: their values' rules; data.py: the files a
command reads; commands.py: train, sweep, predict; info.py: info.
"""
import os
import sys
import warnings

from .data import UsageError
from .parser import parser

__all__ = ["main", "parser", "UsageError"]


def _one_line_warning(message, category, *args, **kwargs):
    print(f"fastdnn: warning: {message}", file=sys.stderr)


def main(argv=None):
    warnings.showwarning = _one_line_warning      # library warnings as one line, no source
    args = parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()           # a closed pipe shows up here, not at interpreter exit
        return code
    except UsageError as exc:        # an option that does not fit the data: exit 2, usage
        args.command_parser.error(str(exc))
    except KeyboardInterrupt:
        print("fastdnn: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:          # the reader went away (e.g. `fastdnn info | head -1`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:          # one line for users; --debug for developers
        if args.debug:
            raise
        print(f"fastdnn: error: {exc}", file=sys.stderr)
        return 1
