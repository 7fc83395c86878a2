"""``python -m gateway.cli``: the ``aiguilleur`` command."""

from gateway.cli.main import main

main()
