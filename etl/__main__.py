from commands.etl_cli import run  # the command sits above the layers it uses (commands/__init__.py)

raise SystemExit(run())
