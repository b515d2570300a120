import sys

from sitecensus import stopflag   # first, before the heavy imports: see stopflag.py

if sys.argv[1:2] and sys.argv[1] in stopflag.SCANNING_COMMANDS:
    stopflag.install()

from sitecensus.cli import main  # noqa: E402

main()
