from lensops.cli.app import main

main()
