"""Command-line subcommands (one module each); see `spectral_jax.cli`."""

#: subcommand name -> module under spectral_jax.commands
COMMANDS = {
    "report": "report",
    "spectrum": "spectrum",
    "fit": "fit",
    "rashomon": "rashomon",
    "train": "train",
    "ntk": "ntk",
    "design": "design",
    "penalty": "penalty",
    "bench": "bench",
}
