from newsdelta.cli import main

main()
