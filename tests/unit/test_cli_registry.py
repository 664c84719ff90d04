"""The command registry (`polyir.cli`): a command's options and its module are imported only when
the command is named, every command and sub-command reaches a function, and an import error is
an error, never a command dropped."""
from __future__ import annotations

import argparse

import pytest

import polyir.cli as cli
from polyir.cli import COMMANDS, build_parser, command_of, handler, main


@pytest.mark.parametrize("argv,command", [
    (["--help"], None), ([], None), (["-q", "train", "--config", "x"], "train"), (["--debug", "data", "stats"], "data"),
    (["--", "report"], "report"), (["trian"], None),
])
def test_the_command_is_the_first_word_that_is_not_an_option(argv, command):
    assert command_of(argv) == command


def _handlers(parser: argparse.ArgumentParser) -> list[str]:
    """Every handler reachable in ``parser``'s sub-commands."""
    found = [parser.get_default("handler")] if parser.get_default("handler") else []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _handlers(sub)
    return found


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_and_sub_command_reaches_a_function(command):
    parser = build_parser(command)
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    references = _handlers(commands.choices[command])
    assert references and all(callable(handler(reference)) for reference in references)


def test_help_lists_every_command_without_importing_it(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    assert all(f"    {name}" in listing and summary.split(" (")[0][:40] in " ".join(listing.split())
               for name, summary in COMMANDS.items())


def test_a_command_whose_options_fail_to_import_is_an_error_not_a_dropped_command(monkeypatch, capsys):
    monkeypatch.setitem(cli.COMMANDS, "broken", "a command whose module is missing")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "broken" in capsys.readouterr().out  # still listed
    with pytest.raises(ModuleNotFoundError) as err:
        main(["broken", "--help"])
    assert err.value.name == "polyir.cli.broken_options"


def test_a_handler_whose_module_fails_to_import_raises_the_import_error(monkeypatch):
    with pytest.raises(ModuleNotFoundError) as err:
        handler("no_such_module:run")
    assert err.value.name == "polyir.cli.no_such_module"

    def broken(name, *args):  # a module that exists but whose own import fails (a missing dependency)
        raise ImportError("No module named 'faiss'", name="faiss")

    monkeypatch.setattr(cli.importlib, "import_module", broken)
    with pytest.raises(ImportError, match="faiss"):
        main(["report", "results.db", "--out", "r"])
