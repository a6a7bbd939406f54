package server

func registerSetCommands(t table) {}
