import KimiCommands

KimiServe.main()
