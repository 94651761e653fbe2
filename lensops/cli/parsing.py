"""How the command line reads to a person: help that names values the way a person would (`QUEUE`,
`ID...`, `DURATION`, a flag shows nothing), and a mistake on the command line reported as one line
with where to look, like every other error: `error: unknown option --bogus (see lensops enqueue --help)`.

Typer's defaults print Python types (`<str>`, `<list[int]>`, `{ID...}...`) and a boxed error of
five or six lines; these classes change only that presentation, never what is parsed.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

EXIT_USAGE = 2


class HumanArgument(TyperArgument):
    """An argument shown by its metavar: `QUEUE`, `[QUEUE]...`, `ID...`; no Python type beside it."""

    @property
    def display_name_raw(self) -> str:
        name = self.metavar or self.name.upper()
        return f"{name}..." if self.nargs != 1 and not name.endswith("...") else name

    def _usage_display_name(self) -> str:
        return self.display_name_raw if self.required else f"[{self.display_name_raw}]"

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class HumanOption(TyperOption):
    """An option shown with the kind of value it takes (`--in DURATION`), a flag with none."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar:
            return self.metavar
        longest = max(self.opts, key=len).lstrip("-")
        return longest.upper().replace("-", "_")


def humanize(params: list[Any]) -> None:
    """Show `params` the human way (their classes change; their parsing does not)."""
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = HumanArgument
        elif type(param) is TyperOption:
            param.__class__ = HumanOption


class HumanCommand(TyperCommand):
    """A command whose help shows human metavars."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # with --help, which is made on first use
        humanize(params)
        return params


class LensopsGroup(TyperGroup):
    """The `lensops` group: human metavars, and command-line mistakes as one line on stderr, exit 2."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # with --help and the shell-completion options
        humanize(params)
        return params

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            outcome = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:
            sys.stderr.write("error: aborted\n")
            outcome = 1
        except typer.TyperException as exc:  # the bundled Click's errors: usage and parameter mistakes
            if type(exc).__name__ == "NoArgsIsHelpError":
                outcome = EXIT_USAGE  # the help was printed: that is the answer to a bare `lensops`
            else:
                sys.stderr.write(f"error: {describe_usage_error(exc)}\n")
                outcome = getattr(exc, "exit_code", EXIT_USAGE)
        except Exception as exc:  # raised outside any command's own handling: still one line
            if debugging():
                raise
            sys.stderr.write(f"error: {unexpected(exc)}\n")
            outcome = 1
        if not standalone_mode:
            return outcome
        sys.exit(outcome if isinstance(outcome, int) else 0)


def describe_usage_error(exc: Exception) -> str:
    """One line saying what was wrong with the command line and which help to read."""
    option = getattr(exc, "option_name", None)
    if option and type(exc).__name__ == "NoSuchOption":
        message = f"unknown option {option}"
        near = sorted(getattr(exc, "possibilities", None) or [])
        if near:
            message += f" (did you mean {', '.join(near)}?)"
    else:
        text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        text = " ".join(text.split()).rstrip(".")
        message = text[:1].lower() + text[1:]
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see {ctx.command_path} --help)"
    return message


def debugging() -> bool:
    """LENSOPS_DEBUG=1 shows the traceback of an unexpected error instead of one line."""
    return os.environ.get("LENSOPS_DEBUG", "") not in ("", "0")


def unexpected(exc: BaseException) -> str:
    """One line for an error nobody foresaw: what it was, and how to see where it came from."""
    detail = " ".join(str(exc).split())[:300]
    return f"unexpected {type(exc).__name__}{': ' + detail if detail else ''} (a bug: LENSOPS_DEBUG=1 shows where)"
