"""Command-line subcommands (one module each); see `spectral_jax.cli`.

A command module defines ``HELP``, ``DESCRIPTION``, ``add_arguments(parser)`` and
``run(args) -> CommandResult``. Importing it must stay cheap: it imports neither JAX nor
the library at module level (``run`` does), so that parsing and ``--help`` are instant.
"""

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

#: the one-line help of each command in ``spectral-jax --help`` (each module's ``HELP``;
#: kept here so the listing imports no command module; a test checks they agree)
SUMMARIES = {
    "report": "reproduce the papers' results into a report (Markdown + HTML + PNG + JSON)",
    "spectrum": "eigenvalues of the Gram matrix of a shallow network: decay rate, "
    "conditioning, resolvable modes",
    "fit": "least-squares fit of a target in a shallow ReLU network basis or the P1 FEM basis",
    "rashomon": "estimate the Rashomon set measure P(||h - f|| <= eps ||f||) and its "
    "Hoeffding bound",
    "train": "train a shallow net or MLP by gradient flow/descent and track Fourier modes",
    "ntk": "empirical NTK of a network: timing, top eigenvalues, decay rate",
    "design": "design an activation whose spectral penalty is a target rho(k) and save it",
    "penalty": "print or plot the spectral penalty rho(k) = k^(D-1)/|F[phi](k)|^2 of activations",
    "bench": "run the benchmark suite in benchmarks/ (needs a source checkout)",
}
