from sitecensus.cli import main

main()
