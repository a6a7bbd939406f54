package server

func registerHashCommands(t table) {}
