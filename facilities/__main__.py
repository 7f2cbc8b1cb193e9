from facilities.cli import main

main()
